import type { Knex } from 'knex';
import { ApplicationFailure } from '@temporalio/common';
import {
  markPayoutPaid,
  markPayoutRefused,
  openPayout,
  Payout,
  reopenPayout,
} from '../db/repositories/payouts';
import { findParty, RevenueParty } from '../db/repositories/revenueParties';
import {
  computeStatement,
  findStatement,
  PeriodOutOfOrderError,
  RevenueStatement,
} from '../db/repositories/revenueStatements';
import { Dec, toMinorUnits } from '../pricing/money';
import { PaymentProvider, PaymentRejectedError } from '../payments/port';
import { payoutWorkflowId } from '../workflows/payout/messages';

export interface PayoutDeps {
  db: Knex;
  payments: PaymentProvider;
}

export interface StatementSummary {
  statementId: string;
  currency: string;
  balance: string;
  payoutAmount: string;
  carriedOut: string;
}

export interface PayoutOutcome {
  /** null when the statement pays nothing (the balance carries). */
  payoutId: string | null;
  method: Payout['method'] | null;
  /** 'none' when nothing is paid out this period. */
  status: Payout['status'] | 'none';
  amount: string;
  providerTransferId: string | null;
}

async function party(db: Knex, id: string): Promise<RevenueParty> {
  const found = await findParty(db, id);
  if (!found) throw ApplicationFailure.nonRetryable(`revenue party ${id} does not exist`, 'PartyMissing');
  return found;
}

async function statement(db: Knex, id: string): Promise<RevenueStatement> {
  const found = await findStatement(db, id);
  if (!found) throw ApplicationFailure.nonRetryable(`statement ${id} does not exist`, 'StatementMissing');
  return found;
}

const outcome = (p: Payout): PayoutOutcome => ({
  payoutId: p.id,
  method: p.method,
  status: p.status,
  amount: p.amount,
  providerTransferId: p.providerTransferId,
});

export function createPayoutActivities({ db, payments }: PayoutDeps) {
  return {
    /** The party's statement of the month; the first one asked for settles the organization's month. */
    async computeStatement(input: { partyId: string; period: string }): Promise<StatementSummary> {
      let found: RevenueStatement | undefined;
      try {
        found = await computeStatement(db, input.partyId, input.period);
      } catch (err) {
        if (err instanceof PeriodOutOfOrderError) {
          throw ApplicationFailure.nonRetryable(err.message, 'PeriodOutOfOrder');
        }
        throw err;
      }
      if (!found) {
        throw ApplicationFailure.nonRetryable(
          `revenue party ${input.partyId} does not exist`,
          'PartyMissing',
        );
      }
      return {
        statementId: found.id,
        currency: found.currency,
        balance: found.balance,
        payoutAmount: found.payoutAmount,
        carriedOut: found.carriedOut,
      };
    },

    /**
     * Pays the statement's payout: a transfer to the party's connected account, or a pending payout for the
     * bank-transfer export. The transfer's idempotency key is `payout:<party_id>:<yyyy-mm>`, so a retry after
     * a lost answer returns the first transfer instead of paying twice. A refused transfer leaves the payout
     * failed; a later run of the month's workflow tries again under a new key (the refused one moved nothing).
     */
    async payParty(input: { statementId: string }): Promise<PayoutOutcome> {
      const stmt = await statement(db, input.statementId);
      if (!new Dec(stmt.payoutAmount).gt(0)) {
        return { payoutId: null, method: null, status: 'none', amount: '0', providerTransferId: null };
      }
      const to = await party(db, stmt.partyId);
      let payout = await openPayout(
        db,
        stmt,
        to.connectedAccountId
          ? { method: 'transfer', destination: to.connectedAccountId }
          : { method: 'bank_export', destination: to.iban },
      );
      if (payout.method === 'bank_export' || payout.status === 'paid') return outcome(payout);
      if (payout.status === 'failed') payout = await reopenPayout(db, payout.id, to.connectedAccountId);
      if (!payout.destination) {
        payout = await markPayoutRefused(db, payout.id, `party ${to.id} has no connected account`);
        throw ApplicationFailure.nonRetryable(payout.failureMessage!, 'TransferRefused');
      }
      const key = payoutWorkflowId(stmt.partyId, stmt.period);
      try {
        const transfer = await payments.transfer({
          destinationAccountId: payout.destination,
          amountMinor: toMinorUnits(payout.amount, payout.currency),
          currency: payout.currency,
          idempotencyKey: payout.refusals === 0 ? key : `${key}:${payout.refusals}`,
          description: `Revenue share ${stmt.period}`,
          metadata: {
            payout_id: payout.id,
            party_id: stmt.partyId,
            period: stmt.period,
            statement_id: stmt.id,
          },
        });
        return outcome(
          await markPayoutPaid(db, payout.id, { providerTransferId: transfer.transferId, at: new Date() }),
        );
      } catch (err) {
        if (err instanceof PaymentRejectedError) {
          await markPayoutRefused(db, payout.id, err.message);
          throw ApplicationFailure.nonRetryable(`transfer refused: ${err.message}`, 'TransferRefused');
        }
        throw err;
      }
    },
  };
}

export type PayoutActivities = ReturnType<typeof createPayoutActivities>;
