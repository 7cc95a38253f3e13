// Reconciliation: our captures, refunds and disputes against the payment provider's records. Pure (no I/O, no
// clock): the activity fetches both sides and passes `asOf`.
//
// Each item is anchored at one instant, our side's when we have it (else the provider's), and reported only by
// the range that holds that instant: a capture at 23:59 whose charge the provider books at 00:01 belongs to one
// daily report, never two. Provider records are fetched with a margin (the settlement lag) around the range,
// so such neighbours are still matched.
import { isCurrency } from '../pricing/currency';
import { Dec, formatMoney, fromMinorUnits } from '../pricing/money';
import type {
  Difference,
  ReconciliationInput,
  ReconciliationResult,
  ReconciliationTotals,
} from './reconciliation-model';

export * from './reconciliation-model';

const CHARGE_TYPES = new Set(['charge', 'payment']);
const REFUND_TYPES = new Set(['refund', 'payment_refund']);
const DISPUTE_TYPES = new Set(['adjustment']);
const NO_MONEY_MOVED = new Set(['failed', 'canceled']);
const DISPUTE_CLOSED = new Set(['won', 'lost', 'warning_closed', 'charge_refunded']);

type Ids = Partial<
  Pick<
    Difference,
    | 'side'
    | 'paymentId'
    | 'providerPaymentId'
    | 'refundId'
    | 'providerRefundId'
    | 'disputeId'
    | 'providerDisputeId'
    | 'balanceTransactionId'
    | 'platformAmount'
    | 'providerAmount'
  >
>;

const fromProvider = (minor: number, currency: string): Dec =>
  isCurrency(currency) ? fromMinorUnits(minor, currency) : new Dec(minor).div(100);
const text = (amount: Dec, currency: string): string =>
  isCurrency(currency) ? formatMoney(amount, currency) : amount.toFixed();

