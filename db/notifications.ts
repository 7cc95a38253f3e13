import type { Knex } from 'knex';
import type { Logger } from '../config/logger';

// A dedicated connection LISTENing on one PostgreSQL channel, reconnecting after any failure. NOTIFY is
// delivered at commit, but not to a connection that was down at the time: whoever listens catches up in
// onListening, which runs after every (re)connect once LISTEN is in place, so nothing committed in between
// is missed.

interface RawConnection {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', fn: (msg: { channel: string; payload?: string }) => void): void;
  on(event: 'error' | 'end', fn: (err?: Error) => void): void;
  removeAllListeners(): void;
}

export interface ListenerOptions {
  channel: string;
  log: Logger;
  onNotification: (payload: string) => void;
  /** After every (re)connect, once LISTEN is in place: reload or sweep whatever may have been missed. */
  onListening: () => Promise<void>;
  /** The connection is gone; until onListening runs again, notifications may be missed. */
  onLost?: () => void;
  reconnectMs?: number;
}

export interface Listener {
  /** Resolves after the first connect and onListening. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createListener(db: Knex, opts: ListenerOptions): Listener {
  const { channel, log } = opts;
  if (!/^[a-z_]+$/.test(channel)) throw new Error(`unsafe channel name: ${channel}`);
  const reconnectMs = opts.reconnectMs ?? 1000;
  let connection: RawConnection | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  function lost(): void {
    const old = connection;
    connection = undefined;
    if (old) {
      old.removeAllListeners();
      void db.client.destroyRawConnection(old).catch(() => undefined);
    }
    opts.onLost?.();
    if (!closed && !retry) {
      retry = setTimeout(() => {
        retry = undefined;
        connect().catch((err: unknown) => {
          log.warn('listener failed to reconnect', { channel, err });
          lost();
        });
      }, reconnectMs);
    }
  }

  async function connect(): Promise<void> {
    const conn = (await db.client.acquireRawConnection()) as RawConnection;
    conn.on('notification', (msg) => {
      if (msg.channel === channel && msg.payload) opts.onNotification(msg.payload);
    });
    conn.on('error', (err) => {
      log.warn('listener connection failed', { channel, err });
      if (connection === conn) lost();
    });
    conn.on('end', () => {
      if (connection === conn && !closed) lost();
    });
    connection = conn;
    await conn.query(`LISTEN ${channel}`);
    await opts.onListening();
  }

  return {
    start: connect,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const conn = connection;
      connection = undefined;
      if (conn) {
        conn.removeAllListeners();
        await db.client.destroyRawConnection(conn);
      }
    },
  };
}
