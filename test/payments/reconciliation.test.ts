import type { Knex } from 'knex';
import { createReconciliationActivities } from '../../activities/reconciliation';
import {
  PlatformCapture,
  PlatformDelivery,
  PlatformDispute,
  PlatformRefund,
  reconcile,
  ReconciliationInput,
} from '../../payments/reconciliation';
import type {
  ProviderBalanceTransaction,
  ProviderDispute,
  ProviderPayment,
  ProviderRefund,
} from '../../payments/provider-records';
import { Dec, fromMinorUnits } from '../../pricing/money';

// The pure comparison, on in-memory records of both sides. Fees follow the fake's rule (1.4 % + 25 minor),
// computed here by the test's own builders.

const ORG = 'org_1';
const DAY = { from: new Date('2026-08-10T00:00:00Z'), to: new Date('2026-08-11T00:00:00Z') };
const LAG = 2 * 86_400_000;
const at = (hhmm: string, day = '2026-08-10') => new Date(`${day}T${hhmm}:00Z`);
const fee = (minor: number) => Math.round(minor * 0.014) + 25;
const eur = (minor: number) => fromMinorUnits(minor, 'EUR').toFixed(2);

let n = 0;
function capture(minor: number, time: Date, over: Partial<PlatformCapture> = {}) {
  n++;
  const ours: PlatformCapture = {
    id: `pay_${n}`,
    providerPaymentId: `pi_${n}`,
    status: 'captured',
    amount: eur(minor),
    currency: 'EUR',
    capturedAt: time,
    ...over,
  };
  const theirs: ProviderPayment = {
    paymentId: ours.providerPaymentId,
    chargeId: `ch_${n}`,
    status: 'succeeded',
    amountMinor: minor,
    amountCapturedMinor: minor,
    currency: 'eur',
    created: new Date(time.getTime() - 30 * 60_000).toISOString(),
    metadata: { organization_id: ORG },
  };
  const charge: ProviderBalanceTransaction = {
    id: `txn_${n}`,
    type: 'charge',
    sourceId: theirs.chargeId,
    paymentId: theirs.paymentId,
    amountMinor: minor,
    feeMinor: fee(minor),
    netMinor: minor - fee(minor),
    currency: 'eur',
    status: 'pending',
    created: time.toISOString(),
    availableOn: new Date(time.getTime() + LAG).toISOString(),
  };
  return { ours, theirs, charge };
}

function refund(of: ProviderPayment, minor: number, time: Date) {
  n++;
  const ours: PlatformRefund = {
    id: `re_${n}`,
    providerRefundId: `pyr_${n}`,
    providerPaymentId: of.paymentId,
    amount: eur(minor),
    currency: 'EUR',
    status: 'succeeded',
    createdAt: time,
  };
  const theirs: ProviderRefund = {
    refundId: ours.providerRefundId,
    paymentId: of.paymentId,
    amountMinor: minor,
    currency: 'eur',
    status: 'succeeded',
    reason: 'requested_by_customer',
    created: time.toISOString(),
    metadata: {},
  };
  const booked: ProviderBalanceTransaction = {
    id: `txn_${n}`,
    type: 'refund',
    sourceId: theirs.refundId,
    paymentId: of.paymentId,
    amountMinor: -minor,
    feeMinor: 0,
    netMinor: -minor,
    currency: 'eur',
    status: 'pending',
    created: time.toISOString(),
    availableOn: time.toISOString(),
  };
  return { ours, theirs, booked };
}

