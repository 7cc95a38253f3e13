import type { Knex } from 'knex';
import { newId } from '../ids';

export type CommandStatus = 'pending' | 'answered' | 'failed' | 'expired';

export interface ChargePointCommand {
  id: string;
  organizationId: string;
  chargePointId: string;
  identity: string;
  action: string;
  payload: object;
  idempotencyKey: string;
  status: CommandStatus;
  attempts: number;
  response: object | null;
  error: string | null;
  createdAt: Date;
  expiresAt: Date;
}

interface Row {
  id: string;
  organization_id: string;
  charge_point_id: string;
  identity: string;
  action: string;
  payload: object;
  idempotency_key: string;
  status: CommandStatus;
  attempts: number;
  response: object | null;
  error: string | null;
  created_at: Date;
  expires_at: Date;
}

const toCommand = (r: Row): ChargePointCommand => ({
  id: r.id,
  organizationId: r.organization_id,
  chargePointId: r.charge_point_id,
  identity: r.identity,
  action: r.action,
  payload: r.payload,
  idempotencyKey: r.idempotency_key,
  status: r.status,
  attempts: r.attempts,
  response: r.response,
  error: r.error,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

const withIdentity = (db: Knex) =>
  db('charge_point_commands as c')
    .join('charge_points as cp', 'cp.id', 'c.charge_point_id')
    .select('c.*', 'cp.identity');

export interface NewCommand {
  organizationId: string;
  chargePointId: string;
  action: string;
  payload: object;
  idempotencyKey: string;
  /** How long it may wait for the charge point to be connected. */
  ttlMs: number;
}

/** Queues a call for the bridge holding the charge point; the same idempotency key is the same command. */
export async function enqueueCommand(db: Knex, c: NewCommand): Promise<ChargePointCommand> {
  await db('charge_point_commands')
    .insert({
      id: newId('cmd'),
      organization_id: c.organizationId,
      charge_point_id: c.chargePointId,
      action: c.action,
      payload: JSON.stringify(c.payload),
      idempotency_key: c.idempotencyKey,
      expires_at: new Date(Date.now() + c.ttlMs),
    })
    .onConflict('idempotency_key')
    .ignore();
  const row = await withIdentity(db).where('c.idempotency_key', c.idempotencyKey).first();
  return toCommand(row);
}

/** Closes pending commands past their TTL, so a charge point that comes back after hours gets no stale stop. */
export async function expireOverdueCommands(db: Knex): Promise<void> {
  await db('charge_point_commands')
    .where({ status: 'pending' })
    .where('expires_at', '<=', db.fn.now())
    .update({ status: 'expired' });
}

/** Takes the oldest unexpired pending command of one of these charge points that nobody holds, for leaseMs. */
export async function claimNextCommand(
  db: Knex,
  chargePointIdentities: string[],
  leaseMs: number,
): Promise<ChargePointCommand | undefined> {
  if (chargePointIdentities.length === 0) return undefined;
  const result = await db.raw(
    `UPDATE charge_point_commands SET claimed_until = now() + (? * interval '1 millisecond'), attempts = attempts + 1
      WHERE id = (
        SELECT c.id FROM charge_point_commands c JOIN charge_points cp ON cp.id = c.charge_point_id
         WHERE c.status = 'pending' AND c.expires_at > now() AND cp.identity = ANY(?)
           AND (c.claimed_until IS NULL OR c.claimed_until < now())
         ORDER BY c.created_at LIMIT 1 FOR UPDATE OF c SKIP LOCKED)
      RETURNING id`,
    [leaseMs, chargePointIdentities],
  );
  const id = result.rows[0]?.id as string | undefined;
  if (!id) return undefined;
  return toCommand(await withIdentity(db).where('c.id', id).first());
}

/** The charge point's answer, or why there will be none; `pending` hands it back for a later attempt. */
export async function settleCommand(
  db: Knex,
  id: string,
  outcome:
    | { status: 'answered'; response: object }
    | { status: 'failed'; error: string }
    | { status: 'pending'; error: string },
): Promise<void> {
  await db('charge_point_commands')
    .where({ id })
    .update({
      status: outcome.status,
      claimed_until: null,
      response: outcome.status === 'answered' ? JSON.stringify(outcome.response) : null,
      error: outcome.status === 'answered' ? null : outcome.error,
      answered_at: outcome.status === 'answered' ? db.fn.now() : null,
    });
}

export async function findCommandByKey(
  db: Knex,
  idempotencyKey: string,
): Promise<ChargePointCommand | undefined> {
  const row = await withIdentity(db).where('c.idempotency_key', idempotencyKey).first();
  return row && toCommand(row);
}

/** Gives up on a command nobody has sent yet; false when a bridge already has it on the wire (or done). */
export async function expireIfUnsent(db: Knex, id: string): Promise<boolean> {
  const count = await db('charge_point_commands')
    .where({ id, status: 'pending' })
    .where((q) => q.whereNull('claimed_until').orWhere('claimed_until', '<', db.fn.now()))
    .update({ status: 'expired' });
  return count > 0;
}
