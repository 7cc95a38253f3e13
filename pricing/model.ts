// The shapes the pricing engine works with. A tariff definition is an OCPI 2.2.1 Tariff (elements, price
// components, restrictions, min/max price) with prices as decimal strings, plus the platform's idle-fee
// extension; OCPI import/export maps it one to one, so the receipt, the running cost and the CDR all come
// from the same rating of the same definition.

export const DAYS_OF_WEEK = [
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
  'SUNDAY',
] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

export const PRICE_DIMENSIONS = ['FLAT', 'ENERGY', 'TIME', 'PARKING_TIME'] as const;
/** OCPI TariffDimensionType: FLAT per session, ENERGY per kWh, TIME and PARKING_TIME per hour. */
export type PriceDimension = (typeof PRICE_DIMENSIONS)[number];

export interface PriceComponentDef {
  type: PriceDimension;
  /** Excluding VAT, decimal string: per session, per kWh or per hour. */
  price: string;
  /** VAT percentage as a decimal string ("21"), or null when none applies. */
  vat: string | null;
  /** OCPI step_size: Wh for ENERGY, seconds for TIME and PARKING_TIME; 1 for FLAT. */
  step_size: number;
}

/** OCPI TariffRestrictions; times and dates are local to the tariff's time zone. */
export interface RestrictionsDef {
  start_time?: string;
  end_time?: string;
  start_date?: string;
  end_date?: string;
  min_kwh?: number;
  max_kwh?: number;
  min_current?: number;
  max_current?: number;
  min_power?: number;
  max_power?: number;
  min_duration?: number;
  max_duration?: number;
  day_of_week?: DayOfWeek[];
  reservation?: 'RESERVATION' | 'RESERVATION_EXPIRES';
}

export interface TariffElementDef {
  price_components: PriceComponentDef[];
  restrictions?: RestrictionsDef;
}

export interface PriceDef {
  excl_vat: string;
  incl_vat?: string;
}

/** Platform extension: idle (parking) fee starts after a grace period counted from the end of charging. */
export interface IdleFeeDef {
  grace_period_seconds: number;
  /** Cap on the parking cost of one session, excluding VAT. */
  max_cost?: string;
}

/** OCPI Tariff fields that do not affect the price but must survive an import/export round trip. */
export interface OcpiTariffMeta {
  country_code?: string;
  party_id?: string;
  id?: string;
  type?: string;
  tariff_alt_text?: { language: string; text: string }[];
  tariff_alt_url?: string;
  energy_mix?: unknown;
  last_updated?: string;
}

export interface TariffDefinition {
  currency: string;
  elements: TariffElementDef[];
  min_price?: PriceDef;
  max_price?: PriceDef;
  /** Validity of the tariff (OCPI start_date_time / end_date_time), RFC 3339 UTC. */
  start_date_time?: string;
  end_date_time?: string;
  idle?: IdleFeeDef;
  ocpi?: OcpiTariffMeta;
}

/**
 * One charging period as the engine rates it: what happened from startMs until the next period's start
 * (or the session end). Quantities are integers so aggregation is exact and fast: energy in milli-Wh,
 * times in milliseconds. A period is charging (timeMs) or not charging (parkingMs); it may hold both only
 * when it comes from an OCPI CDR that says so.
 */
export interface RatingPeriod {
  startMs: number;
  energyMWh: number;
  timeMs: number;
  parkingMs: number;
  /** Power and current seen during the period, when known (kW, A). */
  minPowerKw?: number;
  maxPowerKw?: number;
  minCurrentA?: number;
  maxCurrentA?: number;
}

export interface RatingInput {
  sessionStartMs: number;
  sessionEndMs: number;
  /** IANA time zone the tariff's start_time/end_time/dates/day_of_week are read in (the site's). */
  timeZone: string;
  periods: RatingPeriod[];
  /** Energy covered by a monthly allowance: the session's first this-many milli-Wh are priced at zero. */
  allowanceMWh?: number;
}

export const LINE_KINDS = [
  'usage',
  'step',
  'allowance',
  'idle_grace',
  'idle_cap',
  'min_price',
  'max_price',
] as const;
export type RatedLineKind = (typeof LINE_KINDS)[number];

/** One line of a rated session; amounts are already rounded to the currency's minor unit. */
export interface RatedLine {
  dimension: PriceDimension;
  kind: RatedLineKind;
  /** Index of the tariff element whose price component produced the line; null for adjustments. */
  elementIndex: number | null;
  /** Billed quantity in unit: 1 session, kWh (up to 6 decimals), hours (exact decimal, may be long). */
  quantity: string;
  unit: 'session' | 'kWh' | 'h';
  unitPrice: string;
  vatRate: string | null;
  amountExclVat: string;
  vatAmount: string;
  amountInclVat: string;
}

export interface CostPair {
  excl_vat: string;
  incl_vat: string;
}

/** OCPI CDR cost fields plus the lines they are the sums of. */
export interface RatedSession {
  currency: string;
  lines: RatedLine[];
  total_energy: string;
  total_time: string;
  total_parking_time: string;
  total_fixed_cost: CostPair;
  total_energy_cost: CostPair;
  total_time_cost: CostPair;
  total_parking_cost: CostPair;
  total_cost: CostPair;
}
