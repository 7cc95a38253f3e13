import { checkTariffDefinition, definitionFromSimpleComponents } from '../../pricing/tariff-definition';

const valid = {
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: '0.50', vat: '21' },
        { type: 'ENERGY', price: 0.359, vat: 21, step_size: 1 },
      ],
      restrictions: { start_time: '22:00', end_time: '06:00', day_of_week: ['SATURDAY', 'SUNDAY'] },
    },
    { price_components: [{ type: 'TIME', price: '2.400000', vat: null, step_size: 60 }] },
  ],
  min_price: { excl_vat: '1' },
  max_price: { excl_vat: 50, incl_vat: '60.50' },
  start_date_time: '2025-01-01T00:00:00Z',
  end_date_time: '2026-01-01T00:00:00Z',
  idle: { grace_period_seconds: 600, max_cost: '15.00' },
};

describe('checkTariffDefinition', () => {
  it('accepts a valid definition and normalizes decimals, step_size and vat', () => {
    const { definition, problems } = checkTariffDefinition(valid);
    expect(problems).toEqual([]);
    expect(definition!.elements[0].price_components).toEqual([
      { type: 'FLAT', price: '0.5', vat: '21', step_size: 1 },
      { type: 'ENERGY', price: '0.359', vat: '21', step_size: 1 },
    ]);
    expect(definition!.elements[1].price_components[0]).toEqual({
      type: 'TIME',
      price: '2.4',
      vat: null,
      step_size: 60,
    });
    expect(definition!.min_price).toEqual({ excl_vat: '1' });
    expect(definition!.max_price).toEqual({ excl_vat: '50', incl_vat: '60.5' });
    expect(definition!.idle).toEqual({ grace_period_seconds: 600, max_cost: '15' });
  });

  it.each<[string, (d: typeof valid) => unknown, string]>([
    ['a non-object', () => 'EUR', ''],
    ['an unknown currency', (d) => ({ ...d, currency: 'EUT' }), 'currency'],
    ['no elements', (d) => ({ ...d, elements: [] }), 'elements'],
    [
      'an element without components',
      (d) => ({ ...d, elements: [{ price_components: [] }] }),
      'elements[0].price_components',
    ],
    ['a negative price', (d) => setPrice(d, '-1'), 'elements[0].price_components[1].price'],
    ['seven decimals', (d) => setPrice(d, '0.1234567'), 'elements[0].price_components[1].price'],
    ['an exponent', (d) => setPrice(d, 1e-7), 'elements[0].price_components[1].price'],
    ['a price that is not a number', (d) => setPrice(d, 'cheap'), 'elements[0].price_components[1].price'],
    ['a VAT over 100', (d) => setComponent(d, { vat: '121' }), 'elements[0].price_components[1].vat'],
    [
      'a zero step_size',
      (d) => setComponent(d, { step_size: 0 }),
      'elements[0].price_components[1].step_size',
    ],
    [
      'a fractional step_size',
      (d) => setComponent(d, { step_size: 1.5 }),
      'elements[0].price_components[1].step_size',
    ],
    [
      'an unknown dimension',
      (d) => setComponent(d, { type: 'PARKING' }),
      'elements[0].price_components[1].type',
    ],
    [
      'a duplicate dimension in one element',
      (d) => setComponent(d, { type: 'FLAT' }),
      'elements[0].price_components[1].type',
    ],
    [
      'an unknown component field',
      (d) => setComponent(d, { currency: 'EUR' }),
      'elements[0].price_components[1].currency',
    ],
    [
      'a 12-hour time',
      (d) => setRestrictions(d, { start_time: '7:30' }),
      'elements[0].restrictions.start_time',
    ],
    ['24:00', (d) => setRestrictions(d, { end_time: '24:00' }), 'elements[0].restrictions.end_time'],
    [
      'an equal start and end time',
      (d) => setRestrictions(d, { start_time: '08:00', end_time: '08:00' }),
      'elements[0].restrictions.end_time',
    ],
    [
      'an impossible date',
      (d) => setRestrictions(d, { start_date: '2025-02-30' }),
      'elements[0].restrictions.start_date',
    ],
    [
      'an end_date not after start_date',
      (d) => setRestrictions(d, { start_date: '2025-03-01', end_date: '2025-03-01' }),
      'elements[0].restrictions.end_date',
    ],
    [
      'an unknown day',
      (d) => setRestrictions(d, { day_of_week: ['MONDAY', 'FUNDAY'] }),
      'elements[0].restrictions.day_of_week[1]',
    ],
    [
      'an empty day list',
      (d) => setRestrictions(d, { day_of_week: [] }),
      'elements[0].restrictions.day_of_week',
    ],
    [
      'a repeated day',
      (d) => setRestrictions(d, { day_of_week: ['MONDAY', 'MONDAY'] }),
      'elements[0].restrictions.day_of_week[1]',
    ],
    [
      'min_kwh above max_kwh',
      (d) => setRestrictions(d, { min_kwh: 10, max_kwh: 5 }),
      'elements[0].restrictions.max_kwh',
    ],
    [
      'min_power above max_power',
      (d) => setRestrictions(d, { min_power: 22, max_power: 11 }),
      'elements[0].restrictions.max_power',
    ],
    [
      'a fractional duration',
      (d) => setRestrictions(d, { min_duration: 1.5 }),
      'elements[0].restrictions.min_duration',
    ],
    [
      'kWh with 7 decimals',
      (d) => setRestrictions(d, { max_kwh: 1.0000001 }),
      'elements[0].restrictions.max_kwh',
    ],
    [
      'an unknown reservation type',
      (d) => setRestrictions(d, { reservation: 'YES' }),
      'elements[0].restrictions.reservation',
    ],
    [
      'an unknown restriction',
      (d) => setRestrictions(d, { max_soc: 80 }),
      'elements[0].restrictions.max_soc',
    ],
    [
      'a negative grace period',
      (d) => ({ ...d, idle: { grace_period_seconds: -1 } }),
      'idle.grace_period_seconds',
    ],
    ['a missing grace period', (d) => ({ ...d, idle: { max_cost: '5' } }), 'idle.grace_period_seconds'],
    ['an end before the start', (d) => ({ ...d, end_date_time: '2024-01-01T00:00:00Z' }), 'end_date_time'],
    ['a date-time that is not one', (d) => ({ ...d, start_date_time: 'tomorrow' }), 'start_date_time'],
    [
      'incl_vat below excl_vat',
      (d) => ({ ...d, max_price: { excl_vat: '50', incl_vat: '40' } }),
      'max_price.incl_vat',
    ],
    ['min_price above max_price', (d) => ({ ...d, min_price: { excl_vat: '51' } }), 'max_price.excl_vat'],
    ['an unknown top-level field', (d) => ({ ...d, tariff_id: 'x' }), 'tariff_id'],
  ])('refuses %s, naming the field', (_name, change, param) => {
    const { definition, problems } = checkTariffDefinition(change(structuredClone(valid)));
    expect(definition).toBeUndefined();
    expect(problems.map((p) => p.param)).toContain(param);
  });

  it('reports every problem at once', () => {
    const { problems } = checkTariffDefinition({
      currency: 'eur',
      elements: [{ price_components: [{ type: 'X' }] }],
    });
    expect(problems.map((p) => p.param).sort()).toEqual([
      'currency',
      'elements[0].price_components[0].price',
      'elements[0].price_components[0].type',
    ]);
  });

  it('accepts 00:00-00:00 as the whole day', () => {
    expect(
      checkTariffDefinition(
        setRestrictions(structuredClone(valid), { start_time: '00:00', end_time: '00:00' }),
      ).problems,
    ).toEqual([]);
  });
});

describe('definitionFromSimpleComponents', () => {
  it('maps flat_fee, per_kwh and per_minute (priced per hour) into one element', () => {
    expect(
      definitionFromSimpleComponents('EUR', [
        { type: 'flat_fee', price: '1.00' },
        { type: 'per_kwh', price: '0.35' },
        { type: 'per_minute', price: '0.0125' },
      ]),
    ).toEqual({
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'FLAT', price: '1', vat: null, step_size: 1 },
            { type: 'ENERGY', price: '0.35', vat: null, step_size: 1 },
            { type: 'TIME', price: '0.75', vat: null, step_size: 1 },
          ],
        },
      ],
    });
  });
});

function setComponent(d: typeof valid, fields: Record<string, unknown>) {
  Object.assign(d.elements[0].price_components[1], fields);
  return d;
}
function setPrice(d: typeof valid, price: unknown) {
  return setComponent(d, { price });
}
function setRestrictions(d: typeof valid, fields: Record<string, unknown>) {
  (d.elements[0] as Record<string, unknown>).restrictions = { ...fields };
  return d;
}
