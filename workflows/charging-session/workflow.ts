import {
  ActivityFailure,
  type ActivityOptions,
  ApplicationFailure,
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
import type { SessionPaymentActivities } from '../../activities/session-payments';
import type { WalletActivities } from '../../activities/wallet';
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
  terminalPaymentSignal,
} from './messages';
import { priceFinal, priceRunning } from './pricing';
import { applyReadings, applyStatus, type MeterState } from './usage';

// Sessions started before this patch were priced without promotional codes and allowances; replaying them
// must not schedule the two activities that claim them.
const CLAIM_DISCOUNTS_PATCH = 'claim-promotion-and-allowance-v1';

// Sessions started before this patch kept charging after a declined hold.
const STOP_ON_DECLINE_PATCH = 'remote-stop-on-declined-hold-v1';

// Sessions started before this patch never raised their hold, captured at most the hold and left the rest
// unpaid, and had no capture deadline.
const HOLD_GROWS_PATCH = 'hold-increments-difference-deadline-v1';

// Wallet payers: a reservation at start that grows with the running cost, settled at the end.
const WALLET_PATCH = 'wallet-reservation-v1';

const { openSession, issueReceipt, recordPaymentFailure, claimDiscounts, requestRemoteStop } =
  proxyActivities<ChargingSessionActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

// Money-moving calls: retried with the same idempotency key; a refusal retrying cannot fix is not retried.
const MONEY_RETRY: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['PaymentRejectedError', 'HoldGoneError', 'AmountTooLargeError'],
  },
};
const { authorizePayment, settlePayment } = proxyActivities<ChargingSessionActivities>(MONEY_RETRY);
const { incrementHold, chargeDifference } = proxyActivities<SessionPaymentActivities>(MONEY_RETRY);
const { reserveWallet, extendWalletReservation, settleWallet } = proxyActivities<WalletActivities>({
  ...MONEY_RETRY,
  retry: { ...MONEY_RETRY.retry, nonRetryableErrorTypes: ['WalletError'] },
});

export interface PaymentState {
  paymentId: string;
  amountAuthorized: string;
  /** Whether the hold may be raised; absent in sessions from before increments. */
  incremental?: boolean;
  captureBefore?: string | null;
  /** Workflow time of the authorization: the capture margin is a share of the hold's life from here. */
  authorizedAt?: number;
  /** Increment attempts made, declines included. */
  increments?: number;
  /** The hold could not grow any more: the rest of the price is charged afterwards (or the session stopped). */
  atLimit?: boolean;
}

export interface WalletState {
  userId: string;
  currency: string;
  /** What this session has reserved from the wallet so far. */
  reserved: string;
  extensions: number;
  /** The wallet had no more to reserve: when the running cost reaches `reserved` the session is stopped. */
  exhausted?: boolean;
  stopRequested?: boolean;
}

/** What a session carries into its next run when its history grows long (continue-as-new). */
export interface CarriedState {
  opened: OpenedSession;
  payment: PaymentState | null;
  wallet?: WalletState | null;
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

  let payment: PaymentState | null = carried?.payment ?? null;
  let wallet: WalletState | null = carried?.wallet ?? null;

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
  setHandler(terminalPaymentSignal, (linked) => {
    // Only a terminal-paid session takes one, and only its first: the authorization it captures.
    if (opened?.paymentMode === 'terminal' && payment === null && stop === null) {
      payment = {
        paymentId: linked.paymentId,
        amountAuthorized: linked.amountAuthorized,
        incremental: false,
      };
    }
  });
  setHandler(runningCostQuery, (): RunningCost => {
    const priced = opened ? priceRunning(input, opened, meter) : null;
    return { phase, asOf: meter.lastTimestamp, priced };
  });

  const setStatus = (next: SessionPhase) => {
    phase = next;
    upsertSearchAttributes([{ key: SESSION_STATUS, value: next }]);
  };

