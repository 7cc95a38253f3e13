// Priced sessions per second on one core, through the whole pure pricing function the workflow calls
// (rules, meter timeline, OCPI rating, lines, VAT, totals), and through the OCPI rating step alone.
// (a) a one-hour per-kWh session; (b) a 24-hour session with 5-minute meter samples under a time-of-day +
// idle-fee tariff with three billing rules. Targets: (a) >= 100,000/s, (b) >= 5,000/s.
// Usage: npm run build && node dist/bench/pricing.js [seconds per case=3]
import { buildTimeline } from '../pricing/meter-timeline';
import type { TariffDefinition } from '../pricing/model';
import { ratePeriods } from '../pricing/rate-periods';
import { durationThresholdsMs, energyThresholdsMWh, restrictionCuts } from '../pricing/restrictions';
import type { PricingContext } from '../pricing/rule-evaluation';
import type { BillingRule } from '../pricing/rules';
import { priceChargingSession, SessionPricingInput } from '../pricing/session-price';
import type { TariffVersion } from '../pricing/tariff';

const HOUR = 3_600_000;

const perKwh: TariffVersion = {
  tariffId: 'tar_bench',
  versionId: 'tarv_bench_a',
  version: 1,
  currency: 'EUR',
  definition: {
    currency: 'EUR',
    elements: [{ price_components: [{ type: 'ENERGY', price: '0.39', vat: '21', step_size: 1 }] }],
  },
};

const touIdle: TariffDefinition = {
  currency: 'EUR',
  idle: { grace_period_seconds: 1800, max_cost: '20.00' },
  elements: [
    {
      price_components: [
        { type: 'ENERGY', price: '0.25', vat: '21', step_size: 1 },
        { type: 'PARKING_TIME', price: '6.00', vat: '21', step_size: 60 },
      ],
      restrictions: { start_time: '23:00', end_time: '07:00' },
    },
    {
      price_components: [
        { type: 'ENERGY', price: '0.45', vat: '21', step_size: 1 },
        { type: 'PARKING_TIME', price: '12.00', vat: '21', step_size: 60 },
      ],
      restrictions: { day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] },
    },
    {
      price_components: [
        { type: 'FLAT', price: '0.50', vat: '21', step_size: 1 },
        { type: 'ENERGY', price: '0.35', vat: '21', step_size: 1 },
        { type: 'PARKING_TIME', price: '9.00', vat: '21', step_size: 60 },
      ],
    },
  ],
};

const rule = (
  id: string,
  priority: number,
  r: Omit<BillingRule, 'id' | 'versionId' | 'version' | 'priority'>,
) => ({
  id,
  versionId: `${id}_v1`,
  version: 1,
  priority,
  ...r,
});

const rules: BillingRule[] = [
  rule('rule_dcfast', 10, {
    name: 'DC fast surcharge',
    stackable: true,
    conditions: { power_class: ['DC_FAST'] },
    action: { type: 'surcharge', amount: '1.00' },
  }),
  rule('rule_weekend', 20, {
    name: 'Weekend nights half price',
    stackable: true,
    conditions: {
      day_of_week: ['SATURDAY', 'SUNDAY'],
      time_window: { start_time: '20:00', end_time: '08:00' },
    },
    action: { type: 'override', price_multiplier: '0.5' },
  }),
  rule('rule_member', 30, {
    name: 'Members 10% off',
    stackable: false,
    conditions: { membership: true },
    action: { type: 'discount', percent: '10' },
  }),
];

const context: PricingContext = {
  userType: 'member',
  siteId: 'site_bench',
  chargePointId: 'cp_bench',
  powerClass: 'DC_FAST',
  connectorType: 'IEC_62196_T2_COMBO',
  promotionalCode: null,
  member: true,
  timeZone: 'Europe/Amsterdam',
};

/** 30 different start days so time-zone caches see what a month of real sessions shows them. */
function startOf(i: number): number {
  return Date.UTC(2026, 2, 1 + (i % 30), 6, 17, 0);
}

function oneHourSession(i: number): SessionPricingInput {
  const start = startOf(i);
  return {
    tariff: perKwh,
    rules: [],
    context: { ...context, powerClass: 'AC', member: false },
    usage: {
      startedAt: new Date(start).toISOString(),
      stoppedAt: new Date(start + HOUR).toISOString(),
      meterStartWh: '1000000',
      meterStopWh: '1011000',
      samples: [],
      statuses: [],
    },
  };
}

