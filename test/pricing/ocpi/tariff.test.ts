import fc from 'fast-check';
import { idleExtensionText, tariffFromOcpi, tariffToOcpi } from '../../../pricing/ocpi/tariff';

// A tariff using every OCPI 2.2.1 Tariff field, written for this test after the spec's Complex Tariff
// example.
const complete = {
  country_code: 'DE',
  party_id: 'ALL',
  id: '12',
  currency: 'EUR',
  type: 'REGULAR',
  tariff_alt_text: [
    { language: 'en', text: 'Parking is billed per 5 minutes.' },
    { language: 'de', text: 'Parken wird pro 5 Minuten abgerechnet.' },
  ],
  tariff_alt_url: 'https://company.com/tariffs/12',
  min_price: { excl_vat: 0.5, incl_vat: 0.55 },
  max_price: { excl_vat: 60, incl_vat: 66.5 },
  elements: [
    { price_components: [{ type: 'FLAT', price: 2.5, vat: 15.0, step_size: 1 }] },
    {
      price_components: [{ type: 'TIME', price: 1.0, vat: 20.0, step_size: 900 }],
      restrictions: { max_current: 32.0 },
    },
    {
      price_components: [{ type: 'TIME', price: 2.0, vat: 20.0, step_size: 600 }],
      restrictions: {
        min_current: 32.0,
        day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'],
      },
    },
    {
      price_components: [{ type: 'PARKING_TIME', price: 5.0, vat: 10.0, step_size: 300 }],
      restrictions: { start_time: '09:00', end_time: '18:00', day_of_week: [] },
    },
    {
      price_components: [{ type: 'ENERGY', price: 0.2345, step_size: 1 }],
      restrictions: {
        start_date: '2025-01-01',
        end_date: '2025-07-01',
        min_kwh: 0.5,
        max_kwh: 100.25,
        min_power: 11,
        max_power: 50.5,
        min_duration: 60,
        max_duration: 86400,
      },
    },
    {
      price_components: [
        { type: 'TIME', price: 5.0, vat: 20.0, step_size: 60 },
        { type: 'FLAT', price: 2, step_size: 1 },
      ],
      restrictions: { reservation: 'RESERVATION' },
    },
    { price_components: [{ type: 'ENERGY', price: 0, vat: 0, step_size: 1 }], restrictions: {} },
  ],
  start_date_time: '2025-01-01T00:00:00Z',
  end_date_time: '2025-12-31T23:59:59.999Z',
  energy_mix: {
    is_green_energy: true,
    energy_sources: [
      { source: 'SOLAR', percentage: 80 },
      { source: 'WIND', percentage: 20 },
    ],
    supplier_name: 'Greenpower',
  },
  last_updated: '2024-12-17T17:15:01Z',
};

