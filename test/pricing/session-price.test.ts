import { Dec } from '../../pricing/money';
import type { TariffDefinition } from '../../pricing/model';
import type { PricingContext } from '../../pricing/rule-evaluation';
import type { BillingRule, BillingRuleInput } from '../../pricing/rules';
import {
  AppliedPromotion,
  priceChargingSession,
  PricedSession,
  SessionPricingInput,
} from '../../pricing/session-price';
import type { TariffVersion } from '../../pricing/tariff';

const simple: TariffVersion = {
  tariffId: 'tar_1',
  versionId: 'tarv_1',
  version: 3,
  currency: 'EUR',
  components: [
    { type: 'flat_fee', price: '1.00' },
    { type: 'per_kwh', price: '0.35' },
    { type: 'per_minute', price: '0.05' },
  ],
};

const version = (definition: TariffDefinition): TariffVersion => ({
  tariffId: 'tar_2',
  versionId: 'tarv_2',
  version: 1,
  currency: definition.currency,
  definition,
});

const ctx: PricingContext = {
  userType: 'public',
  siteId: 'site_1',
  chargePointId: 'cp_1',
  powerClass: 'AC',
  connectorType: 'IEC_62196_T2',
  promotionalCode: null,
  member: false,
  timeZone: 'Europe/Amsterdam',
};

let ruleSeq = 0;
const rule = (input: Partial<BillingRuleInput> & Pick<BillingRuleInput, 'action'>): BillingRule => {
  ruleSeq += 1;
  return {
    id: `rule_${ruleSeq}`,
    versionId: `rulev_${ruleSeq}`,
    version: 1,
    name: `rule ${ruleSeq}`,
    priority: 100,
    stackable: false,
    conditions: {},
    ...input,
  };
};

/** 12.5 kWh in 35 minutes, a winter afternoon in Amsterdam. */
function input(over: Partial<SessionPricingInput> = {}): SessionPricingInput {
  return {
    tariff: simple,
    rules: [],
    context: ctx,
    usage: {
      startedAt: '2026-01-15T13:00:00Z',
      stoppedAt: '2026-01-15T13:35:00Z',
      meterStartWh: '100000',
      meterStopWh: '112500',
      samples: [],
      statuses: [],
    },
    ...over,
  };
}

function expectAddsUp(p: PricedSession) {
  const sum = (f: 'amount' | 'vatAmount' | 'amountInclVat') =>
    p.lines.reduce((s, l) => s.add(l[f]), new Dec(0)).toFixed(2);
  expect(sum('amount')).toBe(p.totalExclVat);
  expect(sum('vatAmount')).toBe(p.totalVat);
  expect(sum('amountInclVat')).toBe(p.total);
  for (const l of p.lines) expect(new Dec(l.amount).add(l.vatAmount).toFixed(2)).toBe(l.amountInclVat);
}

