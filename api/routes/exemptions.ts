import type { Router } from 'express';
import {
  creditNotePdf,
  CreditNote,
  findCreditNoteByExemption,
  getCreditNote,
} from '../../db/repositories/creditNotes';
import { isUniqueViolation } from '../../db/repositories/errors';
import {
  createExemption,
  Exemption,
  ExemptionStatus,
  findLiveExemption,
  getExemption,
  listExemptions,
} from '../../db/repositories/exemptions';
import { findReceiptBySession } from '../../db/repositories/receipts';
import { getSessionView } from '../../db/repositories/sessionViews';
import { minorUnitDigits } from '../../pricing/currency';
import { Dec } from '../../pricing/money';
import { BILLING, OPERATORS, organizationOf } from '../auth';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, resourceMissing } from '../errors';
import type { ExemptionWorkflows } from '../exemption-workflows';
import { act, read, write } from '../handler';
import { iso, sendPdf } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { optionalString, parseDecimal, readBody, requiredString } from '../validation';

const STATUSES: readonly ExemptionStatus[] = ['pending', 'approved', 'rejected', 'expired'];

export function exemptionJson(e: Exemption, note?: CreditNote) {
  return {
    object: 'exemption',
    id: e.id,
    session_id: e.sessionId,
    status: e.status,
    reason: e.reason,
    amount: e.amount,
    currency: e.currency,
    requested_by: e.requestedBy,
    decided_by: e.decidedBy,
    decision_note: e.decisionNote,
    decided_at: iso(e.decidedAt),
    reminded_at: iso(e.remindedAt),
    reversal: e.reversal,
    refund_id: e.refundId,
    amount_reversed: e.amountReversed,
    reversed_at: iso(e.reversedAt),
    credit_note: note ? { id: note.id, number: note.number, total: note.total } : null,
    workflow_id: e.workflowId,
    created_at: iso(e.createdAt),
  };
}

const conflict = (code: string, message: string) => new ApiError(409, 'invalid_request_error', code, message);

function workflows(deps: ResolvedDeps): ExemptionWorkflows {
  if (!deps.exemptions) {
    throw new ApiError(503, 'api_error', 'workflows_unavailable', 'Exemptions need the workflow service.');
  }
  return deps.exemptions;
}