  if (!carried) {
    opened = await openSession(input);
    if (opened.status === 'active' && opened.hold && opened.preAuthorized) {
      payment = {
        paymentId: opened.preAuthorized.paymentId,
        amountAuthorized: opened.preAuthorized.amountAuthorized,
        authorizedAt: Date.now(),
        increments: 0,
      };
    } else if (opened.status === 'active' && opened.hold) {
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
        payment = {
          paymentId: auth.paymentId,
          amountAuthorized: auth.amountAuthorized,
          incremental: auth.incremental,
          captureBefore: auth.captureBefore,
          authorizedAt: Date.now(),
          increments: 0,
        };
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
    if (opened.status === 'active' && opened.wallet && patched(WALLET_PATCH)) {
      const reservation = await reserveWallet({
        sessionId: input.sessionId,
        organizationId: input.organizationId,
        userId: opened.wallet.userId,
        currency: opened.wallet.currency,
        amount: opened.wallet.step,
      });
      wallet = {
        userId: opened.wallet.userId,
        currency: opened.wallet.currency,
        reserved: reservation.reserved,
        extensions: 0,
        exhausted: new Dec(reservation.reserved).lt(opened.wallet.step),
      };
    }
    setStatus(opened.status === 'active' ? 'active' : 'unbilled');
  }

  const holdGrows = patched(HOLD_GROWS_PATCH);
  if (wallet) {
    stop = await watchWallet(
      input,
      opened!,
      () => meter,
      () => stop,
      wallet,
    );
  } else if (holdGrows) {
    stop = await watchHold(
      input,
      opened!,
      () => meter,
      () => stop,
      payment,
    );
  } else {
    await condition(() => stop !== null || workflowInfo().continueAsNewSuggested);
  }
  if (stop === null) {
    await condition(allHandlersFinished);
    return continueAsNew<typeof chargingSession>(input, {
      opened: opened!,
      payment,
      wallet,
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
      let settled = { amountCaptured: formatMoney(0, priced.currency) };
      try {
        settled = await settlePayment({
          sessionId: input.sessionId,
          organizationId: input.organizationId,
          paymentId: payment.paymentId,
          currency: priced.currency,
          amountDue: priced.total,
          amountAuthorized: payment.amountAuthorized,
          idempotencyKey: `${workflowInfo().workflowId}:settle`,
        });
      } catch (err) {
        // The hold expired before the capture: the whole price is the difference.
        if (!(holdGrows && failureType(err) === 'HoldGoneError')) throw err;
      }
      amountCaptured = settled.amountCaptured;
      const rest = new Dec(priced.total).sub(amountCaptured);
      if (holdGrows && rest.gt(0) && opened!.hold) {
        const difference = await chargeDifference({
          sessionId: input.sessionId,
          organizationId: input.organizationId,
          userId: opened!.pricing?.userId ?? null,
          currency: priced.currency,
          amount: formatMoney(rest, priced.currency),
          paymentMethodId: opened!.hold.paymentMethodId,
          customerId: opened!.hold.customerId,
          idempotencyKey: `${workflowInfo().workflowId}:difference`,
        });
        if (difference.status === 'charged') {
          amountCaptured = formatMoney(new Dec(amountCaptured).add(difference.amount), priced.currency);
        }
      }
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
  } else if (priced && wallet) {
    const settled = await settleWallet({
      sessionId: input.sessionId,
      cost: priced.total,
      currency: priced.currency,
    });
    amountCaptured = formatMoney(settled.charged, priced.currency);
    if (new Dec(settled.shortfall).gt(0)) {
      // What the wallet could not cover is the driver's debt (no card to charge it to).
      await chargeDifference({
        sessionId: input.sessionId,
        organizationId: input.organizationId,
        userId: wallet.userId,
        currency: priced.currency,
        amount: formatMoney(settled.shortfall, priced.currency),
        paymentMethodId: '',
        idempotencyKey: `${workflowInfo().workflowId}:difference`,
      });
    }
    paymentStatus = new Dec(amountCaptured).gte(priced.total) ? 'paid' : 'partially_paid';
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

const failureType = (err: unknown): string | undefined =>
  err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
    ? (err.cause.type ?? undefined)
    : undefined;

// Captures are made this long before the provider's deadline, at most an hour (a tenth of a short hold).
const DEADLINE_MARGIN_MS = 3600_000;
const MAX_INCREMENTS = 10;

/**
 * Waits for the stop while keeping the hold ahead of the running cost: at the policy's share of the hold
 * it asks the provider for more; when that cannot be had it stops the session (policy `stop`) or lets it
 * run and charges the rest afterwards. When no StopTransaction comes before the hold's capture deadline,
 * the session ends with the readings received, flagged `CaptureDeadline` for the operator.
 */
async function watchHold(
  input: ChargingSessionInput,
  opened: OpenedSession,
  meterNow: () => MeterState,
  stopNow: () => StopTransactionV1 | null,
  payment: PaymentState | null,
): Promise<StopTransactionV1 | null> {
  const hold = opened.hold;
  const percent = hold?.incrementAtPercent ? new Dec(hold.incrementAtPercent) : null;
  const needsMore = () => {
    if (!payment || !percent || payment.atLimit) return false;
    const running = priceRunning(input, opened, meterNow());
    return (
      running !== null && new Dec(running.total).gte(new Dec(payment.amountAuthorized).mul(percent).div(100))
    );
  };
  const deadlineAt = payment?.captureBefore
    ? Date.parse(payment.captureBefore) -
      Math.min(
        DEADLINE_MARGIN_MS,
        (Date.parse(payment.captureBefore) - (payment.authorizedAt ?? Date.now())) / 10,
      )
    : null;
  for (;;) {
    const wake = () => stopNow() !== null || workflowInfo().continueAsNewSuggested || needsMore();
    const woke =
      deadlineAt === null
        ? (await condition(wake), true)
        : await condition(wake, Math.max(0, deadlineAt - Date.now()));
    if (stopNow() !== null || workflowInfo().continueAsNewSuggested) return stopNow();
    if (!woke) {
      const m = meterNow();
      return { meterStopWh: m.lastEnergyWh, timestamp: m.lastTimestamp, reason: 'CaptureDeadline' };
    }
    // The hold grows by its first amount at a time, enough to cover the running cost past the threshold.
    const attempt = (payment!.increments ?? 0) + 1;
    const running = new Dec(priceRunning(input, opened, meterNow())!.total);
    let target = new Dec(payment!.amountAuthorized).add(hold!.amount);
    while (running.gte(target.mul(percent!).div(100))) target = target.add(hold!.amount);
    const raised =
      payment!.incremental === false || attempt > MAX_INCREMENTS
        ? ({ status: 'unavailable', code: 'increments_unavailable' } as const)
        : await incrementHold({
            sessionId: input.sessionId,
            organizationId: input.organizationId,
            paymentId: payment!.paymentId,
            currency: hold!.currency,
            newAmount: formatMoney(target, hold!.currency),
            idempotencyKey: `${workflowInfo().workflowId}:increment:${attempt}`,
          });
    payment!.increments = attempt;
    if (raised.status === 'incremented') {
      payment!.amountAuthorized = raised.amountAuthorized;
      continue;
    }
    payment!.atLimit = true;
    if (hold!.onLimit === 'stop') {
      await requestRemoteStop({
        organizationId: input.organizationId,
        chargePointId: input.chargePointId,
        transactionId: input.transactionId,
        idempotencyKey: `${workflowInfo().workflowId}:remote-stop-at-limit`,
      });
    }
  }
}

/**
 * A wallet payer's session: the reservation grows by the wallet step at the policy's share of it while the
 * wallet has more; once it has none, the session is stopped remotely when its running cost reaches what is
 * reserved, so a session never spends more than the balance.
 */
async function watchWallet(
  input: ChargingSessionInput,
  opened: OpenedSession,
  meterNow: () => MeterState,
  stopNow: () => StopTransactionV1 | null,
  wallet: WalletState,
): Promise<StopTransactionV1 | null> {
  const plan = opened.wallet!;
  const running = () => {
    const priced = priceRunning(input, opened, meterNow());
    return priced ? new Dec(priced.total) : new Dec(0);
  };
  const needsMore = () => running().gte(new Dec(wallet.reserved).mul(plan.incrementAtPercent).div(100));
  const ranOut = () => !wallet.stopRequested && running().gte(wallet.reserved);
  for (;;) {
    await condition(
      () =>
        stopNow() !== null ||
        workflowInfo().continueAsNewSuggested ||
        (wallet.exhausted ? ranOut() : needsMore()),
    );
    if (stopNow() !== null || workflowInfo().continueAsNewSuggested) return stopNow();
    if (!wallet.exhausted) {
      const step = wallet.extensions + 1;
      const extended = await extendWalletReservation({ sessionId: input.sessionId, amount: plan.step, step });
      wallet.extensions = step;
      // Less than a whole step more means the wallet is empty now.
      wallet.exhausted = new Dec(extended.reserved).lt(new Dec(wallet.reserved).add(plan.step));
      wallet.reserved = extended.reserved;
      continue;
    }
    wallet.stopRequested = true;
    await requestRemoteStop({
      organizationId: input.organizationId,
      chargePointId: input.chargePointId,
      transactionId: input.transactionId,
      idempotencyKey: `${workflowInfo().workflowId}:remote-stop-wallet-empty`,
    });
  }
}
