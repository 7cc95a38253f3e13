import type { Knex } from 'knex';
import { Dec, formatMoney, fromMinorUnits, toMinorUnits } from '../pricing/money';
import type { PricedSession } from '../pricing/rate';
import type { TariffVersion } from '../pricing/tariff';
import type { PaymentProvider } from '../payments/port';
import { resolveTariffForChargePoint } from '../db/repositories/tariffs';
import { findPayerContext, findSession, markSessionOpened } from '../db/repositories/sessions';
import { upsertPayment } from '../db/repositories/payments';
import { completeSessionWithReceipt } from '../db/repositories/receipts';
import type { ChargingSessionInput } from '../workflows/charging-session/messages';

export interface OpenedSession {
  status: 'active' | 'unbilled';
  reason?: string;
  tariff?: TariffVersion;
  hold?: { amount: string; currency: string; paymentMethodId: string; customerId?: string };
}

export interface AuthorizeInput {
  sessionId: string;
  organizationId: string;
  amount: string;
  currency: string;
  paymentMethodId: string;
  customerId?: string;
  idempotencyKey: string;
}

export type AuthorizeOutcome =
  | { status: 'authorized'; paymentId: string; amountAuthorized: string }
  | { status: 'declined'; code: string; message: string };

export interface SettleInput {
  sessionId: string;
  organizationId: string;
  paymentId: string;
  currency: string;
  amountDue: string;
  amountAuthorized: string;
  idempotencyKey: string;
}

export interface SettleOutcome {
  status: 'captured' | 'canceled';
  amountCaptured: string;
}

export interface IssueReceiptInput {
  sessionId: string;
  meterStopWh: string;
  energyWh: string;
  durationSeconds: number;
  stoppedAt: string;
  stopReason: string | null;
  priced: PricedSession | null;
  amountPaid: string;
  paymentStatus: string;
}

export interface ChargingSessionDeps {
  db: Knex;
  payments: PaymentProvider;
}

/** Activities of the charging-session workflow; every write is keyed by the session id, so retries are harmless. */
export function createChargingSessionActivities({ db, payments }: ChargingSessionDeps) {
  return {
    async openSession(input: ChargingSessionInput): Promise<OpenedSession> {
      const session = await findSession(db, input.sessionId);
      if (!session) throw new Error(`session ${input.sessionId} was not allocated`);
      const tariff = await resolveTariffForChargePoint(db, input.chargePointId, new Date(input.startedAt));
      const payer = await findPayerContext(db, input.organizationId, input.chargePointId, input.idTag);
      if (!tariff) {
        const reason = 'no tariff is assigned to this charge point, its site or its project';
        await markSessionOpened(db, input.sessionId, {
          userId: payer.userId,
          tariffVersionId: null,
          currency: null,
          status: 'unbilled',
          reason,
        });
        return { status: 'unbilled', reason };
      }
      await markSessionOpened(db, input.sessionId, {
        userId: payer.userId,
        tariffVersionId: tariff.versionId,
        currency: tariff.currency,
        status: 'active',
      });
      const canHold = payer.paymentMethodId && new Dec(payer.holdAmount).gt(0);
      return {
        status: 'active',
        tariff,
        hold: canHold
          ? {
              amount: payer.holdAmount,
              currency: tariff.currency,
              paymentMethodId: payer.paymentMethodId!,
              customerId: payer.paymentCustomerId ?? undefined,
            }
          : undefined,
      };
    },

    async authorizePayment(req: AuthorizeInput): Promise<AuthorizeOutcome> {
      const result = await payments.authorize({
        amountMinor: toMinorUnits(req.amount, req.currency),
        currency: req.currency,
        paymentMethodId: req.paymentMethodId,
        customerId: req.customerId,
        idempotencyKey: req.idempotencyKey,
        description: `EV charging session ${req.sessionId}`,
        metadata: { session_id: req.sessionId, organization_id: req.organizationId },
      });
      const base = {
        organizationId: req.organizationId,
        sessionId: req.sessionId,
        provider: payments.name,
        currency: req.currency,
      };
      if (result.outcome === 'declined') {
        await upsertPayment(db, {
          ...base,
          providerPaymentId: result.paymentId ?? null,
          status: 'declined',
          failureCode: result.code,
          failureMessage: result.message,
        });
        return { status: 'declined', code: result.code, message: result.message };
      }
      const amountAuthorized = formatMoney(
        fromMinorUnits(result.amountCapturableMinor, req.currency),
        req.currency,
      );
      await upsertPayment(db, {
        ...base,
        providerPaymentId: result.paymentId,
        status: 'authorized',
        amountAuthorized,
      });
      return { status: 'authorized', paymentId: result.paymentId, amountAuthorized };
    },

    /** Captures what the session cost, up to the hold; a zero amount releases the hold instead. */
    async settlePayment(req: SettleInput): Promise<SettleOutcome> {
      const due = Dec.min(new Dec(req.amountDue), new Dec(req.amountAuthorized));
      const base = {
        organizationId: req.organizationId,
        sessionId: req.sessionId,
        provider: payments.name,
        currency: req.currency,
      };
      if (due.lte(0)) {
        await payments.cancel({ paymentId: req.paymentId, idempotencyKey: req.idempotencyKey });
        const zero = formatMoney(0, req.currency);
        await upsertPayment(db, { ...base, status: 'canceled', amountCaptured: zero });
        return { status: 'canceled', amountCaptured: zero };
      }
      const captured = await payments.capture({
        paymentId: req.paymentId,
        amountMinor: toMinorUnits(due, req.currency),
        idempotencyKey: req.idempotencyKey,
      });
      const amountCaptured = formatMoney(
        fromMinorUnits(captured.amountCapturedMinor, req.currency),
        req.currency,
      );
      await upsertPayment(db, { ...base, status: 'captured', amountCaptured });
      return { status: 'captured', amountCaptured };
    },

    async recordPaymentFailure(req: {
      sessionId: string;
      organizationId: string;
      currency: string;
      message: string;
    }) {
      await upsertPayment(db, {
        organizationId: req.organizationId,
        sessionId: req.sessionId,
        provider: payments.name,
        currency: req.currency,
        status: 'failed',
        failureCode: 'settlement_failed',
        failureMessage: req.message,
      });
    },

    async issueReceipt(req: IssueReceiptInput): Promise<{ receiptId: string; number: string } | null> {
      const amountDue = req.priced ? new Dec(req.priced.total).sub(req.amountPaid) : new Dec(0);
      const receipt = await completeSessionWithReceipt(db, {
        ...req,
        stoppedAt: new Date(req.stoppedAt),
        amountDue: Dec.max(amountDue, 0).toFixed(),
      });
      return receipt ? { receiptId: receipt.id, number: receipt.number } : null;
    },
  };
}

export type ChargingSessionActivities = ReturnType<typeof createChargingSessionActivities>;
