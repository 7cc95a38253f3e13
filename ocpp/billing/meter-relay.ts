import type { Knex } from 'knex';
import type { Logger } from '../../config/logger';
import type { MeterReading } from '../../workflows/charging-session/messages';
import type { SessionBridge } from './session-bridge';

// Durable MeterValues: accept() commits the readings to meter_inbox (db/migrations/008) and the charge point
// gets its answer; the readings then reach the session's workflow as one signal per batch, in arrival order.
// A signal that fails leaves the rows for the next attempt (a pass or the sweep); a resent batch is
// harmless, the workflow drops readings it already has.
//
// Why group commits and one relay loop: at 1,000 MeterValues/s a statement per message and two per relay
// kept the pool saturated and put queueing, not PostgreSQL, into the acknowledgement latency
// (docs/ocpp-bridge.md). Now each commit carries every message that arrived during the previous one, and a
// relay pass reads the whole inbox in one query, signals each workflow once, and deletes by id.

export interface MeterRelay {
  accept(session: { id: string; workflow_id: string }, readings: MeterReading[]): Promise<void>;
  /** Relays everything committed so far; StopTransaction calls it so readings precede the stop. */
  flush(workflowId: string): Promise<void>;
  start(): void;
  close(): Promise<void>;
}

export interface MeterRelayOptions {
  log: Logger;
  /** How often the inbox is swept for rows a dead bridge left behind. */
  sweepMs?: number;
  /** The shortest gap between passes started by new readings: under load, more readings share a signal. */
  passGapMs?: number;
  /** The gap after a pass in which a signal failed (Temporal unreachable), so it is not hammered. */
  retryGapMs?: number;
}

interface InboxRow {
  session_id: string;
  workflow_id: string;
  readings: string;
}
interface Pending {
  row: InboxRow;
  settle: (err?: unknown) => void;
}

const INSERT_ROWS = 1000;
const PASS_ROWS = 5000;
const SIGNAL_ROWS = 500;
const SIGNALS_IN_FLIGHT = 32;

