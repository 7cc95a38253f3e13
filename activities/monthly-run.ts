import type { Knex } from 'knex';
import { ApplicationFailure } from '@temporalio/common';
import { AllowanceReset, resetAllowances } from '../db/repositories/allowances';
import { periodBounds, periodOf, previousPeriod } from '../pricing/calendar-months';
import { getOrganization } from '../db/repositories/organizations';

export interface MonthlyRunPlan {
  /** The last full month before the nominal time: its invoice closes. */
  closingPeriod: string;
  /** The month the nominal time falls in: its allowances open. */
  openingPeriod: string;
  /** The closing period's end plus the grace time for late sessions (ISO 8601). */
  invoiceNotBefore: string;
}

export function createMonthlyRunActivities({
  db,
  invoiceGraceMs = 3 * 86_400_000,
}: {
  db: Knex;
  invoiceGraceMs?: number;
}) {
  return {
    /** Periods from the schedule's nominal time, in the organization's time zone: catch-ups bill the right month. */
    async planMonthlyRun(input: { organizationId: string; nominalTime: string }): Promise<MonthlyRunPlan> {
      const org = await getOrganization(db, input.organizationId);
      if (!org)
        throw ApplicationFailure.nonRetryable(
          `organization ${input.organizationId} does not exist`,
          'OrganizationMissing',
        );
      const nominal = new Date(input.nominalTime);
      const openingPeriod = periodOf(org.timeZone, nominal);
      const { start } = periodBounds(org.timeZone, openingPeriod);
      const closingPeriod = previousPeriod(openingPeriod);
      return {
        closingPeriod,
        openingPeriod,
        invoiceNotBefore: new Date(start.getTime() + invoiceGraceMs).toISOString(),
      };
    },

    async resetAllowancesForPeriod(input: {
      organizationId: string;
      period: string;
    }): Promise<AllowanceReset> {
      return resetAllowances(db, input.organizationId, input.period);
    },
  };
}

export type MonthlyRunActivities = ReturnType<typeof createMonthlyRunActivities>;
