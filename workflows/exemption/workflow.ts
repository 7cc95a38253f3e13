import {
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExemptionActivities } from '../../activities/exemption';
import { BILLING_STATUS } from '../search-attributes';
import {
  decideExemptionUpdate,
  DECISION_REFUSALS,
  DecisionV1,
  ExemptionInput,
  ExemptionState,
  exemptionStateQuery,
} from './messages';

const DECIDERS = ['owner', 'billing'];

const db = proxyActivities<ExemptionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Money leaves: a refund that timed out is retried with the same idempotency key, so the provider refunds
// once however often the activity runs.
const money = proxyActivities<ExemptionActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['RefundRefused'],
  },
});

/**
 * `exemption:<exm_id>`: waits for an owner or billing delegate to decide, reminds the approvers once, and
 * expires when nobody decides. Expiry leaves the charge as it is: waiving money needs someone's yes, and a
 * request that nobody looked at can be made again.
 */
export async function exemption(input: ExemptionInput): Promise<ExemptionState> {
  let state: ExemptionState = 'pending';
  let decision: (DecisionV1 & { at: string }) | undefined;
  // Set once the decision is in the database: what follows (and the API's answer) sees it there.
  let recorded = false;

  setHandler(exemptionStateQuery, () => state);
  setHandler(
    decideExemptionUpdate,
    async (d) => {
      decision = { ...d, at: new Date(Date.now()).toISOString() };
      state = d.decision === 'approve' ? 'approved' : 'rejected';
      upsertSearchAttributes([{ key: BILLING_STATUS, value: state }]);
      await db.recordExemptionDecision({
        exemptionId: input.exemptionId,
        status: state,
        decidedBy: d.memberId,
        note: d.note ?? null,
        at: decision.at,
      });
      recorded = true;
      return { status: state, decidedBy: d.memberId, decidedAt: decision.at };
    },
    {
      validator: (d) => {
        if (state !== 'pending' || decision) {
          throw ApplicationFailure.create({
            type: DECISION_REFUSALS.alreadyDecided,
            message: `the exemption is already ${state}`,
          });
        }
        if (!DECIDERS.includes(d.role)) {
          throw ApplicationFailure.create({
            type: DECISION_REFUSALS.roleNotAllowed,
            message: `a member with the role '${d.role}' cannot decide exemptions`,
          });
        }
        if (d.memberId === input.requestedBy) {
          throw ApplicationFailure.create({
            type: DECISION_REFUSALS.selfApproval,
            message: 'the member who requested an exemption cannot decide it',
          });
        }
      },
    },
  );

  const started = workflowInfo().startTime.getTime();
  const remindIn = Math.max(0, input.remindAfterMs);
  let decided = await condition(() => decision !== undefined, remindIn);
  if (!decided) {
    await db.remindApprovers(input.exemptionId);
    const left = Math.max(0, started + input.expireAfterMs - Date.now());
    decided = await condition(() => decision !== undefined, left);
  }
  if (!decided) {
    state = 'expired';
    upsertSearchAttributes([{ key: BILLING_STATUS, value: state }]);
    await db.recordExemptionDecision({
      exemptionId: input.exemptionId,
      status: 'expired',
      decidedBy: null,
      note: 'expired without a decision',
      at: new Date(Date.now()).toISOString(),
    });
    return state;
  }
  await condition(() => recorded);
  // The update handler changed state meanwhile; TypeScript cannot see that.
  if ((state as ExemptionState) === 'approved') {
    await money.reverseExemptedCharge(input.exemptionId);
    await db.issueExemptionCreditNote(input.exemptionId);
  }
  await db.notifyDriverOfExemption(input.exemptionId);
  return state;
}
