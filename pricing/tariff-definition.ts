import { checkCurrency, isRecord, join, refuseUnknown, type InputProblem } from './input-checks';
import { Dec } from './money';
import {
  DAYS_OF_WEEK,
  PRICE_DIMENSIONS,
  type DayOfWeek,
  type IdleFeeDef,
  type OcpiTariffMeta,
  type PriceComponentDef,
  type PriceDef,
  type PriceDimension,
  type RestrictionsDef,
  type TariffDefinition,
  type TariffElementDef,
} from './model';
import type { ComponentType } from './tariff';

export type { InputProblem as DefinitionProblem } from './input-checks';

export interface DefinitionCheck {
  definition?: TariffDefinition;
  problems: InputProblem[];
}

/** Prices are stored with at most this many decimals; OCPI itself uses 4, some operators quote 5 or 6. */
export const MAX_PRICE_DECIMALS = 6;

const DECIMAL = /^\d+(\.\d+)?$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// OCPI DateTime is RFC 3339 in UTC; a "Z" is recommended but not always sent, and fractions are allowed.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z)?$/;

type Problems = InputProblem[];

/**
 * Our own JSON takes decimals as strings or numbers and defaults step_size to 1; OCPI 2.2.1 input must
 * follow the OCPI types (prices JSON numbers, step_size present) and allows an empty day_of_week list
 * (cardinality *), which restricts nothing.
 */
export interface InputRules {
  ocpi: boolean;
}
const OWN: InputRules = { ocpi: false };

/**
 * A non-negative decimal given as a string or a JSON number, in canonical form ("0.250" -> "0.25").
 * Exponent forms are refused: a price is something a person typed and must read back as typed.
 */
function readDecimal(
  value: unknown,
  param: string,
  problems: Problems,
  maxDecimals = MAX_PRICE_DECIMALS,
  rules: InputRules = OWN,
): string | undefined {
  if (rules.ocpi && typeof value !== 'number') {
    problems.push({ param, message: 'must be a JSON number' });
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    problems.push({ param, message: 'must be a decimal number (string such as "0.35" or JSON number)' });
    return undefined;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    problems.push({ param, message: 'must be a finite number' });
    return undefined;
  }
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!DECIMAL.test(text)) {
    problems.push({ param, message: 'must be a non-negative decimal number such as "0.35"' });
    return undefined;
  }
  if ((text.split('.')[1] ?? '').length > maxDecimals) {
    problems.push({ param, message: `must have at most ${maxDecimals} decimal places` });
    return undefined;
  }
  return new Dec(text).toFixed();
}

function readNonNegativeNumber(
  value: unknown,
  param: string,
  problems: Problems,
  maxDecimals: number,
  rules: InputRules,
) {
  const text = readDecimal(value, param, problems, maxDecimals, rules);
  return text === undefined ? undefined : Number(text);
}

function readInteger(value: unknown, param: string, problems: Problems, min: number): number | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    problems.push({
      param,
      message: min > 0 ? 'must be a positive integer' : 'must be a non-negative integer',
    });
    return undefined;
  }
  return value;
}

function isValidDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** Milliseconds of an OCPI DateTime (taken as UTC), or undefined when it is not one. */
export function parseOcpiDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m || !isValidDate(`${m[1]}-${m[2]}-${m[3]}`)) return undefined;
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const ms = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), h, mi, s, ms);
}

const COMPONENT_FIELDS = ['type', 'price', 'vat', 'step_size'] as const;

/** One price component; vat absent or null means no VAT applies (which differs from a 0% VAT). */
function checkComponent(
  raw: unknown,
  path: string,
  problems: Problems,
  rules: InputRules,
): PriceComponentDef | undefined {
  if (!isRecord(raw)) {
    problems.push({ param: path, message: 'must be an object with type, price and step_size' });
    return undefined;
  }
  refuseUnknown(raw, COMPONENT_FIELDS, path, problems);
  const before = problems.length;
  let type: PriceDimension | undefined;
  if (typeof raw.type !== 'string' || !(PRICE_DIMENSIONS as readonly string[]).includes(raw.type)) {
    problems.push({ param: `${path}.type`, message: `must be one of ${PRICE_DIMENSIONS.join(', ')}` });
  } else {
    type = raw.type as PriceDimension;
  }
  const price = readDecimal(raw.price, `${path}.price`, problems, MAX_PRICE_DECIMALS, rules);
  let vat: string | null = null;
  if (raw.vat !== undefined && raw.vat !== null) {
    const v = readDecimal(raw.vat, `${path}.vat`, problems, 4, rules);
    if (v !== undefined && new Dec(v).gt(100)) {
      problems.push({ param: `${path}.vat`, message: 'is a percentage and must be at most 100' });
    } else if (v !== undefined) {
      vat = v;
    }
  }
  let step: number | undefined = 1;
  if (raw.step_size !== undefined || rules.ocpi) {
    step = readInteger(raw.step_size, `${path}.step_size`, problems, 1);
  }
  if (problems.length > before || type === undefined || price === undefined || step === undefined) {
    return undefined;
  }
  return { type, price, vat, step_size: step };
}