export function createMeterRelay(
  db: Knex,
  sessions: Pick<SessionBridge, 'sendReadings'>,
  opts: MeterRelayOptions,
): MeterRelay {
  const { log } = opts;
  const passGapMs = opts.passGapMs ?? 50;
  const retryGapMs = opts.retryGapMs ?? opts.sweepMs ?? 2000;

  // One INSERT in flight; whatever arrives meanwhile waits and goes in the next one. A message is answered
  // only when the statement that holds it has committed.
  const pending: Pending[] = [];
  let inserting = false;

  // One pass at a time. A pass asked for while one runs shares the single pass queued after it, which sees
  // every row committed by then. A flush and a pass never send the same workflow's rows at once.
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  let lastPassEnd = 0;
  let lastPassFailed = false;
  const inPass = new Set<string>();
  const flushing = new Set<string>();

  async function drainInserts(): Promise<void> {
    inserting = true;
    while (pending.length > 0) {
      const batch = pending.splice(0, INSERT_ROWS);
      try {
        await db('meter_inbox').insert(batch.map((p) => p.row));
        for (const p of batch) p.settle();
        schedulePass();
      } catch (err) {
        for (const p of batch) p.settle(err);
      }
    }
    inserting = false;
  }

  async function signalWorkflow(workflowId: string, rows: { id: string; readings: MeterReading[] }[]) {
    for (let at = 0; at < rows.length; at += SIGNAL_ROWS) {
      const chunk = rows.slice(at, at + SIGNAL_ROWS);
      const delivered = await sessions.sendReadings(
        workflowId,
        chunk.flatMap((r) => r.readings),
      );
      // No workflow to take them (finished long ago): the session was billed without them; say so.
      if (!delivered)
        log.warn('meter values for a session that has ended', { workflowId, rows: chunk.length });
    }
  }

  async function relayWorkflow(workflowId: string): Promise<void> {
    for (;;) {
      const rows: { id: string; readings: MeterReading[] }[] = await db('meter_inbox')
        .where({ workflow_id: workflowId })
        .orderBy('id')
        .limit(PASS_ROWS)
        .select('id', 'readings');
      if (rows.length === 0) return;
      await signalWorkflow(workflowId, rows);
      await db('meter_inbox')
        .whereIn(
          'id',
          rows.map((r) => r.id),
        )
        .delete();
      if (rows.length < PASS_ROWS) return;
    }
  }

  /** Whether a workflow's signal failed. */
  async function relayPass(): Promise<boolean> {
    const failed = new Map<string, unknown>();
    for (;;) {
      const rows: { id: string; workflow_id: string; readings: MeterReading[] }[] = await db('meter_inbox')
        .orderBy('id')
        .limit(PASS_ROWS)
        .select('id', 'workflow_id', 'readings');
      if (rows.length === 0) break;
      const byWorkflow = new Map<string, { id: string; readings: MeterReading[] }[]>();
      for (const row of rows) {
        if (flushing.has(row.workflow_id)) continue;
        inPass.add(row.workflow_id);
        const list = byWorkflow.get(row.workflow_id) ?? [];
        list.push(row);
        byWorkflow.set(row.workflow_id, list);
      }
      const relayed: string[] = [];
      const queue = [...byWorkflow.entries()];
      await Promise.all(
        Array.from({ length: Math.min(SIGNALS_IN_FLIGHT, queue.length) }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            const [workflowId, list] = next;
            try {
              await signalWorkflow(workflowId, list);
              relayed.push(...list.map((r) => r.id));
            } catch (err) {
              failed.set(workflowId, err);
            }
          }
        }),
      );
      // A partly sent workflow keeps all its rows: resending is harmless, skipping is not.
      if (relayed.length > 0) await db('meter_inbox').whereIn('id', relayed).delete();
      inPass.clear();
      if (failed.size > 0) {
        log.warn('meter relay failed; kept for the next pass', {
          workflows: failed.size,
          err: failed.values().next().value,
        });
        break;
      }
      if (rows.length < PASS_ROWS) break;
    }
    return failed.size > 0;
  }

  function pass(): Promise<void> {
    if (!running) {
      running = relayPass()
        .then(
          (failed) => void (lastPassFailed = failed),
          (err: unknown) => {
            lastPassFailed = true;
            throw err;
          },
        )
        .finally(() => {
          lastPassEnd = Date.now();
          running = undefined;
          inPass.clear();
        });
      return running;
    }
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return pass();
      });
    return queued;
  }

  let passTimer: NodeJS.Timeout | undefined;
  let sweep: NodeJS.Timeout | undefined;
  let closed = false;

  function schedulePass(): void {
    if (passTimer || closed) return;
    const wait = Math.max(0, lastPassEnd + (lastPassFailed ? retryGapMs : passGapMs) - Date.now());
    passTimer = setTimeout(() => {
      passTimer = undefined;
      pass().catch((err: unknown) => log.warn('meter relay pass failed; kept for the next one', { err }));
    }, wait);
  }

  return {
    accept(session, readings) {
      if (readings.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.push({
          row: {
            session_id: session.id,
            workflow_id: session.workflow_id,
            readings: JSON.stringify(readings),
          },
          settle: (err) => (err === undefined ? resolve() : reject(err)),
        });
        if (!inserting) void drainInserts();
      });
    },
    // Only this workflow's rows, without waiting for a pass over everyone's: a StopTransaction waits on it.
    async flush(workflowId) {
      flushing.add(workflowId);
      try {
        if (inPass.has(workflowId)) await running?.catch(() => undefined);
        await relayWorkflow(workflowId);
      } finally {
        flushing.delete(workflowId);
      }
    },

    start() {
      sweep = setInterval(schedulePass, opts.sweepMs ?? 2000);
      schedulePass();
    },
    async close() {
      closed = true;
      if (sweep) clearInterval(sweep);
      if (passTimer) clearTimeout(passTimer);
      await Promise.allSettled([running, queued]);
    },
  };
}
