import type { Knex } from 'knex';
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { getOrganization, Organization } from '../db/repositories/organizations';
import {
  capturesByProviderIds,
  capturesIn,
  deliveriesOf,
  disputesFor,
  earliestHoldOfCaptures,
  refundsFor,
} from '../db/repositories/reconciliationSources';
import { saveReport } from '../db/repositories/reconciliations';
import type { CreatedRange, ProviderRecords } from '../payments/provider-records';
import { reconcile } from '../payments/reconciliation';
import { dateFromEpochDay, epochDayOf, localParts, localToInstant } from '../pricing/local-time';
import type { ReconciliationResult } from '../workflows/reconciliation/messages';

export interface ReconciliationDeps {
  db: Knex;
  /** The provider's records; without them reconciliation fails at once instead of retrying. */
  records?: ProviderRecords;
}

const addDays = (date: string, days: number) => dateFromEpochDay(epochDayOf(date) + days);

async function organization(db: Knex, id: string): Promise<Organization> {
  const org = await getOrganization(db, id);
  if (!org) throw ApplicationFailure.nonRetryable(`organization ${id} does not exist`, 'OrganizationMissing');
  return org;
}

/** Every page, with a heartbeat now and then, so a stuck listing fails the attempt instead of hanging it. */
async function collect<T>(what: string, items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    out.push(item);
    if (out.length % 100 === 0) heartbeat({ what, fetched: out.length });
  }
  heartbeat({ what, fetched: out.length });
  return out;
}

export function createReconciliationActivities({ db, records }: ReconciliationDeps) {
  return {
    /**
     * The local day before the schedule's nominal time, and when the lag after it has passed: a catch-up or
     * a backfill reconciles the day it stands for.
     */
    async planDailyReconciliation(input: {
      organizationId: string;
      nominalTime: string;
      lagSeconds: number;
    }): Promise<{ from: string; to: string; notBefore: string }> {
      const org = await organization(db, input.organizationId);
      const to = localParts(org.timeZone, Date.parse(input.nominalTime)).date;
      const notBefore = localToInstant(org.timeZone, to, 0) + input.lagSeconds * 1000;
      return { from: addDays(to, -1), to, notBefore: new Date(notBefore).toISOString() };
    },

    /** Compares both sides over [from, to) in local dates and stores the report, replacing the range's last. */
    async reconcileRange(input: {
      organizationId: string;
      from: string;
      to: string;
      lagSeconds: number;
      workflowId?: string;
    }): Promise<ReconciliationResult> {
      if (!records) {
        throw ApplicationFailure.nonRetryable(
          'reconciliation needs the payment provider records (ActivityDeps.records); the worker has none',
          'ProviderRecordsMissing',
        );
      }
      const org = await organization(db, input.organizationId);
      const lagMs = input.lagSeconds * 1000;
      const range = {
        from: new Date(localToInstant(org.timeZone, input.from, 0)),
        to: new Date(localToInstant(org.timeZone, input.to, 0)),
      };
      // The provider dates a payment by its hold, which a long session places well before the capture.
      const window: CreatedRange = {
        from: new Date(range.from.getTime() - lagMs),
        to: new Date(range.to.getTime() + lagMs),
      };
      const hold = await earliestHoldOfCaptures(db, org.id, range);
      const paymentsFrom = hold && hold < window.from ? new Date(hold.getTime() - lagMs) : window.from;

      const provider = {
        payments: await collect('payments', records.listPayments({ from: paymentsFrom, to: window.to })),
        refunds: await collect('refunds', records.listRefunds(window)),
        disputes: await collect('disputes', records.listDisputes(window)),
        balanceTransactions: await collect('balance transactions', records.listBalanceTransactions(window)),
      };

      const captures = await capturesIn(db, org.id, range);
      const known = new Set(captures.map((c) => c.providerPaymentId));
      const mentioned = new Set<string>();
      for (const x of [...provider.payments, ...provider.refunds, ...provider.disputes])
        mentioned.add(x.paymentId);
      for (const bt of provider.balanceTransactions) if (bt.paymentId) mentioned.add(bt.paymentId);
      captures.push(
        ...(await capturesByProviderIds(
          db,
          org.id,
          [...mentioned].filter((id) => !known.has(id)),
        )),
      );
      const refunds = await refundsFor(
        db,
        org.id,
        range,
        provider.refunds.map((r) => r.refundId),
      );
      const disputes = await disputesFor(
        db,
        org.id,
        range,
        provider.disputes.map((d) => d.disputeId),
      );
      const deliveries = await deliveriesOf(db, org.id, [
        ...captures.map((c) => c.id),
        ...refunds.map((r) => r.id),
      ]);

      const asOf = new Date();
      const result = reconcile({
        organizationId: org.id,
        currency: org.currency,
        range,
        lagMs,
        asOf,
        platform: { captures, refunds, disputes, deliveries },
        provider,
      });
      const report = await saveReport(db, {
        organizationId: org.id,
        fromDate: input.from,
        toDate: input.to,
        timeZone: org.timeZone,
        lagSeconds: input.lagSeconds,
        workflowId: input.workflowId ?? null,
        generatedAt: asOf,
        result,
      });
      return {
        reportId: report.id,
        from: report.fromDate,
        to: report.toDate,
        status: report.status,
        currency: report.currency,
        differenceCount: report.differenceCount,
        deferredCount: report.deferredCount,
        totals: report.totals,
      };
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
