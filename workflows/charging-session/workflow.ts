import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChargingSessionActivities, OpenedSession } from '../../activities/charging-session';
import { Dec, formatMoney } from '../../pricing/money';
import type { AppliedPromotion, PricedSession } from '../../pricing/session-price';
import { SESSION_STATUS } from '../search-attributes';
import {
  ChargingSessionInput,
  connectorStatusSignal,
  meterValuesSignal,
  RunningCost,
  runningCostQuery,
  SessionPhase,
  stopTransactionSignal,
  StopTransactionV1,
} from './messages';
import { priceFinal, priceRunning } from './pricing';
import { applyReadings, applyStatus, MeterState } from './usage';

// Sessions started before this patch were priced without promotional codes and allowances; replaying them
// must not schedule the two activities that claim them.
const CLAIM_DISCOUNTS_PATCH = 'claim-promotion-and-allowance-v1';

// Sessions started before this patch kept charging after a declined hold.
const STOP_ON_DECLINE_PATCH = 'remote-stop-on-declined-hold-v1';

const { openSession, issueReceipt, recordPaymentFailure, claimDiscounts, requestRemoteStop } =
  proxyActivities<ChargingSessionActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

// Money-moving calls: retried with the same idempotency key; a refusal retrying cannot fix is not retried.
const { authorizePayment, settlePayment } = proxyActivities<ChargingSessionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['PaymentRejectedError'],
  },
});

export interface PaymentState {
  paymentId: string;
  amountAuthorized: string;
}

/** What a session carries into its next run when its history grows long (continue-as-new). */
export interface CarriedState {
  opened: OpenedSession;
  payment: PaymentState | null;
  meter: MeterState;
  pendingStop: StopTransactionV1 | null;
}

export interface SessionOutcome {
  status: 'completed' | 'unbilled';
  total: string | null;
  receiptNumber: string | null;
  amountCaptured: string;
}

/** One charging session on one connector: hold, meter, price, capture, receipt. */
export async function chargingSession(
  input: ChargingSessionInput,
  carried?: CarriedState,
): Promise<SessionOutcome> {
  let phase: SessionPhase = carried ? 'active' : 'starting';
  let meter: MeterState = carried?.meter ?? {
    lastEnergyWh: input.meterStartWh,
    lastTimestamp: input.startedAt,
  };
  let stop: StopTransactionV1 | null = carried?.pendingStop ?? null;
  let opened: OpenedSession | null = carried?.opened ?? null;

  setHandler(meterValuesSignal, (readings) => {
    meter = applyReadings(meter, readings);
  });
  setHandler(connectorStatusSignal, (status) => {
    meter = applyStatus(meter, status);
  });
  setHandler(stopTransactionSignal, (request) => {
    // A resent StopTransaction must not move the end of a session that is already stopping.
    stop ??= request;
  });
  setHandler(runningCostQuery, (): RunningCost => {
    const priced = opened ? priceRunning(input, opened, meter) : null;
    return { phase, asOf: meter.lastTimestamp, priced };
  });

  const setStatus = (next: SessionPhase) => {
    phase = next;
    upsertSearchAttributes([{ key: SESSION_STATUS, value: next }]);
  };

  let payment: PaymentState | null = carried?.payment ?? null;
  if (!carried) {
    opened = await openSession(input);
    if (opened.status === 'active' && opened.hold) {
      const auth = await authorizePayment({
        sessionId: input.sessionId,
        organizationId: input.organizationId,
        amount: opened.hold.amount,
        currency: opened.hold.currency,
        paymentMethodId: opened.hold.paymentMethodId,
        customerId: opened.hold.customerId,
        idempotencyKey: `${workflowInfo().workflowId}:authorize`,
      });
      if (auth.status === 'authorized') {
        payment = { paymentId: auth.paymentId, amountAuthorized: auth.amountAuthorized };
      } else if (
        patched(STOP_ON_DECLINE_PATCH) &&
        stop === null &&
        opened.hold.stopChargingIfDeclined !== false
      ) {
        // No hold, no more energy: the charge point is asked to stop; what was delivered is billed as due.
        await requestRemoteStop({
          organizationId: input.organizationId,
          chargePointId: input.chargePointId,
          transactionId: input.transactionId,
          idempotencyKey: `${workflowInfo().workflowId}:remote-stop`,
        });
      }
    }
    setStatus(opened.status === 'active' ? 'active' : 'unbilled');
  }

  await condition(() => stop !== null || workflowInfo().continueAsNewSuggested);
  if (stop === null) {
    await condition(allHandlersFinished);
    return continueAsNew<typeof chargingSession>(input, {
      opened: opened!,
      payment,
      meter,
      pendingStop: stop,
    });
  }
  const finalStop: StopTransactionV1 = stop;
  if (opened!.status === 'active') setStatus('stopping');

  let promotion: AppliedPromotion | null = null;
  let promotionRefusal: string | null = null;
  let allowanceKwh = '0';
  let redemptionId: string | null = null;
  if (patched(CLAIM_DISCOUNTS_PATCH) && opened!.status === 'active' && opened!.pricing?.userId) {
    const claimed = await claimDiscounts({
      sessionId: input.sessionId,
      userId: opened!.pricing.userId,
      startedAt: input.startedAt,
      energyWh: Dec.max(new Dec(finalStop.meterStopWh).sub(input.meterStartWh), 0).toFixed(),
    });
    promotion = claimed.promotion;
    promotionRefusal = claimed.promotionRefusal;
    redemptionId = claimed.redemptionId;
    allowanceKwh = claimed.allowanceKwh;
  }
  const priced: PricedSession | null = priceFinal(input, opened!, meter, finalStop, {
    promotion,
    promotionRefusal,
    allowanceKwh,
  });

  let amountCaptured = priced ? formatMoney(0, priced.currency) : '0';
  let paymentStatus = payment ? 'authorized' : 'no_payment_method';
  if (priced && payment) {
    try {
      const settled = await settlePayment({
        sessionId: input.sessionId,
        organizationId: input.organizationId,
        paymentId: payment.paymentId,
        currency: priced.currency,
        amountDue: priced.total,
        amountAuthorized: payment.amountAuthorized,
        idempotencyKey: `${workflowInfo().workflowId}:settle`,
      });
      amountCaptured = settled.amountCaptured;
      paymentStatus = new Dec(amountCaptured).gte(priced.total) ? 'paid' : 'partially_paid';
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      paymentStatus = 'payment_failed';
      await recordPaymentFailure({
        sessionId: input.sessionId,
        organizationId: input.organizationId,
        currency: priced.currency,
        message: err.cause?.message ?? err.message,
      });
    }
  } else if (priced) {
    paymentStatus = new Dec(priced.total).isZero() ? 'paid' : 'unpaid';
  }

  const receipt = await issueReceipt({
    sessionId: input.sessionId,
    meterStopWh: finalStop.meterStopWh,
    energyWh: Dec.max(new Dec(finalStop.meterStopWh).sub(input.meterStartWh), 0).toFixed(),
    durationSeconds: Math.max(
      Math.floor((Date.parse(finalStop.timestamp) - Date.parse(input.startedAt)) / 1000),
      0,
    ),
    redemptionId,
    stoppedAt: finalStop.timestamp,
    stopReason: finalStop.reason ?? null,
    priced,
    amountPaid: amountCaptured,
    paymentStatus,
  });
  setStatus(priced ? 'completed' : 'unbilled');
  return {
    status: priced ? 'completed' : 'unbilled',
    total: priced?.total ?? null,
    receiptNumber: receipt?.number ?? null,
    amountCaptured,
  };
}
