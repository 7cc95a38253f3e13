import type { Router } from 'express';
import { listAudit, type AuditRow } from '../../db/repositories/auditLog';
import { envelopeOf, getEvent, listEvents } from '../../db/repositories/events';
import { EVENT_TYPES, isEventType } from '../../events/types';
import { ACCOUNTING } from '../auth';
import type { ResolvedDeps } from '../deps';
import { invalidParam, resourceMissing } from '../errors';
import { read } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { parseTimestamp } from '../validation';

// The event log (what webhooks deliver) and the audit log, read with filters. Both are append-only.

function createdRange(query: Record<string, unknown>) {
  const from = queryString(query, 'created_from');
  const to = queryString(query, 'created_to');
  return {
    createdFrom: from === undefined ? undefined : parseTimestamp(from, 'created_from'),
    createdTo: to === undefined ? undefined : parseTimestamp(to, 'created_to'),
  };
}

const auditJson = (a: AuditRow) => ({
  object: 'audit_entry',
  id: a.id,
  actor: { type: a.actor_type, id: a.actor_id },
  action: a.action,
  object_type: a.object_type,
  object_id: a.object_id,
  before: a.before,
  after: a.after,
  created_at: iso(new Date(a.created_at)),
});

export function registerEventRoutes(router: Router, deps: ResolvedDeps): void {
  router.get(
    '/events',
    read(deps, async ({ db, org, query }) => {
      const type = queryString(query, 'type');
      if (type !== undefined && !isEventType(type)) {
        throw invalidParam('type', `must be one of ${EVENT_TYPES.join(', ')}`);
      }
      const page = await listEvents(
        db,
        org.id,
        {
          type: type as (typeof EVENT_TYPES)[number] | undefined,
          objectId: queryString(query, 'object_id'),
          ...createdRange(query),
        },
        parsePage(query),
      );
      return { status: 200, body: listEnvelope(page, envelopeOf, (e) => e.id) };
    }),
  );

  router.get(
    '/events/:id',
    read(deps, async ({ db, org, params }) => {
      const event = await getEvent(db, org.id, params.id);
      if (!event) throw resourceMissing('event', params.id);
      return { status: 200, body: envelopeOf(event) };
    }),
  );

  router.get(
    '/audit-log',
    read(
      deps,
      async ({ db, org, query }) => {
        const page = await listAudit(
          db,
          org.id,
          {
            action: queryString(query, 'action'),
            objectId: queryString(query, 'object_id'),
            actorId: queryString(query, 'actor_id'),
            ...createdRange(query),
          },
          parsePage(query),
        );
        return { status: 200, body: listEnvelope(page, auditJson, (a) => a.id) };
      },
      ACCOUNTING,
    ),
  );
}
