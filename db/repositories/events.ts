import type { Knex } from 'knex';
import { EVENT_VERSION, type EventEnvelope, type EventType } from '../../events/types';
import { newId } from '../ids';
import { fetchPage, Page, PageRequest } from './pagination';

// The outbox is the event log. recordEvent runs inside the transaction of the change it describes, so an
// event exists exactly when its change committed. One event per type and object: a retried activity that
// repeats its change records nothing twice.

export interface NewEvent {
  organizationId: string;
  type: EventType;
  objectType: string;
  objectId: string;
  object: Record<string, unknown>;
}

export interface EventRow {
  id: string;
  seq: string;
  organization_id: string;
  type: EventType;
  version: number;
  object_type: string | null;
  object_id: string;
  payload: Record<string, unknown>;
  created_at: Date;
  published_at: Date | null;
}

export async function recordEvent(trx: Knex, e: NewEvent): Promise<void> {
  await trx('outbox')
    .insert({
      id: newId('evt'),
      organization_id: e.organizationId,
      type: e.type,
      version: EVENT_VERSION,
      object_type: e.objectType,
      object_id: e.objectId,
      payload: JSON.stringify(e.object),
    })
    .onConflict(['type', 'object_id'])
    .ignore();
}

export function envelopeOf(row: EventRow): EventEnvelope {
  return {
    id: row.id,
    object: 'event',
    type: row.type,
    version: row.version,
    created: row.created_at.toISOString(),
    organization_id: row.organization_id,
    data: { object_type: row.object_type ?? 'unknown', object_id: row.object_id, object: row.payload },
  };
}

export async function getEvent(db: Knex, organizationId: string, id: string): Promise<EventRow | undefined> {
  return db<EventRow>('outbox').where({ organization_id: organizationId, id }).first();
}

export interface EventFilter {
  type?: EventType;
  objectId?: string;
  createdFrom?: Date;
  createdTo?: Date;
}

export function eventsQuery(db: Knex, organizationId: string, f: EventFilter): Knex.QueryBuilder {
  const query = db('outbox').where({ organization_id: organizationId });
  if (f.type) query.where({ type: f.type });
  if (f.objectId) query.where({ object_id: f.objectId });
  if (f.createdFrom) query.where('created_at', '>=', f.createdFrom);
  if (f.createdTo) query.where('created_at', '<', f.createdTo);
  return query;
}

export async function listEvents(
  db: Knex,
  organizationId: string,
  f: EventFilter,
  page: PageRequest,
): Promise<Page<EventRow>> {
  return fetchPage(eventsQuery(db, organizationId, f), page, 'id', (r: EventRow) => r);
}
