import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { MonthlyRunActivities } from '../../activities/monthly-run';
import type { AllowanceReset } from '../../db/repositories/allowances';
import { BILLING_STATUS } from '../search-attributes';

const { resetAllowancesForPeriod } = proxyActivities<MonthlyRunActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface AllowanceResetInput {
  organizationId: string;
  /** The month that opens, yyyy-mm in the organization's time zone. */
  period: string;
}

export const allowanceResetWorkflowId = (organizationId: string, period: string) =>
  `allowance-reset:${organizationId}:${period}`;

/** `allowance-reset:<org_id>:<yyyy-mm>`: closes last month's allowance usage and opens this one at zero. */
export async function allowanceReset(input: AllowanceResetInput): Promise<AllowanceReset> {
  const result = await resetAllowancesForPeriod(input);
  upsertSearchAttributes([{ key: BILLING_STATUS, value: 'done' }]);
  return result;
}
