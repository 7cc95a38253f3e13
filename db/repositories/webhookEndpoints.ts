import type { Knex } from 'knex';
import { newWebhookSecret } from '../../webhooks/signature';
import { newId } from '../ids';
import { type Actor, appendAudit } from './auditLog';
import { fetchPage, Page, PageRequest } from './pagination';

export type EndpointStatus = 'enabled' | 'disabled';

export interface WebhookEndpoint {
  id: string;
  organizationId: string;
  url: string;
  description: string | null;
  enabledEvents: string[];
  status: EndpointStatus;
  disabledReason: string | null;
  disabledAt: Date | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface EndpointRow {
  id: string;
  organization_id: string;
  url: string;
  description: string | null;
  enabled_events: string[];
  status: EndpointStatus;
  disabled_reason: string | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id,
  organizationId: r.organization_id,
  url: r.url,
  description: r.description,
  enabledEvents: r.enabled_events,
  status: r.status,
  disabledReason: r.disabled_reason,
  disabledAt: r.disabled_at,
  failingSince: r.failing_since,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Answers the endpoint and its first secret, which is shown to the caller this once. */
export async function createEndpoint(
  trx: Knex,
  e: { organizationId: string; url: string; description: string | null; enabledEvents: string[] },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const [row] = await trx<EndpointRow>('webhook_endpoints')
    .insert({
      id: newId('we'),
      organization_id: e.organizationId,
      url: e.url,
      description: e.description,
      enabled_events: e.enabledEvents,
      status: 'enabled',
    })
    .returning('*');
  const secret = newWebhookSecret();
  await trx('webhook_secrets').insert({ id: newId('whsec'), endpoint_id: row.id, secret });
  return { endpoint: toEndpoint(row), secret };
}

export async function getEndpoint(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<WebhookEndpoint | undefined> {
  const row = await db<EndpointRow>('webhook_endpoints')
    .where({ organization_id: organizationId, id })
    .first();
  return row && toEndpoint(row);
}

export async function findEndpoint(db: Knex, id: string): Promise<WebhookEndpoint | undefined> {
  const row = await db<EndpointRow>('webhook_endpoints').where({ id }).first();
  return row && toEndpoint(row);
}

export async function listEndpoints(
  db: Knex,
  organizationId: string,
  page: PageRequest,
): Promise<Page<WebhookEndpoint>> {
  return fetchPage(
    db('webhook_endpoints').where({ organization_id: organizationId }),
    page,
    'id',
    toEndpoint,
  );
}

export interface EndpointChange {
  url?: string;
  description?: string | null;
  enabledEvents?: string[];
  status?: EndpointStatus;
}

export async function updateEndpoint(trx: Knex, id: string, c: EndpointChange): Promise<WebhookEndpoint> {
  const values: Record<string, unknown> = { updated_at: trx.fn.now() };
  if (c.url !== undefined) values.url = c.url;
  if (c.description !== undefined) values.description = c.description;
  if (c.enabledEvents !== undefined) values.enabled_events = c.enabledEvents;
  if (c.status === 'disabled') {
    Object.assign(values, {
      status: 'disabled',
      disabled_reason: 'disabled through the API',
      disabled_at: trx.fn.now(),
    });
  }
  if (c.status === 'enabled') {
    Object.assign(values, {
      status: 'enabled',
      disabled_reason: null,
      disabled_at: null,
      failing_since: null,
    });
  }
  const [row] = await trx<EndpointRow>('webhook_endpoints').where({ id }).update(values).returning('*');
  return toEndpoint(row);
}

/** A failing endpoint is switched off; answers false when it was off already. */
export async function disableFailingEndpoint(db: Knex, id: string, reason: string): Promise<boolean> {
  const count = await db('webhook_endpoints').where({ id, status: 'enabled' }).update({
    status: 'disabled',
    disabled_reason: reason,
    disabled_at: db.fn.now(),
    updated_at: db.fn.now(),
  });
  return count === 1;
}

/** A success clears the failing streak; the first failure after one starts it. */
export async function noteEndpointHealth(db: Knex, id: string, succeeded: boolean): Promise<Date | null> {
  if (succeeded) {
    await db('webhook_endpoints').where({ id }).whereNotNull('failing_since').update({ failing_since: null });
    return null;
  }
  const [row] = await db('webhook_endpoints')
    .where({ id })
    .update({ failing_since: db.raw('COALESCE(failing_since, now())') })
    .returning('failing_since');
  return row?.failing_since ?? null;
}

/** The secrets deliveries are signed with now: the current one and any still inside its overlap. */
export async function liveSecrets(db: Knex, endpointId: string): Promise<string[]> {
  const rows = await db('webhook_secrets')
    .where({ endpoint_id: endpointId })
    .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()))
    .orderBy('created_at', 'desc')
    .select('secret');
  return rows.map((r) => r.secret as string);
}

/**
 * A new secret signs from now on; the previous ones keep signing until `overlapSeconds` have passed, so a
 * receiver can switch without missing a delivery.
 */
export async function rotateSecret(
  trx: Knex,
  endpoint: WebhookEndpoint,
  overlapSeconds: number,
  actor: Actor,
): Promise<{ secret: string; previousExpiresAt: Date }> {
  const previousExpiresAt = new Date(Date.now() + overlapSeconds * 1000);
  await trx('webhook_secrets')
    .where({ endpoint_id: endpoint.id })
    .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', previousExpiresAt))
    .update({ expires_at: previousExpiresAt });
  const secret = newWebhookSecret();
  const id = newId('whsec');
  await trx('webhook_secrets').insert({ id, endpoint_id: endpoint.id, secret });
  // The audit keeps which secret replaced which, never the secrets themselves.
  await appendAudit(trx, {
    organizationId: endpoint.organizationId,
    actor,
    action: 'webhook_endpoint.secret_rotated',
    objectType: 'webhook_endpoint',
    objectId: endpoint.id,
    before: { previous_secrets_expire_at: previousExpiresAt.toISOString() },
    after: { secret_id: id },
  });
  return { secret, previousExpiresAt };
}

/** The organization's owners, to tell when an endpoint is switched off. */
export async function ownerEmails(db: Knex, organizationId: string): Promise<string[]> {
  const rows = await db('members')
    .where({ organization_id: organizationId, role: 'owner' })
    .whereNull('removed_at')
    .select('email');
  return rows.map((r) => r.email as string);
}
