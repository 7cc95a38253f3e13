import type { Knex } from 'knex';
import { openDebt } from '../db/repositories/debts';
import { recordMovement } from '../db/repositories/paymentMovements';
import { findPaymentBySession, strayHolds, upsertPayment } from '../db/repositories/payments';
import { HoldGoneError, type PaymentProvider } from '../payments/port';
import { formatMoney, fromMinorUnits, toMinorUnits } from '../pricing/money';

// The hold growing with the session, and the money above it: charged off-session with the saved card when
// the hold could not cover the price, or recorded as the driver's debt when that fails too. Every call
// carries a key derived from the workflow and the step, and records one movement under that key.

export interface IncrementInput {
  sessionId: string;
  organizationId: string;
  paymentId: string;
  currency: string;
  newAmount: string;
  idempotencyKey: string;
}

export type IncrementOutcome =
  { status: 'incremented'; amountAuthorized: string } | { status: 'declined' | 'unavailable'; code: string };

export interface DifferenceInput {
  sessionId: string;
  organizationId: string;
  userId: string | null;
  currency: string;
  amount: string;
  paymentMethodId: string;
  customerId?: string;
  idempotencyKey: string;
}

export type DifferenceOutcome =
  | { status: 'charged'; amount: string; paymentId: string }
  | { status: 'debt'; amount: string; debtId: string | null; code: string };

/** A hold older than this whose session has ended is released by the sweep. */
export const STRAY_HOLD_AFTER_MS = 15 * 60_000;

export function createSessionPaymentActivities({ db, payments }: { db: Knex; payments: PaymentProvider }) {
  return {
    /**
     * Releases every hold still authorized although its session ended (a workflow that failed before its
     * capture, a session closed by hand): the driver's money is not held for days. Answers how many.
     */
    async releaseStrayHolds(input: { olderThanMs?: number } = {}): Promise<number> {
      const stray = await strayHolds(db, input.olderThanMs ?? STRAY_HOLD_AFTER_MS);
      for (const hold of stray) {
        const key = `sweep:${hold.id}:release`;
        try {
          await payments.release({ paymentId: hold.provider_payment_id!, idempotencyKey: key });
        } catch (err) {
          // Gone already (expired or released at the provider): the record catches up below.
          if (!(err instanceof HoldGoneError)) throw err;
        }
        await upsertPayment(db, {
          organizationId: hold.organization_id,
          sessionId: hold.session_id,
          provider: hold.provider,
          currency: hold.currency,
          status: 'canceled',
        });
        await recordMovement(db, {
          organizationId: hold.organization_id,
          sessionId: hold.session_id,
          paymentId: hold.id,
          kind: 'release',
          status: 'succeeded',
          amount: formatMoney(hold.amount_authorized, hold.currency),
          amountMinor: toMinorUnits(hold.amount_authorized, hold.currency),
          currency: hold.currency,
          providerReference: hold.provider_payment_id,
          idempotencyKey: key,
          detail: { reason: 'the session ended without capturing its hold' },
        });
      }
      return stray.length;
    },

    async incrementHold(req: IncrementInput): Promise<IncrementOutcome> {
      const result = await payments.increment({
        paymentId: req.paymentId,
        newAmountMinor: toMinorUnits(req.newAmount, req.currency),
        idempotencyKey: req.idempotencyKey,
        metadata: { session_id: req.sessionId },
      });
      const payment = await findPaymentBySession(db, req.sessionId);
      const movement = {
        organizationId: req.organizationId,
        sessionId: req.sessionId,
        paymentId: payment?.id,
        kind: 'increment' as const,
        currency: req.currency,
        providerReference: req.paymentId,
        idempotencyKey: req.idempotencyKey,
        amount: formatMoney(req.newAmount, req.currency),
        amountMinor: toMinorUnits(req.newAmount, req.currency),
      };
      if (result.outcome === 'incremented') {
        const amountAuthorized = formatMoney(
          fromMinorUnits(result.amountCapturableMinor, req.currency),
          req.currency,
        );
        await upsertPayment(db, {
          organizationId: req.organizationId,
          sessionId: req.sessionId,
          provider: payments.name,
          currency: req.currency,
          status: 'authorized',
          amountAuthorized,
        });
        await recordMovement(db, { ...movement, status: 'succeeded' });
        return { status: 'incremented', amountAuthorized };
      }
      const code = result.code ?? result.outcome;
      await recordMovement(db, {
        ...movement,
        status: result.outcome,
        detail: { code, message: result.message },
      });
      return { status: result.outcome, code };
    },

    /** Charges what the hold could not cover; when the card refuses, the driver owes it. */
    async chargeDifference(req: DifferenceInput): Promise<DifferenceOutcome> {
      const amountMinor = toMinorUnits(req.amount, req.currency);
      const base = {
        organizationId: req.organizationId,
        sessionId: req.sessionId,
        userId: req.userId,
        currency: req.currency,
        amount: formatMoney(req.amount, req.currency),
        amountMinor,
      };
      let code = 'no_saved_customer';
      if (req.customerId) {
        const result = await payments.chargeOffSession({
          customerId: req.customerId,
          paymentMethodId: req.paymentMethodId,
          amountMinor,
          currency: req.currency,
          idempotencyKey: req.idempotencyKey,
          description: `EV charging session ${req.sessionId}: amount above the hold`,
          metadata: { session_id: req.sessionId, organization_id: req.organizationId, kind: 'difference' },
        });
        await recordMovement(db, {
          ...base,
          kind: 'off_session_charge',
          status: result.outcome === 'charged' ? 'succeeded' : result.outcome,
          providerReference: result.paymentId ?? null,
          idempotencyKey: req.idempotencyKey,
          detail: result.outcome === 'charged' ? undefined : { code: result.code, message: result.message },
        });
        if (result.outcome === 'charged') {
          return { status: 'charged', amount: base.amount, paymentId: result.paymentId };
        }
        code = result.code;
      }
      const debt = req.userId
        ? await openDebt(db, {
            organizationId: req.organizationId,
            userId: req.userId,
            sessionId: req.sessionId,
            amount: base.amount,
            currency: req.currency,
            reason: `the amount above the hold could not be charged (${code})`,
          })
        : undefined;
      await recordMovement(db, {
        ...base,
        kind: 'debt',
        status: 'open',
        providerReference: debt?.id ?? null,
        idempotencyKey: `${req.idempotencyKey}:debt`,
        detail: { code },
      });
      return { status: 'debt', amount: base.amount, debtId: debt?.id ?? null, code };
    },
  };
}

export type SessionPaymentActivities = ReturnType<typeof createSessionPaymentActivities>;
