import type { Knex } from 'knex';
import { Dec, formatMoney, fromMinorUnits, toMinorUnits } from '../pricing/money';
import type { AppliedPromotion, PricedSession } from '../pricing/session-price';
import type { TariffVersion } from '../pricing/tariff';
import type { PaymentProvider } from '../payments/port';
import { consumeAllowance } from '../db/repositories/allowances';
import { PricingSnapshot, snapshotPricing } from '../db/repositories/pricingSnapshot';
import {
  findApplicablePromotion,
  recordRedemptionAmount,
  redeemPromotion,
} from '../db/repositories/promotionRedemptions';
import { resolveTariffForSession } from '../db/repositories/tariffs';
import {
  findPayerContext,
  findSession,
  markSessionOpened,
  type PayerContext,
} from '../db/repositories/sessions';
import { priceRunning } from '../workflows/charging-session/pricing';
import { enqueueCommand } from '../db/repositories/chargePointCommands';
import { getOrganization } from '../db/repositories/organizations';
import { holdFor, type OnLimit } from '../db/repositories/holdPolicies';
import { recordMovement, sessionMovements } from '../db/repositories/paymentMovements';
import { adoptPreAuthorization } from '../db/repositories/preAuthorizations';
import { paidWith } from './paid-with';
import { upsertPayment } from '../db/repositories/payments';
import { completeSessionWithReceipt } from '../db/repositories/receipts';
import type { ChargingSessionInput } from '../workflows/charging-session/messages';

export type { PricingSnapshot };

export type PaymentMode = 'card' | 'wallet' | 'invoice' | 'roaming' | 'terminal' | 'free';

/**
 * How a session is paid, from the id tag and the user: a roaming partner's token is billed to the partner,
 * a terminal's tag waits for the terminal's authorization, a free session holds nothing, and otherwise the
 * user's choice (wallet, invoice) or, as before payment modes, their card, else the organization's invoice.
 */
export function paymentModeOf(payer: PayerContext, free: boolean): PaymentMode {
  if (payer.tagType === 'roaming') return 'roaming';
  if (payer.tagType === 'terminal') return 'terminal';
  if (free) return 'free';
  if (payer.paymentMode === 'wallet' || payer.paymentMode === 'invoice') return payer.paymentMode;
  return payer.paymentMethodId ? 'card' : 'invoice';
}

// A probe well past any real session: if even this costs nothing, a rule makes the session free.
const PROBE_WH = 1_000_000;
const PROBE_MS = 24 * 3600_000;

function isFree(input: ChargingSessionInput, tariff: TariffVersion, pricing: PricingSnapshot): boolean {
  const probe = priceRunning(
    input,
    { status: 'active', tariff, pricing },
    {
      lastEnergyWh: new Dec(input.meterStartWh).add(PROBE_WH).toFixed(),
      lastTimestamp: new Date(Date.parse(input.startedAt) + PROBE_MS).toISOString(),
    },
  );
  return probe !== null && new Dec(probe.total).isZero();
}

export interface OpenedSession {
  status: 'active' | 'unbilled';
  reason?: string;
  tariff?: TariffVersion;
  pricing?: PricingSnapshot;
  /** How the driver pays; absent in sessions opened before payment paths existed (card or invoice). */
  paymentMode?: PaymentMode;
  /** The hold a remote start placed before the session, which the session captures instead of its own. */
  preAuthorized?: { paymentId: string; amountAuthorized: string };
  /** A wallet payer's reservation plan: reserve `step` at a time, more at `incrementAtPercent` of it. */
  wallet?: { userId: string; currency: string; step: string; incrementAtPercent: string };
  hold?: {
    amount: string;
    currency: string;
    paymentMethodId: string;
    customerId?: string;
    /** The organization's choice; absent in sessions opened before it existed, which means stop. */
    stopChargingIfDeclined?: boolean;
    /** From the hold policy: raise the hold when the running cost reaches this share of it (percent). */
    incrementAtPercent?: string;
    /** From the hold policy: when the hold cannot grow, stop the session or charge the rest afterwards. */
    onLimit?: OnLimit;
  };
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
  | {
      status: 'authorized';
      paymentId: string;
      amountAuthorized: string;
      /** Absent in histories recorded before increments existed. */
      incremental?: boolean;
      captureBefore?: string | null;
    }
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
  redemptionId?: string | null;
}

export interface ClaimDiscountsInput {
  sessionId: string;
  userId: string;
  startedAt: string;
  energyWh: string;
}

