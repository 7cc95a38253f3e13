import type { Router } from 'express';
import {
  getOrphanSession,
  listOrphanSessions,
  OrphanSession,
  resolveOrphanSession,
} from '../../db/repositories/orphanSessions';
import type { ResolvedDeps } from '../deps';
import { invalidParam, resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { readBody, requiredString } from '../validation';

const orphanJson = (o: OrphanSession) => ({
  object: 'orphan_session',
  id: o.id,
  charge_point_id: o.chargePointId,
  transaction_id: o.transactionId,
  id_tag: o.idTag,
  meter_stop_wh: o.meterStopWh,
  stopped_at: iso(o.stoppedAt),
  stop_reason: o.stopReason,
  transaction_data: o.transactionData,
  received_at: iso(o.receivedAt),
  resolved_at: iso(o.resolvedAt),
  resolution: o.resolution,
});

// Stops of transactions the platform never saw; the operator works through the unresolved ones.
export function registerOrphanSessionRoutes(router: Router, deps: ResolvedDeps): void {
  router.get(
    '/orphan-sessions',
    read(deps, async ({ db, org, query }) => {
      const resolved = queryString(query, 'resolved');
      if (resolved !== undefined && resolved !== 'true' && resolved !== 'false') {
        throw invalidParam('resolved', 'must be true or false');
      }
      const page = await listOrphanSessions(db, org.id, parsePage(query), {
        resolved: resolved === undefined ? undefined : resolved === 'true',
      });
      return { status: 200, body: listEnvelope(page, orphanJson, (o) => o.id) };
    }),
  );

  router.get(
    '/orphan-sessions/:id',
    read(deps, async ({ db, org, params }) => {
      const orphan = await getOrphanSession(db, org.id, params.id);
      if (!orphan) throw resourceMissing('orphan session', params.id);
      return { status: 200, body: orphanJson(orphan) };
    }),
  );

  router.post(
    '/orphan-sessions/:id/resolve',
    write(deps, async ({ db, org, params, body: raw }) => {
      const resolution = requiredString(readBody(raw, ['resolution']), 'resolution', {
        max: 1000,
        trim: true,
      });
      const orphan = await resolveOrphanSession(db, org.id, params.id, resolution);
      if (!orphan) throw resourceMissing('orphan session', params.id);
      return { status: 200, body: orphanJson(orphan) };
    }),
  );
}
