import { existsSync } from 'node:fs';

// All configuration comes from environment variables (documented in .env.example); defaults are the local
// platform's, so `npm start` works on a fresh machine with PostgreSQL on 127.0.0.1.
export interface Config {
  databaseUrl: string;
  temporalAddress: string | undefined;
  temporalNamespace: string;
  taskQueue: string;
  apiPort: number;
  ocppPort: number;
  host: string;
  stripeSecretKey: string;
  stripeApiBase: string | undefined;
  /** Signing secret of the Stripe webhook endpoint (`whsec_...`); the local fake signs with the default. */
  stripeWebhookSecret: string;
  defaultHoldAmount: string;
  dataDir: string;
  /** SMTP server e-mail goes through; locally the MailDev catcher npm start runs. */
  smtpUrl: string;
  mailFrom: string;
  /** Web inbox of the local mail catcher (npm start only). */
  mailWebPort: number;
  /** The operator, printed as the seller on invoices and credit notes. */
  seller: { name: string; address: string[]; vatNumber: string | null; email: string | null };
  /** Undecided exemptions remind the approvers after this, and expire after that (counted from the request). */
  exemptionRemindAfterSeconds: number;
  exemptionExpireAfterSeconds: number;
  /** A month's invoice waits this long after the month ends for sessions from offline charge points. */
  invoiceGraceSeconds: number;
  /** A hold placed before a remote start waits this long for its StartTransaction, then is released. */
  preAuthorizationTimeoutSeconds: number;
  /** Accounting webhooks: retries back off from base to max and stop after the window; see docs/webhooks.md. */
  webhooks: {
    retry: { baseMs: number; maxMs: number; windowMs: number };
    disableAfterMs: number;
    timeoutMs: number;
  };
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number.parseInt(raw, 10);
  if (!Number.isInteger(value) || value < 0 || String(value) !== raw.trim()) {
    throw new Error(`environment variable ${name} must be a non-negative integer, got "${raw}"`);
  }
  return value;
}

/** Reads a .env file in the working directory when there is one; variables already set win. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    databaseUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/ev_billing',
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE || 'ev-billing',
    apiPort: int('API_PORT', 3000),
    ocppPort: int('OCPP_PORT', 9000),
    host: env.HOST || '127.0.0.1',
    stripeSecretKey: env.STRIPE_SECRET_KEY || 'sk_test_local_fake',
    stripeApiBase: env.STRIPE_API_BASE || undefined,
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET || 'whsec_local_fake',
    defaultHoldAmount: env.DEFAULT_HOLD_AMOUNT || '50.00',
    dataDir: env.DATA_DIR || '.data',
    smtpUrl: env.SMTP_URL || 'smtp://127.0.0.1:1025',
    mailFrom: env.MAIL_FROM || 'EV Billing <billing@localhost>',
    mailWebPort: int('MAIL_WEB_PORT', 1080),
    seller: {
      name: env.SELLER_NAME || 'EV Billing Operator',
      // Lines separated by "|", e.g. "Königsallee 1|40212 Düsseldorf|DE".
      address: (env.SELLER_ADDRESS || '').split('|').filter((l) => l.trim() !== ''),
      vatNumber: env.SELLER_VAT_NUMBER || null,
      email: env.SELLER_EMAIL || null,
    },
    exemptionRemindAfterSeconds: int('EXEMPTION_REMIND_AFTER_SECONDS', 3 * 24 * 3600),
    exemptionExpireAfterSeconds: int('EXEMPTION_EXPIRE_AFTER_SECONDS', 14 * 24 * 3600),
    invoiceGraceSeconds: int('INVOICE_GRACE_SECONDS', 3 * 24 * 3600),
    preAuthorizationTimeoutSeconds: int('PRE_AUTHORIZATION_TIMEOUT_SECONDS', 180),
    webhooks: {
      retry: {
        baseMs: int('WEBHOOK_RETRY_BASE_SECONDS', 30) * 1000,
        maxMs: int('WEBHOOK_RETRY_MAX_SECONDS', 6 * 3600) * 1000,
        windowMs: int('WEBHOOK_RETRY_WINDOW_SECONDS', 3 * 24 * 3600) * 1000,
      },
      disableAfterMs: int('WEBHOOK_DISABLE_AFTER_SECONDS', 3 * 24 * 3600) * 1000,
      timeoutMs: int('WEBHOOK_TIMEOUT_SECONDS', 10) * 1000,
    },
  };
}