describe('tariffFromOcpi / tariffToOcpi', () => {
  it('reads every field and gives back a deep-equal object', () => {
    const { definition, problems } = tariffFromOcpi(complete);
    expect(problems).toEqual([]);
    expect(tariffToOcpi(definition!)).toEqual(complete);
  });

  it('keeps prices as the decimal text the JSON numbers were written as', () => {
    const { definition } = tariffFromOcpi(complete);
    expect(definition!.elements[0].price_components[0]).toEqual({
      type: 'FLAT',
      price: '2.5',
      vat: '15',
      step_size: 1,
    });
    expect(definition!.elements[4].price_components[0]).toEqual({
      type: 'ENERGY',
      price: '0.2345',
      vat: null,
      step_size: 1,
    });
    expect(definition!.max_price).toEqual({ excl_vat: '60', incl_vat: '66.5' });
    // vat absent (no VAT applies) and vat 0 (0% VAT) stay different.
    expect(definition!.elements[6].price_components[0].vat).toBe('0');
  });

  it('round-trips arbitrary prices with up to 4 decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000 }), (p, v) => {
        const input = {
          country_code: 'NL',
          party_id: 'EVB',
          id: 'X',
          currency: 'EUR',
          elements: [
            { price_components: [{ type: 'ENERGY', price: p / 10_000, vat: v / 100, step_size: 1 }] },
          ],
          last_updated: '2025-01-01T00:00:00Z',
        };
        expect(tariffToOcpi(tariffFromOcpi(input).definition!)).toEqual(input);
      }),
    );
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a price written as a string',
      { elements: [{ price_components: [{ type: 'ENERGY', price: '0.25', step_size: 1 }] }] },
      'elements[0].price_components[0].price',
    ],
    [
      'a missing step_size',
      { elements: [{ price_components: [{ type: 'ENERGY', price: 0.25 }] }] },
      'elements[0].price_components[0].step_size',
    ],
    [
      'a negative price',
      { elements: [{ price_components: [{ type: 'TIME', price: -1, step_size: 1 }] }] },
      'elements[0].price_components[0].price',
    ],
    [
      'an unknown dimension',
      { elements: [{ price_components: [{ type: 'RESERVATION_TIME', price: 1, step_size: 1 }] }] },
      'elements[0].price_components[0].type',
    ],
    [
      'a bad time',
      {
        elements: [
          {
            price_components: [{ type: 'TIME', price: 1, step_size: 1 }],
            restrictions: { start_time: '24:00' },
          },
        ],
      },
      'elements[0].restrictions.start_time',
    ],
    ['an unknown field', { tariff_id: 'x' }, 'tariff_id'],
    ['an unknown type', { type: 'CHEAP' }, 'type'],
    ['a missing party_id', { party_id: undefined }, 'party_id'],
    ['a bad last_updated', { last_updated: '2025-01-01 00:00' }, 'last_updated'],
    [
      'a max_price below min_price',
      { min_price: { excl_vat: 5 }, max_price: { excl_vat: 4 } },
      'max_price.excl_vat',
    ],
    [
      'an end before the start',
      { start_date_time: '2025-02-01T00:00:00Z', end_date_time: '2025-01-01T00:00:00Z' },
      'end_date_time',
    ],
    [
      'a +01:00 offset (OCPI DateTimes are UTC)',
      { start_date_time: '2025-02-01T00:00:00+01:00' },
      'start_date_time',
    ],
  ])('refuses %s, naming the field', (_name, change, param) => {
    const { definition, problems } = tariffFromOcpi({
      country_code: 'NL',
      party_id: 'EVB',
      id: 'T',
      currency: 'EUR',
      elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, step_size: 1 }] }],
      last_updated: '2025-01-01T00:00:00Z',
      ...change,
    });
    expect(definition).toBeUndefined();
    expect(problems.map((p) => p.param)).toContain(param);
  });

  describe('the idle extension, which OCPI cannot express', () => {
    const withIdle = {
      ...tariffFromOcpi(complete).definition!,
      idle: { grace_period_seconds: 900, max_cost: '12.50' },
    };

    it('is described in one more English tariff_alt_text entry', () => {
      const out = tariffToOcpi(withIdle) as { tariff_alt_text: { language: string; text: string }[] };
      expect(out.tariff_alt_text).toHaveLength(3);
      expect(out.tariff_alt_text[2]).toEqual({
        language: 'en',
        text: 'The first 15 minutes of parking (not charging) are not billed. Parking costs at most 12.50 EUR (excl. VAT) per session.',
      });
      expect(idleExtensionText(withIdle)).toBe(out.tariff_alt_text[2].text);
    });

    it('is left out on request, and never added twice', () => {
      expect(tariffToOcpi(withIdle, { describeIdleExtension: false })).toEqual(complete);
      const once = tariffToOcpi(withIdle);
      const again = tariffToOcpi({
        ...withIdle,
        ocpi: { ...withIdle.ocpi, tariff_alt_text: once.tariff_alt_text as never },
      });
      expect(again.tariff_alt_text).toEqual(once.tariff_alt_text);
    });
  });
});
