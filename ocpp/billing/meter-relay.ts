import type { Knex } from 'knex';
import type { Logger } from '../../config/logger';
import type { MeterReading } from '../../workflows/charging-session/messages';
import type { SessionBridge } from './session-bridge';

// Durable MeterValues: accept() commits the readings to meter_inbox (db/migrations/008) and the charge point
// gets its answer; the readings then reach the session's workflow as one signal per batch, in arrival order.
// A signal that fails leaves the rows for the next attempt (a poke
// or the sweep); a resent batch is harmless, the workflow drops readings it already has.

export interface MeterRelay {
  accept(session: { id: string; workflow_id: string }, readings: MeterReading[]): Promise<void>;
  /** Relays everything waiting for this workflow; StopTransaction calls it so readings precede the stop. */
  flush(workflowId: string): Promise<void>;
  start(): void;
  close(): Promise<void>;
}

const BATCH_ROWS = 500;

export function createMeterRelay(
  db: Knex,
  sessions: Pick<SessionBridge, 'sendReadings'>,
  opts: { log: Logger; sweepMs?: number },
): MeterRelay {
  const { log } = opts;
  let sweep: NodeJS.Timeout | undefined;

  async function relayOnce(workflowId: string): Promise<void> {
    for (;;) {
      const rows: { id: string; readings: MeterReading[] }[] = await db('meter_inbox')
        .where({ workflow_id: workflowId })
        .orderBy('id')
        .limit(BATCH_ROWS)
        .select('id', 'readings');
      if (rows.length === 0) return;
      const delivered = await sessions.sendReadings(
        workflowId,
        rows.flatMap((r) => r.readings),
      );
      // No workflow to take them (finished long ago): the session was billed without them; say so.
      if (!delivered)
        log.warn('meter values for a session that has ended', { workflowId, rows: rows.length });
      await db('meter_inbox')
        .where({ workflow_id: workflowId })
        .where('id', '<=', rows[rows.length - 1].id)
        .delete();
      if (rows.length < BATCH_ROWS) return;
    }
  }

  // Per workflow one relay runs at a time. A flush asked for while one runs shares the single run queued
  // after it, which sees every row committed by then: under load, many acknowledged messages become one
  // signal instead of a queue of relays.
  const slots = new Map<string, { current: Promise<void>; next?: Promise<void> }>();

  function advance(workflowId: string, slot: { current: Promise<void>; next?: Promise<void> }): void {
    void slot.current
      .catch(() => undefined)
      .then(() => {
        if (slot.next) {
          slot.current = slot.next;
          slot.next = undefined;
          advance(workflowId, slot);
        } else slots.delete(workflowId);
      });
  }

  function flush(workflowId: string): Promise<void> {
    const slot = slots.get(workflowId);
    if (!slot) {
      const created = { current: relayOnce(workflowId) };
      slots.set(workflowId, created);
      advance(workflowId, created);
      return created.current;
    }
    slot.next ??= slot.current.catch(() => undefined).then(() => relayOnce(workflowId));
    return slot.next;
  }

  async function sweepAll(): Promise<void> {
    const waiting: string[] = await db('meter_inbox')
      .distinct('workflow_id')
      .limit(1000)
      .pluck('workflow_id');
    await Promise.all(
      waiting.map((id) =>
        flush(id).catch((err: unknown) =>
          log.warn('meter relay failed; kept for the next sweep', { workflowId: id, err }),
        ),
      ),
    );
  }

  return {
    async accept(session, readings) {
      if (readings.length === 0) return;
      await db('meter_inbox').insert({
        session_id: session.id,
        workflow_id: session.workflow_id,
        readings: JSON.stringify(readings),
      });
      flush(session.workflow_id).catch((err: unknown) =>
        log.warn('meter relay failed; kept for the next sweep', { workflowId: session.workflow_id, err }),
      );
    },
    flush,
    start() {
      sweep = setInterval(() => void sweepAll(), opts.sweepMs ?? 2000);
      void sweepAll();
    },
    async close() {
      if (sweep) clearInterval(sweep);
      await Promise.allSettled([...slots.values()].flatMap((slot) => [slot.current, slot.next]));
    },
  };
}