export function reconcile(input: ReconciliationInput): ReconciliationResult {
  const { platform, provider, range, lagMs, asOf } = input;
  const currency = input.currency.toUpperCase();
  const inRange = (t: Date | null): t is Date => t !== null && t >= range.from && t < range.to;
  const lagPassed = (t: Date) => asOf.getTime() >= t.getTime() + lagMs;
  const differences: Difference[] = [];
  const sums = {
    grossRevenue: new Dec(0),
    refunds: new Dec(0),
    processingFees: new Dec(0),
    disputes: new Dec(0),
    disputeFees: new Dec(0),
    otherFees: new Dec(0),
    netSettled: new Dec(0),
  };
  let deferredCount = 0;

  function report(kind: Difference['kind'], cur: string, occurredAt: Date, detail: string, ids: Ids): void {
    differences.push({
      kind,
      side: null,
      paymentId: null,
      providerPaymentId: null,
      refundId: null,
      providerRefundId: null,
      disputeId: null,
      providerDisputeId: null,
      balanceTransactionId: null,
      platformAmount: null,
      providerAmount: null,
      ...ids,
      currency: cur,
      occurredAt,
      detail,
    });
  }
  function otherCurrency(cur: string, at: Date, what: string, ids: Ids): void {
    if (cur !== currency) {
      report(
        'other_currency',
        cur,
        at,
        `${what} in ${cur}; the report is in ${currency}, so no total has it`,
        ids,
      );
    }
  }

  // Ours by the provider's payment id, and every payment id that is the organization's: its refunds,
  // disputes and balance transactions are found through it.
  const ourCaptures = new Map(platform.captures.map((c) => [c.providerPaymentId, c]));
  const owned = new Set([
    ...ourCaptures.keys(),
    ...platform.refunds.map((r) => r.providerPaymentId),
    ...platform.disputes.map((d) => d.providerPaymentId),
  ]);
  for (const p of provider.payments) {
    if (p.metadata.organization_id === input.organizationId) owned.add(p.paymentId);
  }
  const theirPayments = new Map(
    provider.payments.filter((p) => owned.has(p.paymentId)).map((p) => [p.paymentId, p]),
  );
  const balance = provider.balanceTransactions.filter((bt) => bt.paymentId && owned.has(bt.paymentId));
  // The charge's balance transaction is booked at capture; the PaymentIntent's `created` is the hold.
  const chargedAt = new Map<string, Date>();
  for (const bt of balance) {
    if (!CHARGE_TYPES.has(bt.type)) continue;
    const at = new Date(bt.created);
    const seen = chargedAt.get(bt.paymentId!);
    if (!seen || at < seen) chargedAt.set(bt.paymentId!, at);
  }

  // Captures.
  for (const pi of new Set([...ourCaptures.keys(), ...theirPayments.keys()])) {
    const ours = ourCaptures.get(pi);
    const theirs = theirPayments.get(pi);
    const oursCaptured = ours?.status === 'captured' ? ours : undefined;
    const theirsCaptured = theirs && theirs.amountCapturedMinor > 0 ? theirs : undefined;
    const at =
      oursCaptured?.capturedAt ??
      (theirsCaptured ? (chargedAt.get(pi) ?? new Date(theirsCaptured.created)) : null);
    if (!inRange(at)) continue;
    const ourCur = ours?.currency.toUpperCase() ?? currency;
    const theirCur = theirs?.currency.toUpperCase() ?? currency;
    const ourAmount = oursCaptured && new Dec(oursCaptured.amount);
    const theirAmount = theirsCaptured && fromProvider(theirsCaptured.amountCapturedMinor, theirCur);
    const ids: Ids = {
      paymentId: ours?.id ?? null,
      providerPaymentId: pi,
      platformAmount: ourAmount ? text(ourAmount, ourCur) : null,
      providerAmount: theirAmount ? text(theirAmount, theirCur) : null,
    };
    if (ourAmount) {
      otherCurrency(ourCur, at, 'a capture', ids);
      if (ourCur === currency) sums.grossRevenue = sums.grossRevenue.add(ourAmount);
    } else {
      otherCurrency(theirCur, at, 'a capture at the provider', ids);
    }
    if (ourAmount && theirAmount) {
      if (ourCur !== theirCur || !ourAmount.eq(theirAmount)) {
        report(
          'amount_mismatch',
          ourCur,
          at,
          `captured ${ids.platformAmount} ${ourCur} here, ${ids.providerAmount} ${theirCur} at the provider`,
          ids,
        );
      }
    } else if (theirAmount) {
      const why = ours ? `our payment is ${ours.status}` : 'the platform has no record of the payment';
      report('missing_capture', theirCur, at, `captured at the provider only: ${why}`, {
        ...ids,
        side: 'platform',
      });
    } else if (theirs) {
      report(
        'missing_capture',
        ourCur,
        at,
        `captured here only: the provider's payment is ${theirs.status}`,
        { ...ids, side: 'provider' },
      );
    } else if (lagPassed(at)) {
      report('missing_capture', ourCur, at, 'captured here only: the provider has no record of the payment', {
        ...ids,
        side: 'provider',
      });
    } else {
      deferredCount++;
    }
  }

  // Refunds; a failed or canceled one moved no money, on either side.
  const ourRefunds = new Map(platform.refunds.map((r) => [r.providerRefundId, r]));
  const theirRefunds = new Map(
    provider.refunds.filter((r) => owned.has(r.paymentId)).map((r) => [r.refundId, r]),
  );
  for (const id of new Set([...ourRefunds.keys(), ...theirRefunds.keys()])) {
    const ours = ourRefunds.get(id);
    const theirs = theirRefunds.get(id);
    const at = ours?.createdAt ?? new Date(theirs!.created);
    if (!inRange(at)) continue;
    const ourCur = ours?.currency.toUpperCase() ?? currency;
    const theirCur = theirs?.currency.toUpperCase() ?? currency;
    const ourAmount = ours && (NO_MONEY_MOVED.has(ours.status) ? new Dec(0) : new Dec(ours.amount));
    const theirAmount =
      theirs && (NO_MONEY_MOVED.has(theirs.status) ? new Dec(0) : fromProvider(theirs.amountMinor, theirCur));
    const ids: Ids = {
      paymentId: ourCaptures.get(ours?.providerPaymentId ?? theirs!.paymentId)?.id ?? null,
      providerPaymentId: ours?.providerPaymentId ?? theirs!.paymentId,
      refundId: ours?.id ?? null,
      providerRefundId: id,
      platformAmount: ourAmount ? text(ourAmount, ourCur) : null,
      providerAmount: theirAmount ? text(theirAmount, theirCur) : null,
    };
    otherCurrency(ours ? ourCur : theirCur, at, 'a refund', ids);
    if (ourAmount && ourCur === currency) sums.refunds = sums.refunds.add(ourAmount);
    if (ourAmount && theirAmount) {
      if (ourCur !== theirCur || !ourAmount.eq(theirAmount)) {
        const status =
          theirs!.status === ours!.status ? '' : ` (${ours!.status} here, ${theirs!.status} there)`;
        report(
          'amount_mismatch',
          ourCur,
          at,
          `refunded ${ids.platformAmount} ${ourCur} here, ${ids.providerAmount} ${theirCur} at the provider${status}`,
          ids,
        );
      }
    } else if (theirAmount) {
      if (!theirAmount.isZero()) {
        report(
          'refund_not_recorded',
          theirCur,
          at,
          `refunded at the provider (${theirs!.reason ?? 'no reason given'}), not recorded here`,
          { ...ids, side: 'platform' },
        );
      }
    } else if (ourAmount!.isZero()) {
      // Failed here and unknown there: no money moved.
    } else if (lagPassed(at)) {
      report('refund_not_recorded', ourCur, at, 'refunded here, unknown to the provider', {
        ...ids,
        side: 'provider',
      });
    } else {
      deferredCount++;
    }
  }

  // Disputes: each opening and each closing in the range, and whether we recorded it.
  const disputeBalance = new Map<string, Date[]>();
  for (const bt of balance) {
    if (!DISPUTE_TYPES.has(bt.type) || !bt.sourceId) continue;
    disputeBalance.set(bt.sourceId, [...(disputeBalance.get(bt.sourceId) ?? []), new Date(bt.created)]);
  }
  const ourDisputes = new Map(platform.disputes.map((d) => [d.providerDisputeId, d]));
  const theirDisputes = new Map(
    provider.disputes.filter((d) => owned.has(d.paymentId)).map((d) => [d.disputeId, d]),
  );
  for (const id of new Set([...ourDisputes.keys(), ...theirDisputes.keys()])) {
    const ours = ourDisputes.get(id);
    const theirs = theirDisputes.get(id);
    const cur = (theirs?.currency ?? ours!.currency).toUpperCase();
    const theirAmount = theirs && fromProvider(theirs.amountMinor, cur);
    const ids: Ids = {
      side: ours ? (theirs ? null : 'provider') : 'platform',
      paymentId: ourCaptures.get(ours?.providerPaymentId ?? theirs!.paymentId)?.id ?? null,
      providerPaymentId: ours?.providerPaymentId ?? theirs!.paymentId,
      disputeId: ours?.id ?? null,
      providerDisputeId: id,
      platformAmount: ours ? text(new Dec(ours.amount), ours.currency.toUpperCase()) : null,
      providerAmount: theirAmount ? text(theirAmount, cur) : null,
    };
    const recorded = ours ? `recorded here as ${ours.status}` : 'not recorded here';
    const there = theirs ? `${theirs.status} at the provider` : 'unknown to the provider';
    const openedAt = ours?.openedAt ?? new Date(theirs!.created);
    if (inRange(openedAt)) {
      otherCurrency(cur, openedAt, 'a dispute', ids);
      if (cur === currency) sums.disputes = sums.disputes.add(theirAmount ?? new Dec(ours!.amount));
      if (!theirs && !lagPassed(openedAt)) deferredCount++;
      else
        report(
          'dispute',
          cur,
          openedAt,
          `dispute opened (${theirs?.reason ?? 'reason unknown'}): ${there}, ${recorded}`,
          ids,
        );
    }
    // The provider tells no closing time; a won dispute's reinstatement is booked then.
    const booked = (disputeBalance.get(id) ?? []).sort((a, b) => a.getTime() - b.getTime());
    const closedAt =
      ours?.closedAt ??
      (theirs && DISPUTE_CLOSED.has(theirs.status) && booked.length > 1 ? booked[booked.length - 1] : null);
    if (inRange(closedAt)) {
      report('dispute', cur, closedAt, `dispute closed: ${there}, ${recorded}`, ids);
    }
  }

  // Balance transactions: fees and what settles.
  for (const bt of balance) {
    const at = new Date(bt.created);
    if (!inRange(at)) continue;
    const cur = bt.currency.toUpperCase();
    const ids: Ids = {
      paymentId: ourCaptures.get(bt.paymentId!)?.id ?? null,
      providerPaymentId: bt.paymentId,
      balanceTransactionId: bt.id,
    };
    if (cur !== currency) {
      otherCurrency(cur, at, `a ${bt.type} balance transaction`, {
        ...ids,
        providerAmount: text(fromProvider(bt.netMinor, cur), cur),
      });
      continue;
    }
    const fee = fromProvider(bt.feeMinor, cur);
    sums.netSettled = sums.netSettled.add(fromProvider(bt.netMinor, cur));
    if (CHARGE_TYPES.has(bt.type)) {
      sums.processingFees = sums.processingFees.add(fee);
      continue;
    }
    // Anything but a fee on a charge is not an ordinary processing fee: say so, with what it cost.
    let cost = fee;
    let what = `fee on a ${bt.type}`;
    if (DISPUTE_TYPES.has(bt.type)) {
      sums.disputeFees = sums.disputeFees.add(fee);
      what = 'dispute fee';
    } else if (REFUND_TYPES.has(bt.type)) {
      sums.otherFees = sums.otherFees.add(fee);
    } else {
      cost = fromProvider(-bt.netMinor, cur);
      sums.otherFees = sums.otherFees.add(cost);
      what = `${bt.type} entry`;
    }
    if (!cost.isZero()) {
      report('fee', cur, at, `${what} (${bt.sourceId ?? 'no source'})`, {
        ...ids,
        providerDisputeId: DISPUTE_TYPES.has(bt.type) ? bt.sourceId : null,
        providerAmount: text(cost, cur),
      });
    }
  }

  // Accounting events of our captures and refunds in the range that no enabled endpoint got in time.
  const objects = new Map<string, Ids & { at: Date; cur: string }>();
  for (const c of platform.captures) {
    if (c.status === 'captured' && inRange(c.capturedAt)) {
      objects.set(c.id, {
        paymentId: c.id,
        providerPaymentId: c.providerPaymentId,
        at: c.capturedAt,
        cur: c.currency.toUpperCase(),
      });
    }
  }
  for (const r of platform.refunds) {
    if (inRange(r.createdAt)) {
      objects.set(r.id, {
        refundId: r.id,
        providerRefundId: r.providerRefundId,
        providerPaymentId: r.providerPaymentId,
        at: r.createdAt,
        cur: r.currency.toUpperCase(),
      });
    }
  }
  for (const d of platform.deliveries) {
    const object = objects.get(d.objectId);
    if (!object || !d.endpointEnabled) continue;
    const late = d.status === 'failed' || (d.status === 'pending' && lagPassed(d.createdAt));
    if (!late) continue;
    const { at, cur, ...ids } = object;
    report('webhook_undelivered', cur, at, `${d.eventType} event, delivery ${d.id}: ${d.status}`, ids);
  }

  differences.sort(
    (a, b) =>
      a.occurredAt.getTime() - b.occurredAt.getTime() ||
      a.kind.localeCompare(b.kind) ||
      key(a).localeCompare(key(b)),
  );
  const totals = Object.fromEntries(
    Object.entries(sums).map(([name, sum]) => [name, text(sum, currency)]),
  ) as unknown as ReconciliationTotals;
  return { currency, differences, totals, deferredCount };
}

const key = (d: Difference) =>
  [d.providerPaymentId, d.providerRefundId, d.providerDisputeId, d.balanceTransactionId, d.detail].join('|');
