import type { Router } from 'express';
import { appendAudit } from '../../db/repositories/auditLog';
import { AllowanceStatus, getAllowanceStatus, setAllowance } from '../../db/repositories/allowances';
import { getUser } from '../../db/repositories/users';
import type { ResolvedDeps } from '../deps';
import { resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { readBody, requiredDecimal } from '../validation';

// energy_allowances.monthly_kwh is numeric(12,3), but the month's usage is numeric(12,6): six integer digits
// keep every allowance within what usage can count up to.
const MONTHLY_KWH = { maxDecimals: 3, maxIntegerDigits: 6 };

const allowanceJson = (s: AllowanceStatus) => ({
  object: 'energy_allowance',
  ...s,
  period_start: iso(s.period_start),
  resets_at: iso(s.resets_at),
});

export function registerAllowanceRoutes(router: Router, deps: ResolvedDeps): void {
  router.get(
    '/monthly-energy/users/:user_id/allowance',
    read(deps, async ({ db, org, params }) => {
      const status = await getAllowanceStatus(db, org.id, params.user_id, new Date());
      if (!status) {
        // Undefined both for an unknown user and for one without an allowance: tell the two apart.
        if (!(await getUser(db, org.id, params.user_id))) throw resourceMissing('user', params.user_id);
        throw resourceMissing('energy allowance for user', params.user_id);
      }
      return { status: 200, body: allowanceJson(status) };
    }),
  );

  // Replaces the allowance; a change applies to the current month too (its usage so far is kept).
  router.put(
    '/monthly-energy/users/:user_id/allowance',
    write(deps, async ({ db, org, principal, params, body: raw }) => {
      const monthlyKwh = requiredDecimal(readBody(raw, ['monthly_kwh']), 'monthly_kwh', MONTHLY_KWH);
      const now = new Date();
      const before = await getAllowanceStatus(db, org.id, params.user_id, now);
      if (!(await setAllowance(db, org.id, params.user_id, monthlyKwh)))
        throw resourceMissing('user', params.user_id);
      const after = allowanceJson((await getAllowanceStatus(db, org.id, params.user_id, now))!);
      // The free kWh are what the driver's price depends on; setting the same amount again changes nothing.
      if (before?.allowance_kwh !== after.allowance_kwh) {
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'energy_allowance.set',
          objectType: 'energy_allowance',
          objectId: params.user_id,
          before: before && allowanceJson(before),
          after,
        });
      }
      return { status: 200, body: after };
    }),
  );
}
