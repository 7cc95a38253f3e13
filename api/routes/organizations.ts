import type { Router } from 'express';
import { Organization, updateOrganization } from '../../db/repositories/organizations';
import type { ResolvedDeps } from '../deps';
import { resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { Body, optionalBoolean, optionalString, readBody, requiredTimeZone } from '../validation';

const organizationJson = (o: Organization) => ({
  object: 'organization',
  id: o.id,
  name: o.name,
  time_zone: o.timeZone,
  stop_charging_on_declined_hold: o.stopChargingOnDeclinedHold,
  created_at: iso(o.createdAt),
});

// An API key belongs to one organization: any other id is answered as unknown, never as forbidden.
function ownId(org: Organization, id: string): void {
  if (id !== org.id) throw resourceMissing('organization', id);
}

const has = (body: Body, key: string) => body[key] !== undefined && body[key] !== null;

export function registerOrganizationRoutes(router: Router, deps: ResolvedDeps): void {
  router.get(
    '/organizations/:id',
    read(deps, async ({ org, params }) => {
      ownId(org, params.id);
      return { status: 200, body: organizationJson(org) };
    }),
  );

  // time_zone sets the calendar of the monthly energy allowance (its month starts at local midnight).
  router.patch(
    '/organizations/:id',
    write(deps, async ({ db, org, params, body: raw }) => {
      ownId(org, params.id);
      const body = readBody(raw, ['name', 'time_zone', 'stop_charging_on_declined_hold']);
      const name = optionalString(body, 'name', { max: 200, trim: true });
      const timeZone = has(body, 'time_zone') ? requiredTimeZone(body, 'time_zone') : undefined;
      const stopCharging = optionalBoolean(body, 'stop_charging_on_declined_hold');
      const updated = await updateOrganization(db, org.id, {
        name,
        timeZone,
        stopChargingOnDeclinedHold: stopCharging,
      });
      if (!updated) throw resourceMissing('organization', params.id);
      return { status: 200, body: organizationJson(updated) };
    }),
  );
}