const RESTRICTION_FIELDS = [
  'start_time',
  'end_time',
  'start_date',
  'end_date',
  'min_kwh',
  'max_kwh',
  'min_current',
  'max_current',
  'min_power',
  'max_power',
  'min_duration',
  'max_duration',
  'day_of_week',
  'reservation',
] as const;

function checkRestrictions(
  raw: unknown,
  path: string,
  problems: Problems,
  rules: InputRules = OWN,
): RestrictionsDef | undefined {
  if (!isRecord(raw)) {
    problems.push({ param: path, message: 'must be an object' });
    return undefined;
  }
  refuseUnknown(raw, RESTRICTION_FIELDS, path, problems);
  const before = problems.length;
  const out: RestrictionsDef = {};
  for (const key of ['start_time', 'end_time'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !TIME.test(v)) {
      problems.push({ param: `${path}.${key}`, message: 'must be a 24-hour local time HH:MM, e.g. "07:30"' });
    } else {
      out[key] = v;
    }
  }
  // "00:00"-"00:00" is the whole day (end_time 00:00 is the end of the day); any other equal pair could
  // mean an empty window or a full one.
  if (out.start_time !== undefined && out.start_time === out.end_time && out.start_time !== '00:00') {
    problems.push({
      param: `${path}.end_time`,
      message: 'equals start_time, which is ambiguous (empty or all day); omit both for all day',
    });
  }
  for (const key of ['start_date', 'end_date'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !isValidDate(v)) {
      problems.push({ param: `${path}.${key}`, message: 'must be a local date YYYY-MM-DD' });
    } else {
      out[key] = v;
    }
  }
  if (out.start_date !== undefined && out.end_date !== undefined && out.start_date >= out.end_date) {
    problems.push({
      param: `${path}.end_date`,
      message: 'must be after start_date (start_date is included, end_date is not)',
    });
  }
  // kWh becomes integer milli-Wh in the engine, hence 6 decimals; power and current are compared as numbers.
  const bounds: [keyof RestrictionsDef, keyof RestrictionsDef, number | 'int'][] = [
    ['min_kwh', 'max_kwh', 6],
    ['min_current', 'max_current', 4],
    ['min_power', 'max_power', 4],
    ['min_duration', 'max_duration', 'int'],
  ];
  for (const [minKey, maxKey, precision] of bounds) {
    for (const key of [minKey, maxKey]) {
      const v = raw[key];
      if (v === undefined) continue;
      const n =
        precision === 'int'
          ? readInteger(v, `${path}.${key}`, problems, 0)
          : readNonNegativeNumber(v, `${path}.${key}`, problems, precision, rules);
      if (n !== undefined) (out as Record<string, unknown>)[key] = n;
    }
    const lo = out[minKey] as number | undefined;
    const hi = out[maxKey] as number | undefined;
    if (lo !== undefined && hi !== undefined && lo > hi) {
      problems.push({ param: `${path}.${maxKey}`, message: `must not be less than ${minKey}` });
    }
  }
  if (raw.day_of_week !== undefined) {
    const days = raw.day_of_week;
    if (!Array.isArray(days) || (days.length === 0 && !rules.ocpi)) {
      problems.push({
        param: `${path}.day_of_week`,
        message: `must be a non-empty array of ${DAYS_OF_WEEK.join(', ')}`,
      });
    } else {
      const seen = new Set<string>();
      days.forEach((d: unknown, i) => {
        if (typeof d !== 'string' || !(DAYS_OF_WEEK as readonly string[]).includes(d)) {
          problems.push({
            param: `${path}.day_of_week[${i}]`,
            message: `must be one of ${DAYS_OF_WEEK.join(', ')}`,
          });
        } else if (seen.has(d)) {
          problems.push({ param: `${path}.day_of_week[${i}]`, message: `${d} appears more than once` });
        } else {
          seen.add(d);
        }
      });
      out.day_of_week = days.filter((d): d is DayOfWeek => seen.has(d as string));
    }
  }
  if (raw.reservation !== undefined) {
    if (raw.reservation !== 'RESERVATION' && raw.reservation !== 'RESERVATION_EXPIRES') {
      problems.push({ param: `${path}.reservation`, message: 'must be RESERVATION or RESERVATION_EXPIRES' });
    } else {
      out.reservation = raw.reservation;
    }
  }
  return problems.length > before ? undefined : out;
}

