import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PayoutActivities } from '../../activities/payout';
import { BILLING_STATUS } from '../search-attributes';
import type { PayoutInput, PayoutResult } from './messages';

const records = proxyActivities<PayoutActivities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['PartyMissing', 'PeriodOutOfOrder'],
  },
});

// Money leaves: the transfer carries the key payout:<party_id>:<yyyy-mm>, so a retry after a timeout reaches
// the provider as the same request and pays once. A refusal (unknown account, ...) is final for this run.
const money = proxyActivities<PayoutActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['TransferRefused', 'StatementMissing', 'PartyMissing'],
  },
});

/**
 * `payout:<party_id>:<yyyy-mm>`: the party's statement of the month (settling the organization's month on
 * first sight), then its payout: a transfer to the party's connected account, or a payout waiting for the
 * bank-transfer export. Running it again for the same month pays nothing twice.
 */
export async function payout(input: PayoutInput): Promise<PayoutResult> {
  upsertSearchAttributes([{ key: BILLING_STATUS, value: 'computing' }]);
  const statement = await records.computeStatement({ partyId: input.partyId, period: input.period });
  upsertSearchAttributes([{ key: BILLING_STATUS, value: 'paying' }]);
  try {
    const paid = await money.payParty({ statementId: statement.statementId });
    upsertSearchAttributes([
      { key: BILLING_STATUS, value: paid.status === 'none' ? 'carried' : paid.status },
    ]);
    return {
      statementId: statement.statementId,
      currency: statement.currency,
      payoutAmount: statement.payoutAmount,
      carriedOut: statement.carriedOut,
      payoutId: paid.payoutId,
      method: paid.method,
      status: paid.status,
      providerTransferId: paid.providerTransferId,
    };
  } catch (err) {
    // The payout is recorded as failed; the run fails too, so the refusal shows in the Temporal UI.
    const refused =
      err instanceof ActivityFailure &&
      err.cause instanceof ApplicationFailure &&
      err.cause.type === 'TransferRefused';
    if (refused) upsertSearchAttributes([{ key: BILLING_STATUS, value: 'failed' }]);
    throw err;
  }
}
