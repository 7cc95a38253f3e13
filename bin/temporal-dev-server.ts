import { spawn, ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

const KEYWORD = 'Keyword';

/** Starts `temporal server start-dev` with a SQLite file, so sessions survive a restart of the local platform. */
export function spawnTemporalDevServer(opts: {
  bin: string;
  dataDir: string;
  port: number;
  uiPort: number;
}): ChildProcess {
  mkdirSync(opts.dataDir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(opts.dataDir, 'temporal.db'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--log-level',
    'error',
    ...ALL_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${KEYWORD}`]),
  ];
  return spawn(opts.bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function waitForTemporal(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} did not come up`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Registers the custom search attributes on a server we did not start (a cluster, Temporal Cloud needs the UI/tcld). */
export async function registerSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = ALL_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (existing.customAttributes ?? {})));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      // 2 = INDEXED_VALUE_TYPE_KEYWORD in temporal.api.enums.v1.IndexedValueType
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, 2])),
    });
  } finally {
    await connection.close();
  }
}
