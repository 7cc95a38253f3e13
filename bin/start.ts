// The local platform in one command: tools, Temporal dev server, database, Stripe fake, demo data, worker,
// API and OCPP bridge. Production runs bin/worker.js and bin/server.js against real services instead.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { STRIPE_WEBHOOK_PATH } from '../api/routes/provider-webhooks';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, loadDotEnv } from '../config/env';
import { createDb, ensureDatabase, migrateLatest } from '../db/knex';
import { seedDemo } from './seed-demo';
import { registerSearchAttributes, spawnTemporalDevServer, waitForTemporal } from './temporal-dev-server';

const root = path.resolve(__dirname, '../..');
const children: { name: string; proc: ChildProcess }[] = [];
let stopping = false;

function track(name: string, proc: ChildProcess): ChildProcess {
  children.push({ name, proc });
  proc.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${name} exited (${signal ?? code}); stopping the platform`);
    void stopAll(1);
  });
  return proc;
}

function node(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  return track(
    name,
    spawn(process.execPath, [path.join(root, 'dist/bin', script)], { env, stdio: 'inherit' }),
  );
}

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const { name, proc } of [...children].reverse()) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    proc.kill('SIGTERM');
    const exited = await Promise.race([
      new Promise<boolean>((r) => proc.once('exit', () => r(true))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    if (!exited) {
      console.error(`${name} did not stop in 10 s; killing it`);
      proc.kill('SIGKILL');
    }
  }
  process.exit(code);
}

async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  loadDotEnv();
  const config = loadConfig();
  const dataDir = path.resolve(root, config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env };

  let temporalUi = '(external Temporal: see its own UI)';
  if (!config.temporalAddress) {
    execFileSync('bash', [path.join(root, 'scripts/setup-tools.sh')], { stdio: 'inherit' });
    const port = 7233;
    track(
      'temporal',
      spawnTemporalDevServer({ bin: path.join(root, '.tools/bin/temporal'), dataDir, port, uiPort: 8233 }),
    );
    env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
    temporalUi = 'http://127.0.0.1:8233';
    await waitForTemporal(env.TEMPORAL_ADDRESS);
    // A dev server started on an existing .data/temporal.db keeps the attributes it had: add new ones.
    await registerSearchAttributes(env.TEMPORAL_ADDRESS, config.temporalNamespace);
  } else {
    await waitForTemporal(config.temporalAddress);
    await registerSearchAttributes(config.temporalAddress, config.temporalNamespace);
  }

  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  await migrateLatest(db);
  const demo = await seedDemo(db, dataDir);
  await db.destroy();

  let stripe = config.stripeApiBase ?? 'https://api.stripe.com';
  if (!config.stripeApiBase && !process.env.STRIPE_SECRET_KEY) {
    const fakePort = process.env.FAKE_STRIPE_PORT || '12111';
    // The fake sends its webhooks (refunds, disputes, ...) to the API, as Stripe would.
    const webhookUrl = `http://${config.host}:${config.apiPort}/api/v1/billing${STRIPE_WEBHOOK_PATH}`;
    node('fake-stripe', 'fake-stripe.js', {
      ...env,
      FAKE_STRIPE_PORT: fakePort,
      FAKE_STRIPE_WEBHOOK_URL: process.env.FAKE_STRIPE_WEBHOOK_URL || webhookUrl,
    });
    stripe = `http://127.0.0.1:${fakePort}`;
    env.STRIPE_API_BASE = stripe;
    await waitForHttp(`${stripe}/v1/payment_intents`);
  }

  // A local mail catcher with a web inbox, unless e-mail goes to a real SMTP server.
  let mail = `${config.smtpUrl} (external)`;
  if (!process.env.SMTP_URL) {
    // maildev exports only an ESM entry, not its bin or package.json: the installed path it is.
    const maildev = path.join(root, 'node_modules/maildev/dist/bin/maildev.js');
    const smtpPort = new URL(config.smtpUrl).port || '1025';
    track(
      'maildev',
      spawn(
        process.execPath,
        [
          maildev,
          '--smtp',
          smtpPort,
          '--ip',
          '127.0.0.1',
          '--web',
          String(config.mailWebPort),
          '--web-ip',
          '127.0.0.1',
          '--mail-directory',
          path.join(dataDir, 'mail'),
        ],
        { env, stdio: ['ignore', 'ignore', 'inherit'] },
      ),
    );
    mail = `http://127.0.0.1:${config.mailWebPort}  (local inbox; SMTP ${config.smtpUrl})`;
    await waitForHttp(`http://127.0.0.1:${config.mailWebPort}/`);
  }

  node('worker', 'worker.js', env);
  node('server', 'server.js', env);
  const api = `http://${config.host}:${config.apiPort}/api/v1/billing`;
  await waitForHttp(api);

  console.log(
    [
      '',
      'EV billing platform is up (Ctrl-C stops everything):',
      `  Temporal        ${env.TEMPORAL_ADDRESS ?? config.temporalAddress}  (namespace ${config.temporalNamespace})`,
      `  Temporal UI     ${temporalUi}`,
      `  PostgreSQL      ${config.databaseUrl.replace(/\/\/[^@]*@/, '//')}`,
      `  Stripe          ${stripe}${env.STRIPE_API_BASE === stripe && !config.stripeApiBase ? ' (local stateful fake)' : ''}`,
      `  API             ${api}`,
      `  E-mail          ${mail}`,
      `  OCPP 1.6J       ws://${config.host}:${config.ocppPort}/ocpp/<charge point identity>`,
      '',
      `  Demo API key    ${demo.apiKeyFile} (Authorization: Bearer <key>)`,
      `  Demo charger    ${demo.chargePointIdentity} (password in ${demo.apiKeyFile}), id tag ${demo.idTag}`,
      '  Try it:         npm run simulate',
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error('start failed:', err instanceof Error ? err.message : err);
  void stopAll(1);
});
