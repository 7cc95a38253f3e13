import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Logger } from '../config/logger';
import { endpointsOverdue, fanOutEvents, type RetryPolicy } from '../db/repositories/webhookDeliveries';
import { wakeEndpoint, type WakeOptions } from './wake';

// Moves committed events from the outbox to their endpoints' deliveries, then wakes each endpoint's
// workflow. PostgreSQL's NOTIFY (a trigger on the outbox) starts a pass at once; a sweep catches what a
// lost notification or a relay that died between commit and signal left behind. Several relays (one per
// server replica) share the work: each locks the rows it moves and skips the others'.

export interface OutboxRelayOptions extends WakeOptions {
  db: Knex;
  client: Client;
  retry: RetryPolicy;
  log: Logger;
  sweepMs?: number;
  batchSize?: number;
}

export interface OutboxRelay {
  /** Resolves once listening, so events committed from now on are relayed without waiting for the sweep. */
  start(): Promise<void>;
  /** One pass now (tests and the sweep). */
  pass(): Promise<void>;
  close(): Promise<void>;
}

export function createOutboxRelay(opts: OutboxRelayOptions): OutboxRelay {
  const { db, log } = opts;
  const sweepMs = opts.sweepMs ?? 5_000;
  const batchSize = opts.batchSize ?? 1_000;
  let listener: { query(sql: string): Promise<unknown>; on(e: string, f: () => void): void } | undefined;
  let sweep: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  async function wake(endpoints: { id: string; organizationId: string }[]) {
    await Promise.all(
      endpoints.map((ep) =>
        wakeEndpoint(opts.client, ep, opts).catch((err) =>
          // The sweep wakes it later: its deliveries are committed.
          log.warn('webhook endpoint not woken', { endpointId: ep.id, err: (err as Error).message }),
        ),
      ),
    );
  }

  async function drain(): Promise<void> {
    for (;;) {
      const moved = await fanOutEvents(db, batchSize, opts.retry);
      await wake(moved.endpoints);
      if (moved.events < batchSize) return;
    }
  }

  function pass(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await drain();
        } catch (err) {
          if (!closed) log.warn('outbox relay pass failed', { err: (err as Error).message });
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  async function sweepOnce() {
    await pass();
    try {
      await wake(await endpointsOverdue(db, sweepMs));
    } catch (err) {
      if (!closed) log.warn('outbox relay sweep failed', { err: (err as Error).message });
    }
  }

  return {
    async start() {
      const connection = await db.client.acquireConnection();
      listener = connection;
      connection.on('notification', () => void pass());
      await connection.query('LISTEN outbox');
      sweep = setInterval(() => void sweepOnce(), sweepMs);
      void pass();
    },
    pass,
    async close() {
      closed = true;
      if (sweep) clearInterval(sweep);
      await running;
      if (listener) {
        await listener.query('UNLISTEN outbox').catch(() => undefined);
        await db.client.releaseConnection(listener);
      }
    },
  };
}