export function checkElements(
  raw: unknown,
  path: string,
  problems: Problems,
  rules: InputRules = OWN,
): TariffElementDef[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push({ param: path, message: 'must be a non-empty array of tariff elements' });
    return undefined;
  }
  const before = problems.length;
  const elements: TariffElementDef[] = [];
  raw.forEach((el: unknown, i) => {
    const elPath = `${path}[${i}]`;
    if (!isRecord(el)) {
      problems.push({ param: elPath, message: 'must be an object with price_components' });
      return;
    }
    refuseUnknown(el, ['price_components', 'restrictions'], elPath, problems);
    const pcs = el.price_components;
    const components: PriceComponentDef[] = [];
    if (!Array.isArray(pcs) || pcs.length === 0) {
      problems.push({
        param: `${elPath}.price_components`,
        message: 'must be a non-empty array of price components',
      });
    } else {
      const seen = new Set<string>();
      pcs.forEach((pc: unknown, j) => {
        const pcPath = `${elPath}.price_components[${j}]`;
        const component = checkComponent(pc, pcPath, problems, rules);
        if (!component) return;
        // The engine takes "the first element with this dimension"; two in one element would be a tie.
        if (seen.has(component.type)) {
          problems.push({
            param: `${pcPath}.type`,
            message: `${component.type} appears more than once in this element`,
          });
        }
        seen.add(component.type);
        components.push(component);
      });
    }
    const element: TariffElementDef = { price_components: components };
    if (el.restrictions !== undefined && el.restrictions !== null) {
      const r = checkRestrictions(el.restrictions, `${elPath}.restrictions`, problems, rules);
      if (r) element.restrictions = r;
    }
    elements.push(element);
  });
  return problems.length > before ? undefined : elements;
}

function checkPriceLimit(
  raw: unknown,
  path: string,
  problems: Problems,
  rules: InputRules = OWN,
): PriceDef | undefined {
  if (!isRecord(raw)) {
    problems.push({ param: path, message: 'must be an object with excl_vat and optionally incl_vat' });
    return undefined;
  }
  refuseUnknown(raw, ['excl_vat', 'incl_vat'], path, problems);
  const exclVat = readDecimal(raw.excl_vat, `${path}.excl_vat`, problems, MAX_PRICE_DECIMALS, rules);
  if (exclVat === undefined) return undefined;
  const out: PriceDef = { excl_vat: exclVat };
  if (raw.incl_vat !== undefined && raw.incl_vat !== null) {
    const inclVat = readDecimal(raw.incl_vat, `${path}.incl_vat`, problems, MAX_PRICE_DECIMALS, rules);
    if (inclVat === undefined) return undefined;
    if (new Dec(inclVat).lt(exclVat)) {
      problems.push({ param: `${path}.incl_vat`, message: 'must not be less than excl_vat' });
      return undefined;
    }
    out.incl_vat = inclVat;
  }
  return out;
}

/** min_price, max_price, validity and the idle extension: the definition fields outside the elements. */
export function checkLimits(
  raw: Record<string, unknown>,
  problems: Problems,
  rules: InputRules = OWN,
): Partial<TariffDefinition> {
  const out: Partial<TariffDefinition> = {};
  for (const key of ['min_price', 'max_price'] as const) {
    if (raw[key] === undefined || raw[key] === null) continue;
    const p = checkPriceLimit(raw[key], key, problems, rules);
    if (p) out[key] = p;
  }
  if (out.min_price && out.max_price && new Dec(out.min_price.excl_vat).gt(out.max_price.excl_vat)) {
    problems.push({ param: 'max_price.excl_vat', message: 'must not be less than min_price.excl_vat' });
  }
  const instants: Partial<Record<'start_date_time' | 'end_date_time', number>> = {};
  for (const key of ['start_date_time', 'end_date_time'] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    const ms = typeof v === 'string' ? parseOcpiDateTime(v) : undefined;
    if (ms === undefined) {
      problems.push({
        param: key,
        message: 'must be an RFC 3339 UTC date-time, e.g. "2025-01-01T00:00:00Z"',
      });
    } else {
      out[key] = v as string;
      instants[key] = ms;
    }
  }
  if (
    instants.start_date_time !== undefined &&
    instants.end_date_time !== undefined &&
    instants.start_date_time >= instants.end_date_time
  ) {
    problems.push({ param: 'end_date_time', message: 'must be after start_date_time' });
  }
  return out;
}

function checkIdle(raw: unknown, problems: Problems): IdleFeeDef | undefined {
  if (!isRecord(raw)) {
    problems.push({ param: 'idle', message: 'must be an object with grace_period_seconds' });
    return undefined;
  }
  refuseUnknown(raw, ['grace_period_seconds', 'max_cost'], 'idle', problems);
  const grace = readInteger(raw.grace_period_seconds, 'idle.grace_period_seconds', problems, 0);
  let maxCost: string | undefined;
  if (raw.max_cost !== undefined && raw.max_cost !== null) {
    maxCost = readDecimal(raw.max_cost, 'idle.max_cost', problems);
    if (maxCost === undefined) return undefined;
  }
  if (grace === undefined) return undefined;
  return maxCost === undefined
    ? { grace_period_seconds: grace }
    : { grace_period_seconds: grace, max_cost: maxCost };
}

