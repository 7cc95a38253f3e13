import { defineQuery, defineUpdate } from '@temporalio/workflow';

// Message types are versioned by name: a breaking change adds a new update instead of changing this one.

export interface ExemptionInput {
  exemptionId: string;
  organizationId: string;
  sessionId: string;
  /** The member who asked: they may not decide their own request. */
  requestedBy: string;
  /** Undecided this long: the approvers get a reminder. */
  remindAfterMs: number;
  /** Undecided this long (from the request): the request expires and the charge stands. */
  expireAfterMs: number;
}

export interface DecisionV1 {
  decision: 'approve' | 'reject';
  memberId: string;
  role: string;
  note?: string;
}

export type ExemptionState = 'pending' | 'approved' | 'rejected' | 'expired';

export interface DecisionResultV1 {
  status: ExemptionState;
  decidedBy: string;
  decidedAt: string;
}

/** Failure types the update's validator raises; the API maps them to 403 and 409. */
export const DECISION_REFUSALS = {
  selfApproval: 'SelfApproval',
  roleNotAllowed: 'RoleNotAllowed',
  alreadyDecided: 'AlreadyDecided',
} as const;

export const decideExemptionUpdate = defineUpdate<DecisionResultV1, [DecisionV1]>('decideExemptionV1');
export const exemptionStateQuery = defineQuery<ExemptionState>('exemptionStateV1');