describe('priceChargingSession', () => {
  it('prices a simple tariff as before: fee, energy rounded half up, time by the second', () => {
    const p = priceChargingSession(input());
    expect(p.lines.map((l) => [l.component, l.amount])).toEqual([
      ['flat_fee', '1.00'],
      ['energy', '4.38'],
      ['charging_time', '1.75'],
    ]);
    expect(p.total).toBe('7.13');
    expect(p.totalVat).toBe('0.00');
    expect(p.energyKwh).toBe('12.500');
    expect(p.lines[0].source).toEqual({
      type: 'tariff',
      tariffVersionId: 'tarv_1',
      tariffVersion: 3,
      element: 0,
      rules: [],
    });
    expectAddsUp(p);
  });

  it('a price multiplier of 0 makes charging free and says why', () => {
    const employee = rule({
      name: 'Employees charge free',
      conditions: { user_type: ['employee'] },
      action: { type: 'override', price_multiplier: '0' },
    });
    const p = priceChargingSession(input({ rules: [employee], context: { ...ctx, userType: 'employee' } }));
    expect(p.total).toBe('0.00');
    expect(p.appliedRules).toEqual([
      expect.objectContaining({ ruleId: employee.id, reasons: ['user type is employee'] }),
    ]);
    expect(
      p.lines.every((l) => l.source.type === 'tariff' && l.source.rules[0]?.ruleId === employee.id),
    ).toBe(true);
    expect(priceChargingSession(input({ rules: [employee] })).total).toBe('7.13');
  });

  it('the first matching rule wins unless it is stackable', () => {
    const discount = rule({ priority: 10, action: { type: 'discount', percent: '10' } });
    const surcharge = rule({ priority: 20, action: { type: 'surcharge', amount: '1.00' } });
    const first = priceChargingSession(input({ rules: [surcharge, discount] }));
    expect(first.appliedRules.map((r) => r.ruleId)).toEqual([discount.id]);
    // 10% of 7.13 = 0.713 -> 0.71
    expect(first.total).toBe('6.42');

    const stacked = priceChargingSession(input({ rules: [surcharge, { ...discount, stackable: true }] }));
    expect(stacked.appliedRules.map((r) => r.ruleId)).toEqual([discount.id, surcharge.id]);
    expect(stacked.total).toBe('7.42');
    expectAddsUp(stacked);
  });

  it('a per-component override replaces that price everywhere, per minute given per minute', () => {
    const members = rule({
      conditions: { membership: true },
      action: {
        type: 'override',
        components: [
          { type: 'per_kwh', price: '0.20' },
          { type: 'per_minute', price: '0' },
        ],
      },
    });
    const p = priceChargingSession(input({ rules: [members], context: { ...ctx, member: true } }));
    // 1.00 + 12.5 x 0.20 + 0
    expect(p.total).toBe('3.50');
    expect(p.appliedRules[0].reasons).toEqual(['driver is a member']);
  });

  it('VAT per component; a surcharge carries the energy VAT rate; lines add up excl and incl', () => {
    const tariff = version({
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'ENERGY', price: '0.30', vat: '21', step_size: 1 },
            { type: 'FLAT', price: '0.50', vat: '9', step_size: 1 },
          ],
        },
      ],
    });
    const dcFast = rule({
      conditions: { power_class: ['DC_FAST'] },
      action: { type: 'surcharge', amount: '1.00' },
    });
    const p = priceChargingSession(
      input({ tariff, rules: [dcFast], context: { ...ctx, powerClass: 'DC_FAST' } }),
    );
    // energy 12.5 x 0.30 = 3.75 + 21% 0.7875 -> 0.79; flat 0.50 + 9% 0.045 -> 0.05; surcharge 1.00 + 0.21
    expect(p.totalExclVat).toBe('5.25');
    expect(p.totalVat).toBe('1.05');
    expect(p.total).toBe('6.30');
    expect(p.lines.find((l) => l.component === 'surcharge')).toMatchObject({
      vatRate: '21',
      vatAmount: '0.21',
    });
    expectAddsUp(p);
  });

  it('an amount discount is split over VAT rates in proportion and never goes below zero', () => {
    const tariff = version({
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'ENERGY', price: '0.40', vat: '21', step_size: 1 },
            { type: 'FLAT', price: '5.00', vat: '9', step_size: 1 },
          ],
        },
      ],
    });
    const p = priceChargingSession(
      input({ tariff, rules: [rule({ action: { type: 'discount', amount: '2.00' } })] }),
    );
    // net 5.00 (energy) and 5.00 (flat): 1.00 off each
    const discounts = p.lines.filter((l) => l.component === 'discount');
    expect(discounts.map((l) => [l.vatRate, l.amount])).toEqual(
      expect.arrayContaining([
        ['21', '-1.00'],
        ['9', '-1.00'],
      ]),
    );
    expect(p.totalExclVat).toBe('8.00');
    expectAddsUp(p);
    const huge = priceChargingSession(
      input({ tariff, rules: [rule({ action: { type: 'discount', amount: '500' } })] }),
    );
    expect(huge.total).toBe('0.00');
    expectAddsUp(huge);
  });

  it('a fixed price replaces the total', () => {
    const p = priceChargingSession(
      input({ rules: [rule({ action: { type: 'fixed_price', amount: '5.00' } })] }),
    );
    expect(p.total).toBe('5.00');
    const up = priceChargingSession(
      input({ rules: [rule({ action: { type: 'fixed_price', amount: '9.99' } })] }),
    );
    expect(up.total).toBe('9.99');
    expectAddsUp(up);
  });

  it('an override with a time window prices only the energy inside it (linear split at 22:00 local)', () => {
    const tariff = version({
      currency: 'EUR',
      elements: [{ price_components: [{ type: 'ENERGY', price: '0.40', vat: null, step_size: 1 }] }],
    });
    const night = rule({
      conditions: { time_window: { start_time: '22:00', end_time: '06:00' } },
      action: { type: 'override', price_multiplier: '0.5' },
    });
    // 21:00-23:00 Amsterdam (UTC+1), 20 kWh evenly: 10 kWh at 0.40, 10 kWh at 0.20
    const p = priceChargingSession(
      input({
        tariff,
        rules: [night],
        usage: {
          startedAt: '2026-01-15T20:00:00Z',
          stoppedAt: '2026-01-15T22:00:00Z',
          meterStartWh: '0',
          meterStopWh: '20000',
          samples: [],
          statuses: [],
        },
      }),
    );
    expect(p.total).toBe('6.00');
    const energy = p.lines.filter((l) => l.component === 'energy');
    expect(energy).toHaveLength(2);
    const ruled = energy.find((l) => l.source.type === 'tariff' && l.source.rules.length === 1);
    expect(ruled).toMatchObject({ quantity: '10', unitPrice: '0.2', amount: '2.00' });
    expect(p.appliedRules[0].reasons).toEqual(['priced between 22:00 and 06:00 local time']);
  });

  describe('promotional codes', () => {
    const promo = (over: Partial<AppliedPromotion>): AppliedPromotion => ({
      promotionalCodeId: 'promo_1',
      code: 'WELCOME20',
      discountType: 'percent',
      discountValue: '20',
      currency: null,
      ...over,
    });

    it('percent, amount (capped at what is left) and free sessions', () => {
      const pct = priceChargingSession(input({ promotion: promo({}) }));
      // 20% of 7.13 = 1.426 -> 1.43
      expect(pct.total).toBe('5.70');
      expect(pct.promotion).toEqual({
        promotionalCodeId: 'promo_1',
        code: 'WELCOME20',
        applied: true,
        reason: 'discount applied',
      });
      expect(pct.lines.at(-1)).toMatchObject({
        component: 'promotion',
        amount: '-1.43',
        source: { type: 'promotion', promotionalCodeId: 'promo_1', code: 'WELCOME20' },
      });
      const amount = priceChargingSession(
        input({ promotion: promo({ discountType: 'amount', discountValue: '10', currency: 'EUR' }) }),
      );
      expect(amount.total).toBe('0.00');
      const free = priceChargingSession(
        input({ promotion: promo({ discountType: 'free_sessions', discountValue: '3' }) }),
      );
      expect(free.total).toBe('0.00');
      expectAddsUp(free);
    });

    it('an amount in another currency is not applied, with the reason', () => {
      const p = priceChargingSession(
        input({ promotion: promo({ discountType: 'amount', discountValue: '5', currency: 'USD' }) }),
      );
      expect(p.total).toBe('7.13');
      expect(p.promotion).toMatchObject({
        applied: false,
        reason: "the code's amount is in USD, the session in EUR",
      });
    });
  });

  it('energy covered by the monthly allowance is shown at zero and the rest billed', () => {
    const p = priceChargingSession(input({ allowanceKwh: '10' }));
    // 2.5 kWh x 0.35 = 0.875 -> 0.88
    expect(p.total).toBe('3.63');
    expect(p.lines.find((l) => l.kind === 'allowance')).toMatchObject({ quantity: '10', amount: '0.00' });
    expectAddsUp(p);
  });

  it('idle fee after the grace period counted from the end of charging', () => {
    const tariff = version({
      currency: 'EUR',
      idle: { grace_period_seconds: 600 },
      elements: [
        {
          price_components: [
            { type: 'ENERGY', price: '0.30', vat: null, step_size: 1 },
            { type: 'PARKING_TIME', price: '6.00', vat: null, step_size: 1 },
          ],
        },
      ],
    });
    const p = priceChargingSession(
      input({
        tariff,
        usage: {
          startedAt: '2026-01-15T13:00:00Z',
          stoppedAt: '2026-01-15T14:40:00Z',
          meterStartWh: '0',
          meterStopWh: '10000',
          samples: [{ timestamp: '2026-01-15T14:00:00Z', energyWh: '10000' }],
          statuses: [
            { timestamp: '2026-01-15T13:00:00Z', status: 'Charging' },
            { timestamp: '2026-01-15T14:00:00Z', status: 'SuspendedEV' },
          ],
        },
      }),
    );
    // energy 3.00; idle 40 min - 10 min grace = 30 min at 0.10/min = 3.00
    expect(p.total).toBe('6.00');
    expect(p.chargingSeconds).toBe(3600);
    expect(p.idleSeconds).toBe(2400);
    expectAddsUp(p);
  });

  it('reports rejected readings and still prices the session', () => {
    const p = priceChargingSession(
      input({
        usage: {
          ...input().usage,
          samples: [
            { timestamp: '2026-01-15T13:10:00Z', energyWh: '104000' },
            { timestamp: '2026-01-15T13:20:00Z', energyWh: '103000' },
            { timestamp: '2026-01-15T13:25:00Z', energyWh: 'abc' },
          ],
        },
      }),
    );
    expect(p.rejectedReadings.map((r) => r.field)).toEqual(['energyWh', 'energyWh']);
    expect(p.total).toBe('7.13');
  });

  it('JPY has no minor unit and KWD three', () => {
    const jpy = priceChargingSession(
      input({
        tariff: version({
          currency: 'JPY',
          elements: [{ price_components: [{ type: 'ENERGY', price: '45.5', vat: '10', step_size: 1 }] }],
        }),
      }),
    );
    // 12.5 x 45.5 = 568.75 -> 569; VAT 56.9 -> 57
    expect(jpy.total).toBe('626');
    const kwd = priceChargingSession(
      input({
        tariff: version({
          currency: 'KWD',
          elements: [{ price_components: [{ type: 'ENERGY', price: '0.0125', vat: null, step_size: 1 }] }],
        }),
      }),
    );
    // 12.5 x 0.0125 = 0.15625 -> 0.156
    expect(kwd.total).toBe('0.156');
  });
});