const META_STRING_FIELDS = [
  'country_code',
  'party_id',
  'id',
  'type',
  'tariff_alt_url',
  'last_updated',
] as const;

export function checkOcpiMeta(raw: unknown, path: string, problems: Problems): OcpiTariffMeta | undefined {
  if (!isRecord(raw)) {
    problems.push({ param: path, message: 'must be an object' });
    return undefined;
  }
  refuseUnknown(raw, [...META_STRING_FIELDS, 'tariff_alt_text', 'energy_mix'], path, problems);
  const before = problems.length;
  const out: OcpiTariffMeta = {};
  for (const key of META_STRING_FIELDS) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') problems.push({ param: join(path, key), message: 'must be a string' });
    else out[key] = v;
  }
  if (raw.tariff_alt_text !== undefined) {
    const texts = raw.tariff_alt_text;
    if (!Array.isArray(texts)) {
      problems.push({
        param: join(path, 'tariff_alt_text'),
        message: 'must be an array of {language, text}',
      });
    } else {
      texts.forEach((t: unknown, i) => {
        const p = `${join(path, 'tariff_alt_text')}[${i}]`;
        if (!isRecord(t) || typeof t.language !== 'string' || typeof t.text !== 'string') {
          problems.push({ param: p, message: 'must be an object with string language and text' });
        } else {
          refuseUnknown(t, ['language', 'text'], p, problems);
        }
      });
      out.tariff_alt_text = (texts as { language: string; text: string }[]).map((t) => ({
        language: t?.language,
        text: t?.text,
      }));
    }
  }
  if (raw.energy_mix !== undefined) out.energy_mix = raw.energy_mix;
  return problems.length > before ? undefined : out;
}

/** The top-level fields of a tariff definition, as our JSON and the API's full form spell them. */
export const DEFINITION_FIELDS = [
  'currency',
  'elements',
  'min_price',
  'max_price',
  'start_date_time',
  'end_date_time',
  'idle',
  'ocpi',
] as const;

/**
 * Validates a tariff version given in our own JSON (TariffDefinition's field names, snake_case) and
 * returns it normalized: prices as canonical decimal strings, step_size defaulted to 1, vat null when
 * absent. Every problem is reported, each naming its field (`elements[0].price_components[1].price`).
 */
export function checkTariffDefinition(input: unknown): DefinitionCheck {
  const problems: Problems = [];
  if (!isRecord(input)) {
    return { problems: [{ param: '', message: 'must be a JSON object with currency and elements' }] };
  }
  refuseUnknown(input, DEFINITION_FIELDS, '', problems);
  const currency = input.currency;
  checkCurrency(currency, problems);
  const elements = checkElements(input.elements, 'elements', problems);
  const limits = checkLimits(input, problems);
  let idle: IdleFeeDef | undefined;
  if (input.idle !== undefined && input.idle !== null) idle = checkIdle(input.idle, problems);
  let ocpi: OcpiTariffMeta | undefined;
  if (input.ocpi !== undefined && input.ocpi !== null) ocpi = checkOcpiMeta(input.ocpi, 'ocpi', problems);
  if (problems.length > 0 || !elements) return { problems };
  const definition: TariffDefinition = { currency: currency as string, elements, ...limits };
  if (idle) definition.idle = idle;
  if (ocpi) definition.ocpi = ocpi;
  return { definition, problems };
}

export type SimpleComponentType = ComponentType;

/**
 * The definition equivalent of the simple API form, so versions entered (or snapshotted) as components
 * price the same through the rating engine: flat_fee is FLAT, per_kwh ENERGY, per_minute TIME priced per
 * hour. Prices are assumed validated (checkTariffInput); they are exact decimals, so × 60 loses nothing.
 */
export function definitionFromSimpleComponents(
  currency: string,
  components: { type: SimpleComponentType; price: string }[],
): TariffDefinition {
  const dimension: Record<SimpleComponentType, PriceDimension> = {
    flat_fee: 'FLAT',
    per_kwh: 'ENERGY',
    per_minute: 'TIME',
  };
  const priceComponents = components.map((c): PriceComponentDef => ({
    type: dimension[c.type],
    price: (c.type === 'per_minute' ? new Dec(c.price).mul(60) : new Dec(c.price)).toFixed(),
    vat: null,
    step_size: 1,
  }));
  return { currency, elements: [{ price_components: priceComponents }] };
}