function input(over: {
  captures?: PlatformCapture[];
  refunds?: PlatformRefund[];
  disputes?: PlatformDispute[];
  deliveries?: PlatformDelivery[];
  payments?: ProviderPayment[];
  providerRefunds?: ProviderRefund[];
  providerDisputes?: ProviderDispute[];
  balance?: ProviderBalanceTransaction[];
  asOf?: Date;
  range?: { from: Date; to: Date };
}): ReconciliationInput {
  return {
    organizationId: ORG,
    currency: 'EUR',
    range: over.range ?? DAY,
    lagMs: LAG,
    asOf: over.asOf ?? new Date('2026-08-14T00:00:00Z'),
    platform: {
      captures: over.captures ?? [],
      refunds: over.refunds ?? [],
      disputes: over.disputes ?? [],
      deliveries: over.deliveries ?? [],
    },
    provider: {
      payments: over.payments ?? [],
      refunds: over.providerRefunds ?? [],
      disputes: over.providerDisputes ?? [],
      balanceTransactions: over.balance ?? [],
    },
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A clean day: three captures, one partly refunded, every event delivered. */
function cleanDay() {
  const minors = [1234, 5000, 789];
  const cs = minors.map((m, i) => capture(m, at(`0${i + 1}:00`)));
  const r = refund(cs[1].theirs, 1000, at('12:00'));
  const delivered = (objectId: string, i: number): PlatformDelivery => ({
    id: `whd_${i}`,
    objectId,
    eventType: objectId.startsWith('re_') ? 'refund.created' : 'payment.captured',
    endpointEnabled: true,
    status: 'delivered',
    createdAt: at('13:00'),
  });
  return {
    minors,
    cs,
    r,
    input: input({
      captures: cs.map((c) => c.ours),
      refunds: [r.ours],
      payments: cs.map((c) => c.theirs),
      providerRefunds: [r.theirs],
      balance: [...cs.map((c) => c.charge), r.booked],
      deliveries: [...cs.map((c) => c.ours.id), r.ours.id].map(delivered),
    }),
  };
}

describe('reconcile', () => {
  it('reports nothing on clean data, with totals: net settled = gross - fees - refunds', () => {
    const day = cleanDay();
    const result = reconcile(day.input);
    expect(result.differences).toEqual([]);
    expect(result.deferredCount).toBe(0);
    const fees = sum(day.minors.map(fee));
    expect(result.totals).toEqual({
      grossRevenue: eur(sum(day.minors)),
      refunds: eur(1000),
      processingFees: eur(fees),
      disputes: '0.00',
      disputeFees: '0.00',
      otherFees: '0.00',
      netSettled: eur(sum(day.minors) - fees - 1000),
    });
    expect(
      new Dec(result.totals.netSettled).eq(new Dec(eur(sum(day.minors))).sub(eur(fees)).sub(eur(1000))),
    ).toBe(true);
  });

  it('finds a capture only the provider made, and one we recorded as not captured', () => {
    const day = cleanDay();
    const stray = capture(2500, at('15:00'));
    const held = capture(1800, at('16:00'), { status: 'authorized', amount: '0' });
    const otherOrg = capture(999, at('17:00'));
    otherOrg.theirs.metadata = { organization_id: 'org_other' };
    day.input.platform.captures.push(held.ours);
    day.input.provider.payments.push(stray.theirs, held.theirs, otherOrg.theirs);
    day.input.provider.balanceTransactions.push(stray.charge, held.charge, otherOrg.charge);
    const { differences, totals } = reconcile(day.input);
    expect(differences).toEqual([
      expect.objectContaining({
        kind: 'missing_capture',
        side: 'platform',
        paymentId: null,
        providerPaymentId: stray.theirs.paymentId,
        providerAmount: eur(2500),
        platformAmount: null,
      }),
      expect.objectContaining({
        kind: 'missing_capture',
        side: 'platform',
        paymentId: held.ours.id,
        providerAmount: eur(1800),
        detail: expect.stringContaining('authorized'),
      }),
    ]);
    // Gross is what we captured; what settles is the provider's.
    expect(totals.grossRevenue).toBe(eur(sum(day.minors)));
    expect(totals.processingFees).toBe(eur(sum([...day.minors, 2500, 1800].map(fee))));
  });

  it('reports a capture the provider does not show only once the settlement lag has passed', () => {
    const lost = capture(4200, at('20:00'));
    const data = { captures: [lost.ours] };
    const early = reconcile(input({ ...data, asOf: new Date(at('20:00').getTime() + LAG - 1) }));
    expect(early.differences).toEqual([]);
    expect(early.deferredCount).toBe(1);
    const late = reconcile(input({ ...data, asOf: new Date(at('20:00').getTime() + LAG) }));
    expect(late.differences).toEqual([
      expect.objectContaining({
        kind: 'missing_capture',
        side: 'provider',
        paymentId: lost.ours.id,
        platformAmount: eur(4200),
      }),
    ]);
    expect(late.deferredCount).toBe(0);

    // A provider record that is there but not captured is a difference at once.
    const held = capture(4200, at('20:00'));
    held.theirs.status = 'requires_capture';
    held.theirs.amountCapturedMinor = 0;
    const now = reconcile(input({ captures: [held.ours], payments: [held.theirs], asOf: at('21:00') }));
    expect(now.differences).toEqual([
      expect.objectContaining({
        kind: 'missing_capture',
        side: 'provider',
        detail: expect.stringContaining('requires_capture'),
      }),
    ]);
  });

  it('finds an amount mismatch', () => {
    const day = cleanDay();
    day.cs[0].ours.amount = new Dec(day.cs[0].ours.amount).add('0.50').toFixed(2);
    const { differences, totals } = reconcile(day.input);
    expect(differences).toEqual([
      expect.objectContaining({
        kind: 'amount_mismatch',
        side: null,
        paymentId: day.cs[0].ours.id,
        platformAmount: day.cs[0].ours.amount,
        providerAmount: eur(day.minors[0]),
      }),
    ]);
    expect(totals.grossRevenue).toBe(eur(sum(day.minors) + 50));
  });

  it('finds refunds on one side only, and ignores a failed provider refund nobody recorded', () => {
    const day = cleanDay();
    const dashboard = refund(day.cs[0].theirs, 300, at('18:00'));
    const ours = refund(day.cs[2].theirs, 200, at('19:00'));
    const failed = refund(day.cs[2].theirs, 100, at('19:30'));
    failed.theirs.status = 'failed';
    day.input.provider.refunds.push(dashboard.theirs, failed.theirs);
    day.input.platform.refunds.push(ours.ours);
    const { differences, totals } = reconcile(day.input);
    expect(differences).toEqual([
      expect.objectContaining({
        kind: 'refund_not_recorded',
        side: 'platform',
        paymentId: day.cs[0].ours.id,
        providerRefundId: dashboard.theirs.refundId,
        providerAmount: eur(300),
      }),
      expect.objectContaining({
        kind: 'refund_not_recorded',
        side: 'provider',
        refundId: ours.ours.id,
        platformAmount: eur(200),
      }),
    ]);
    expect(totals.refunds).toBe(eur(1000 + 200));
  });

  it('reports a dispute opened and one closed, its fee, and whether we recorded them', () => {
    const day = cleanDay();
    const c = day.cs[1];
    const opened: ProviderDispute = {
      disputeId: 'dp_1',
      paymentId: c.theirs.paymentId,
      chargeId: c.theirs.chargeId!,
      amountMinor: 5000,
      currency: 'eur',
      status: 'needs_response',
      reason: 'fraudulent',
      created: at('14:00').toISOString(),
    };
    const withdrawal: ProviderBalanceTransaction = {
      ...c.charge,
      id: 'txn_dp_1',
      type: 'adjustment',
      sourceId: 'dp_1',
      amountMinor: -5000,
      feeMinor: 1500,
      netMinor: -6500,
      created: at('14:00').toISOString(),
    };
    day.input.provider.disputes.push(opened);
    day.input.provider.balanceTransactions.push(withdrawal);
    const first = reconcile(day.input);
    expect(first.differences).toEqual([
      expect.objectContaining({
        kind: 'dispute',
        side: 'platform',
        providerDisputeId: 'dp_1',
        providerAmount: eur(5000),
        detail: expect.stringContaining('not recorded here'),
      }),
      expect.objectContaining({ kind: 'fee', balanceTransactionId: 'txn_dp_1', providerAmount: eur(1500) }),
    ]);
    expect(first.totals).toMatchObject({ disputes: eur(5000), disputeFees: eur(1500) });

    // Recorded by us, and won the next day: that day reports the closing (the reinstatement) only.
    const next = { from: DAY.to, to: new Date(DAY.to.getTime() + 86_400_000) };
    day.input.platform.disputes.push({
      id: 'dp_ours',
      providerDisputeId: 'dp_1',
      providerPaymentId: c.theirs.paymentId,
      amount: eur(5000),
      currency: 'EUR',
      status: 'needs_response',
      openedAt: at('14:00'),
      closedAt: null,
    });
    opened.status = 'won';
    day.input.provider.balanceTransactions.push({
      ...withdrawal,
      id: 'txn_dp_2',
      amountMinor: 5000,
      feeMinor: -1500,
      netMinor: 6500,
      created: at('09:00', '2026-08-11').toISOString(),
    });
    const second = reconcile({ ...day.input, range: next });
    expect(second.differences).toEqual([
      expect.objectContaining({
        kind: 'dispute',
        side: null,
        disputeId: 'dp_ours',
        detail: 'dispute closed: won at the provider, recorded here as needs_response',
      }),
      expect.objectContaining({ kind: 'fee', balanceTransactionId: 'txn_dp_2', providerAmount: eur(-1500) }),
    ]);
    expect(second.totals.netSettled).toBe(eur(6500));
  });

  it('reports fee entries that are not processing fees on our charges', () => {
    const day = cleanDay();
    day.input.provider.balanceTransactions.push(
      {
        ...day.cs[0].charge,
        id: 'txn_fee',
        type: 'stripe_fee',
        sourceId: null,
        amountMinor: -199,
        feeMinor: 0,
        netMinor: -199,
      },
      // Not the organization's: no payment behind it.
      { ...day.cs[0].charge, id: 'txn_acct', type: 'stripe_fee', paymentId: null, netMinor: -500 },
    );
    const { differences, totals } = reconcile(day.input);
    expect(differences).toEqual([
      expect.objectContaining({ kind: 'fee', balanceTransactionId: 'txn_fee', providerAmount: eur(199) }),
    ]);
    expect(totals.otherFees).toBe(eur(199));
  });

  it('reports accounting events no enabled endpoint got within the lag', () => {
    const day = cleanDay();
    const [a, b, c] = day.cs.map((x) => x.ours.id);
    const delivery = (
      objectId: string,
      status: PlatformDelivery['status'],
      createdAt: Date,
      enabled = true,
    ) => ({
      id: `whd_${objectId}_${status}`,
      objectId,
      eventType: 'payment.captured',
      endpointEnabled: enabled,
      status,
      createdAt,
    });
    const asOf = new Date(at('10:00').getTime() + LAG);
    day.input.asOf = asOf;
    day.input.platform.deliveries.push(
      delivery(a, 'failed', at('01:00')),
      delivery(b, 'pending', at('09:00')),
      delivery(c, 'pending', at('11:00')),
      delivery(c, 'failed', at('11:00'), false),
      delivery('pay_elsewhere', 'failed', at('11:00')),
    );
    const { differences } = reconcile(day.input);
    expect(differences.map((d) => [d.kind, d.paymentId, d.detail])).toEqual([
      ['webhook_undelivered', a, `payment.captured event, delivery whd_${a}_failed: failed`],
      ['webhook_undelivered', b, `payment.captured event, delivery whd_${b}_pending: pending`],
    ]);
  });

  it('anchors each capture in one range: ours when we have it, the provider charge otherwise', () => {
    const late = capture(1500, at('23:59'));
    late.charge.created = at('00:01', '2026-08-11').toISOString();
    const theirsOnly = capture(700, at('23:58'));
    theirsOnly.charge.created = at('00:02', '2026-08-11').toISOString();
    const data = input({
      captures: [late.ours],
      payments: [late.theirs, theirsOnly.theirs],
      balance: [late.charge, theirsOnly.charge],
    });
    const today = reconcile(data);
    expect(today.differences).toEqual([]);
    expect(today.totals).toMatchObject({ grossRevenue: eur(1500), netSettled: '0.00' });
    const tomorrow = reconcile({
      ...data,
      range: { from: DAY.to, to: new Date(DAY.to.getTime() + 86_400_000) },
    });
    expect(tomorrow.differences).toEqual([
      expect.objectContaining({ kind: 'missing_capture', providerPaymentId: theirsOnly.theirs.paymentId }),
    ]);
    expect(tomorrow.totals).toMatchObject({
      grossRevenue: '0.00',
      netSettled: eur(1500 - fee(1500) + 700 - fee(700)),
    });
  });

  it('keeps other currencies out of the totals and reports them', () => {
    const usd = capture(1000, at('10:00'), { currency: 'USD' });
    usd.theirs.currency = 'usd';
    usd.charge.currency = 'usd';
    const { differences, totals } = reconcile(
      input({ captures: [usd.ours], payments: [usd.theirs], balance: [usd.charge] }),
    );
    expect(differences.map((d) => [d.kind, d.currency])).toEqual([
      ['other_currency', 'USD'],
      ['other_currency', 'USD'],
    ]);
    expect(totals).toMatchObject({ grossRevenue: '0.00', netSettled: '0.00', processingFees: '0.00' });
  });
});

describe('reconciliation activity', () => {
  it('fails at once, without retrying, when the worker has no provider records', async () => {
    const activities = createReconciliationActivities({ db: {} as Knex });
    await expect(
      activities.reconcileRange({ organizationId: ORG, from: '2026-08-10', to: '2026-08-11', lagSeconds: 0 }),
    ).rejects.toMatchObject({ type: 'ProviderRecordsMissing', nonRetryable: true });
  });
});