export function registerExemptionRoutes(router: Router, deps: ResolvedDeps): void {
  // An admin (or owner) asks; the workflow waits for someone else with billing rights to decide.
  router.post(
    '/sessions/:id/exemptions',
    write(
      deps,
      async ({ db, org, principal, params, body: raw }) => {
        const body = readBody(raw, ['reason', 'amount']);
        const reason = requiredString(body, 'reason', { max: 1000, trim: true });
        const view = await getSessionView(db, org.id, params.id);
        if (!view) throw resourceMissing('session', params.id);
        const billed = await findReceiptBySession(db, params.id);
        if (!billed) {
          throw conflict('session_not_billed', 'Only a billed session (one with a receipt) can be exempted.');
        }
        const { receipt } = billed;
        let amount: string | null = null;
        if (body.amount !== undefined && body.amount !== null) {
          amount = parseDecimal(body.amount, 'amount', {
            positive: true,
            maxDecimals: minorUnitDigits(receipt.currency),
            maxIntegerDigits: 12,
          });
          if (new Dec(amount).gt(receipt.total_excl_vat)) {
            throw invalidParam(
              'amount',
              `must not exceed the session's charge excl. VAT (${receipt.total_excl_vat})`,
            );
          }
        }
        if (new Dec(receipt.total).isZero()) {
          throw conflict('nothing_to_exempt', 'The session was free; there is no charge to waive.');
        }
        const live = await findLiveExemption(db, params.id);
        if (live) {
          throw conflict(
            'exemption_exists',
            `Session ${params.id} already has the ${live.status} exemption ${live.id}.`,
          );
        }
        let exemption: Exemption;
        try {
          exemption = await createExemption(db, {
            organizationId: org.id,
            sessionId: params.id,
            requestedBy: principal.memberId,
            reason,
            amount,
            currency: receipt.currency,
          });
        } catch (err) {
          if (isUniqueViolation(err, 'exemptions_one_live_per_session')) {
            throw conflict('exemption_exists', `Session ${params.id} already has an open exemption.`);
          }
          throw err;
        }
        // Inside the transaction: if the workflow cannot start, the request is not recorded either.
        await workflows(deps).start({
          exemptionId: exemption.id,
          organizationId: org.id,
          sessionId: params.id,
          requestedBy: principal.memberId,
        });
        return { status: 201, body: exemptionJson(exemption) };
      },
      OPERATORS,
    ),
  );

  router.get(
    '/exemptions/pending',
    read(
      deps,
      async ({ db, org, query }) => {
        const page = await listExemptions(db, org.id, { status: 'pending' }, parsePage(query));
        return {
          status: 200,
          body: listEnvelope(
            page,
            (e) => exemptionJson(e),
            (e) => e.id,
          ),
        };
      },
      BILLING,
    ),
  );

  router.get(
    '/exemptions',
    read(deps, async ({ db, org, query }) => {
      const status = queryString(query, 'status');
      if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
        throw invalidParam('status', `must be one of ${STATUSES.join(', ')}`);
      }
      const page = await listExemptions(
        db,
        org.id,
        { status: status as ExemptionStatus | undefined, sessionId: queryString(query, 'session_id') },
        parsePage(query),
      );
      return {
        status: 200,
        body: listEnvelope(
          page,
          (e) => exemptionJson(e),
          (e) => e.id,
        ),
      };
    }),
  );

  router.get(
    '/exemptions/:id',
    read(deps, async ({ db, org, params }) => {
      const exemption = await getExemption(db, org.id, params.id);
      if (!exemption) throw resourceMissing('exemption', params.id);
      return {
        status: 200,
        body: exemptionJson(exemption, await findCreditNoteByExemption(db, exemption.id)),
      };
    }),
  );

  for (const decision of ['approve', 'reject'] as const) {
    // Delivered to the workflow as an Update: the caller learns at once whether the decision was taken.
    router.post(
      `/exemptions/:id/${decision}`,
      act(
        deps,
        async ({ db, org, principal, params, body: raw }) => {
          const body = readBody(raw, ['note']);
          const note = optionalString(body, 'note', { max: 1000, trim: true });
          const exemption = await getExemption(db, org.id, params.id);
          if (!exemption) throw resourceMissing('exemption', params.id);
          const outcome = await workflows(deps).decide(exemption.id, {
            decision,
            memberId: principal.memberId,
            role: principal.role,
            note,
          });
          if (!outcome.ok) {
            if (outcome.refusal === 'SelfApproval') {
              throw new ApiError(
                403,
                'permission_error',
                'self_approval',
                'You cannot decide an exemption you requested.',
              );
            }
            if (outcome.refusal === 'RoleNotAllowed') {
              throw new ApiError(403, 'permission_error', 'role_not_allowed', outcome.message);
            }
            const now = (await getExemption(db, org.id, params.id))!;
            throw conflict('exemption_decided', `Exemption ${exemption.id} is already ${now.status}.`);
          }
          const decided = (await getExemption(db, org.id, params.id))!;
          return { status: 200, body: exemptionJson(decided) };
        },
        BILLING,
      ),
    );
  }

  router.get(
    '/credit-notes/:id',
    read(deps, async ({ db, org, params }) => {
      const note = await getCreditNote(db, org.id, params.id);
      if (!note) throw resourceMissing('credit note', params.id);
      return {
        status: 200,
        body: {
          object: 'credit_note',
          id: note.id,
          number: note.number,
          exemption_id: note.exemptionId,
          session_id: note.sessionId,
          receipt_id: note.receiptId,
          currency: note.currency,
          total_excl_vat: note.totalExclVat,
          total_vat: note.totalVat,
          total: note.total,
          lines: note.lines.map((l) => ({
            description: l.description,
            vat_rate: l.vatRate,
            amount: l.amount,
            vat_amount: l.vatAmount,
            amount_incl_vat: l.amountInclVat,
          })),
          issued_at: iso(note.issuedAt),
        },
      };
    }),
  );

  router.get('/credit-notes/:id/download', async (req, res) => {
    const { db } = deps;
    const org = organizationOf(res);
    const id = String(req.params.id);
    const pdf = await creditNotePdf(db, org.id, id);
    if (!pdf) throw resourceMissing('credit note', id);
    const note = (await getCreditNote(db, org.id, id))!;
    sendPdf(res, note.number, pdf);
  });
}