export interface ClaimedDiscounts {
  promotion: AppliedPromotion | null;
  promotionRefusal: string | null;
  redemptionId: string | null;
  allowanceKwh: string;
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
      const at = new Date(input.startedAt);
      const payer = await findPayerContext(db, input.organizationId, input.chargePointId, input.idTag);
      const tariff = await resolveTariffForSession(db, {
        chargePointId: input.chargePointId,
        userType: payer.userType,
        at,
      });
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
      const pricing = await snapshotPricing(db, {
        organizationId: input.organizationId,
        chargePointId: input.chargePointId,
        connectorId: input.connectorId,
        sessionId: input.sessionId,
        payer,
        at,
      });
      const { amount: holdAmount, policy: usable } = await holdFor(db, {
        organizationId: input.organizationId,
        chargePointId: input.chargePointId,
        userType: payer.userType,
        currency: tariff.currency,
        fallback: payer.holdAmount,
      });
      const paymentMode = paymentModeOf(payer, isFree(input, tariff, pricing));
      const canHold = paymentMode === 'card' && new Dec(holdAmount).gt(0);
      // A remote start placed the hold already: the session takes it over instead of holding again.
      const adopted = canHold
        ? await adoptPreAuthorization(db, {
            chargePointId: input.chargePointId,
            idTag: input.idTag,
            sessionId: input.sessionId,
          })
        : undefined;
      if (adopted) {
        const payment = await upsertPayment(db, {
          organizationId: input.organizationId,
          sessionId: input.sessionId,
          provider: payments.name,
          providerPaymentId: adopted.providerPaymentId,
          status: 'authorized',
          currency: adopted.currency,
          amountAuthorized: adopted.amount,
        });
        await recordMovement(db, {
          organizationId: input.organizationId,
          sessionId: input.sessionId,
          paymentId: payment.id,
          kind: 'authorization',
          status: 'succeeded',
          amount: formatMoney(adopted.amount, adopted.currency),
          amountMinor: toMinorUnits(adopted.amount, adopted.currency),
          currency: adopted.currency,
          providerReference: adopted.providerPaymentId,
          idempotencyKey: `pre-authorization:${adopted.id}:adopt`,
          detail: { pre_authorization_id: adopted.id },
        });
      }
      await markSessionOpened(db, input.sessionId, {
        userId: payer.userId,
        tariffVersionId: tariff.versionId,
        currency: tariff.currency,
        status: 'active',
        paymentMode,
        roamingParty: paymentMode === 'roaming' ? payer.roamingParty : null,
      });
      return {
        status: 'active',
        tariff,
        pricing,
        paymentMode,
        preAuthorized: adopted
          ? {
              paymentId: adopted.providerPaymentId,
              amountAuthorized: formatMoney(adopted.amount, adopted.currency),
            }
          : undefined,
        wallet:
          paymentMode === 'wallet' && payer.userId && new Dec(holdAmount).gt(0)
            ? {
                userId: payer.userId,
                currency: tariff.currency,
                step: holdAmount,
                incrementAtPercent: usable?.incrementAtPercent ?? '80',
              }
            : undefined,
        hold: canHold
          ? {
              amount: holdAmount,
              currency: tariff.currency,
              paymentMethodId: payer.paymentMethodId!,
              customerId: payer.paymentCustomerId ?? undefined,
              stopChargingIfDeclined: (await getOrganization(db, input.organizationId))
                ?.stopChargingOnDeclinedHold,
              incrementAtPercent: usable?.incrementAtPercent,
              onLimit: usable?.onLimit,
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
      const movement = {
        organizationId: req.organizationId,
        sessionId: req.sessionId,
        kind: 'authorization' as const,
        currency: req.currency,
        idempotencyKey: req.idempotencyKey,
      };
      if (result.outcome === 'declined') {
        const payment = await upsertPayment(db, {
          ...base,
          providerPaymentId: result.paymentId ?? null,
          status: 'declined',
          failureCode: result.code,
          failureMessage: result.message,
        });
        await recordMovement(db, {
          ...movement,
          paymentId: payment.id,
          status: 'declined',
          amount: formatMoney(req.amount, req.currency),
          amountMinor: toMinorUnits(req.amount, req.currency),
          providerReference: result.paymentId ?? null,
          detail: { code: result.code, message: result.message },
        });
        return { status: 'declined', code: result.code, message: result.message };
      }
      const amountAuthorized = formatMoney(
        fromMinorUnits(result.amountCapturableMinor, req.currency),
        req.currency,
      );
      const payment = await upsertPayment(db, {
        ...base,
        providerPaymentId: result.paymentId,
        status: 'authorized',
        amountAuthorized,
      });
      await recordMovement(db, {
        ...movement,
        paymentId: payment.id,
        status: 'succeeded',
        amount: amountAuthorized,
        amountMinor: result.amountCapturableMinor,
        providerReference: result.paymentId,
        detail: {
          incremental: result.incrementalAuthorization,
          capture_before: result.captureBefore,
          ...(result.card ? { card: { brand: result.card.brand, last4: result.card.last4 } } : {}),
        },
      });
      return {
        status: 'authorized',
        paymentId: result.paymentId,
        amountAuthorized,
        incremental: result.incrementalAuthorization,
        captureBefore: result.captureBefore,
      };
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
      const movement = {
        organizationId: req.organizationId,
        sessionId: req.sessionId,
        currency: req.currency,
        idempotencyKey: req.idempotencyKey,
        providerReference: req.paymentId,
      };
      if (due.lte(0)) {
        await payments.cancel({ paymentId: req.paymentId, idempotencyKey: req.idempotencyKey });
        const zero = formatMoney(0, req.currency);
        const payment = await upsertPayment(db, { ...base, status: 'canceled', amountCaptured: zero });
        // The hold goes back to the driver: a release, booked apart from refunds.
        await recordMovement(db, {
          ...movement,
          paymentId: payment.id,
          kind: 'release',
          status: 'succeeded',
          amount: formatMoney(req.amountAuthorized, req.currency),
          amountMinor: toMinorUnits(req.amountAuthorized, req.currency),
        });
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
      const payment = await upsertPayment(db, { ...base, status: 'captured', amountCaptured });
      await recordMovement(db, {
        ...movement,
        paymentId: payment.id,
        kind: 'capture',
        status: 'succeeded',
        amount: amountCaptured,
        amountMinor: captured.amountCapturedMinor,
        detail: {
          released_minor: toMinorUnits(req.amountAuthorized, req.currency) - captured.amountCapturedMinor,
        },
      });
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

    /**
     * Redeems the driver's promotional code and draws on their monthly allowance, each atomically and keyed
     * by the session, so concurrent sessions never get more than the code or the allowance holds.
     */
    async claimDiscounts(req: ClaimDiscountsInput): Promise<ClaimedDiscounts> {
      const at = new Date(req.startedAt);
      const wanted = await findApplicablePromotion(db, { userId: req.userId, sessionId: req.sessionId, at });
      let promotion: AppliedPromotion | null = null;
      let promotionRefusal: string | null = null;
      let redemptionId: string | null = null;
      if (wanted) {
        const redeemed = await redeemPromotion(db, {
          promotionalCodeId: wanted.promotionalCodeId,
          userId: req.userId,
          sessionId: req.sessionId,
          at,
        });
        if (redeemed.redeemed) {
          // A retried activity gets the first redemption back, which is the one to price with.
          const { promotionalCodeId, code, discountType, discountValue, currency } = redeemed;
          promotion = { promotionalCodeId, code, discountType, discountValue, currency };
          redemptionId = redeemed.redemptionId;
        } else promotionRefusal = redeemed.reason;
      }
      const grant = await consumeAllowance(db, {
        userId: req.userId,
        sessionId: req.sessionId,
        at,
        requestedKwh: new Dec(req.energyWh).div(1000).toFixed(),
      });
      return { promotion, promotionRefusal, redemptionId, allowanceKwh: grant.grantedKwh };
    },

    async issueReceipt(req: IssueReceiptInput): Promise<{ receiptId: string; number: string } | null> {
      const amountDue = Dec.max(req.priced ? new Dec(req.priced.total).sub(req.amountPaid) : new Dec(0), 0);
      const session = await findSession(db, req.sessionId);
      const receipt = await completeSessionWithReceipt(db, {
        ...req,
        stoppedAt: new Date(req.stoppedAt),
        amountDue: amountDue.toFixed(),
        paidWith: req.priced
          ? paidWith(
              session?.payment_mode ?? null,
              session?.roaming_party ?? null,
              await sessionMovements(db, session!.organization_id, req.sessionId),
              formatMoney(amountDue, req.priced.currency),
            )
          : null,
      });
      if (req.redemptionId && req.priced) {
        const discounted = req.priced.lines
          .filter((l) => l.kind === 'promotion')
          .reduce((sum, l) => sum.sub(l.amountInclVat), new Dec(0));
        await recordRedemptionAmount(db, req.redemptionId, formatMoney(discounted, req.priced.currency));
      }
      return receipt ? { receiptId: receipt.id, number: receipt.number } : null;
    },

    /** Queued for the bridge that holds the charge point; the StopTransaction that follows ends the session. */
    async requestRemoteStop(req: RemoteStopInput): Promise<{ commandId: string }> {
      const command = await enqueueCommand(db, {
        organizationId: req.organizationId,
        chargePointId: req.chargePointId,
        action: 'RemoteStopTransaction',
        payload: { transactionId: req.transactionId },
        idempotencyKey: req.idempotencyKey,
        ttlMs: REMOTE_STOP_TTL_MS,
      });
      return { commandId: command.id };
    },
  };
}

export interface RemoteStopInput {
  organizationId: string;
  chargePointId: string;
  transactionId: number;
  idempotencyKey: string;
}

// A charge point offline for longer has ended the session on its own or will report it when back.
const REMOTE_STOP_TTL_MS = 15 * 60_000;

export type ChargingSessionActivities = ReturnType<typeof createChargingSessionActivities>;