function dayLongSession(i: number): SessionPricingInput {
  const start = startOf(i);
  const samples = [];
  // Charges for 20 hours at a varying 3-11 kW, then stays plugged in for 4 hours.
  let wh = 5_000_000;
  for (let k = 1; k <= 288; k++) {
    if (k <= 240) wh += Math.round((3000 + ((k * 37) % 8000)) / 12);
    samples.push({ timestamp: new Date(start + k * 300_000).toISOString(), energyWh: String(wh) });
  }
  return {
    tariff: {
      tariffId: 'tar_bench',
      versionId: 'tarv_bench_b',
      version: 1,
      currency: 'EUR',
      definition: touIdle,
    },
    rules,
    context,
    usage: {
      startedAt: new Date(start).toISOString(),
      stoppedAt: new Date(start + 24 * HOUR).toISOString(),
      meterStartWh: '5000000',
      meterStopWh: String(wh),
      samples,
      statuses: [],
    },
  };
}

let filter: string | undefined;

function measure(
  label: string,
  seconds: number,
  inputs: SessionPricingInput[],
  run: (x: SessionPricingInput) => unknown,
) {
  if (filter && !label.includes(filter)) return NaN;
  for (let i = 0; i < 2000; i++) run(inputs[i % inputs.length]);
  let n = 0;
  const started = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let k = 0; k < 100; k++) run(inputs[n++ % inputs.length]);
    elapsed = process.hrtime.bigint() - started;
  }
  const perSecond = (n / Number(elapsed)) * 1e9;
  console.log(`${label.padEnd(58)} ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} /s`);
  return perSecond;
}

/** The OCPI rating step alone: the timeline and rating a CDR verification would run. */
function rateOnly(input: SessionPricingInput) {
  const def = input.tariff.definition!;
  const start = Date.parse(input.usage.startedAt);
  const end = Date.parse(input.usage.stoppedAt);
  const timeline = buildTimeline({
    ...input.usage,
    cuts: {
      instantsMs: restrictionCuts(def, input.context.timeZone, start, end),
      energyThresholdsMWh: energyThresholdsMWh(def),
      durationThresholdsMs: durationThresholdsMs(def),
    },
  });
  return ratePeriods(def, {
    sessionStartMs: start,
    sessionEndMs: end,
    timeZone: input.context.timeZone,
    periods: timeline.periods,
  });
}

function main() {
  const seconds = Number(process.argv[2] ?? 3);
  // An optional label filter, e.g. `(b)`, to profile one case with node --cpu-prof.
  filter = process.argv[3];
  const a = Array.from({ length: 30 }, (_, i) => oneHourSession(i));
  const b = Array.from({ length: 30 }, (_, i) => dayLongSession(i));
  const sample = priceChargingSession(b[0]);
  console.log(
    `case (b): ${sample.lines.length} lines, ${sample.appliedRules.length} rules applied, total ${sample.total} ${sample.currency}`,
  );
  const fullA = measure('(a) 1-hour per-kWh session, full pricing', seconds, a, priceChargingSession);
  const fullB = measure(
    '(b) 24-hour, 288 samples, ToU + idle + 3 rules, full pricing',
    seconds,
    b,
    priceChargingSession,
  );
  // A worker prices each session many times with its own tariff object: the compiled form is cached per
  // definition object. The first pricing of a session compiles it; a fresh copy per call shows that cost.
  const cold = (x: SessionPricingInput) =>
    priceChargingSession({ ...x, tariff: { ...x.tariff, definition: structuredClone(x.tariff.definition) } });
  measure('(a) same, tariff compiled on every call (first pricing)', seconds, a, cold);
  measure('(b) same, tariff compiled on every call (first pricing)', seconds, b, cold);
  measure('(a) timeline + OCPI rating only', seconds, a, rateOnly);
  measure('(b) timeline + OCPI rating only', seconds, b, rateOnly);
  console.log(
    `targets: (a) >= 100,000/s: ${fullA >= 100_000 ? 'met' : 'NOT met'}; (b) >= 5,000/s: ${fullB >= 5_000 ? 'met' : 'NOT met'}`,
  );
}

main();
