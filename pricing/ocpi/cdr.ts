import { isRecord, type InputProblem } from '../input-checks';
import { isValidTimeZone } from '../local-time';
import type {
  CostPair,
  PriceDimension,
  RatedLine,
  RatedSession,
  RatingInput,
  RatingPeriod,
  TariffDefinition,
} from '../model';
import { Dec } from '../money';
import { ratePeriods } from '../rate-periods';
import { parseOcpiDateTime } from '../tariff-definition';

// OCPI 2.2.1 CDR -> RatingInput, rating, and the comparison of a CDR's stated totals with ours.
//
// The CDR carries no time zone: CdrLocation in 2.2.1 has no time_zone (only the Location object does, and
// the Tariff restrictions say their local times are in "the time_zone field of the Location"). The caller
// therefore names the zone (CLI --tz, default UTC).

const MWH_PER_KWH = 1_000_000;
const MS_PER_HOUR = 3_600_000;

/** CdrDimensionType values that are "Session Only" in 2.2.1 and carry nothing the tariff prices. */
const SESSION_ONLY = ['CURRENT', 'ENERGY_EXPORT', 'ENERGY_IMPORT', 'POWER', 'STATE_OF_CHARGE'];
const CDR_DIMENSIONS = [
  'ENERGY',
  'MAX_CURRENT',
  'MIN_CURRENT',
  'MAX_POWER',
  'MIN_POWER',
  'PARKING_TIME',
  'RESERVATION_TIME',
  'TIME',
  ...SESSION_ONLY,
];

export interface CdrOptions {
  /** IANA zone the tariff's local times are read in; default UTC. */
  timeZone?: string;
  /** Session start for a bare list of periods; default the first period's start. */
  startMs?: number;
  /**
   * Session end for a bare list of periods. Default: the last period's start plus its TIME and
   * PARKING_TIME volumes, i.e. the last period lasts as long as it says it was charging or parked.
   */
  endMs?: number;
  allowanceMWh?: number;
}

export interface CdrRatingInput {
  input?: RatingInput;
  problems: InputProblem[];
  /** Things the caller should know: ignored dimensions, the assumed session end. */
  notes: string[];
  /** The CDR's own fields, when a whole CDR was given. */
  cdr?: Record<string, unknown>;
}

/** A non-negative JSON number scaled to an integer unit, exactly (kWh -> mWh, h -> ms). */
function scaled(value: unknown, factor: number): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  return new Dec(String(value)).mul(factor).toDecimalPlaces(0, Dec.ROUND_HALF_UP).toNumber();
}

function readPeriods(
  raw: unknown,
  path: string,
  problems: InputProblem[],
  notes: string[],
): RatingPeriod[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push({ param: path, message: 'must be a non-empty array of ChargingPeriod objects' });
    return undefined;
  }
  const before = problems.length;
  const periods: RatingPeriod[] = [];
  const ignored = new Set<string>();
  let previous = -Infinity;
  raw.forEach((cp: unknown, i) => {
    const p = `${path}[${i}]`;
    if (!isRecord(cp)) {
      problems.push({ param: p, message: 'must be a ChargingPeriod object' });
      return;
    }
    const startText = cp.start_date_time;
    const startMs = typeof startText === 'string' ? parseOcpiDateTime(startText) : undefined;
    if (startMs === undefined) {
      problems.push({ param: `${p}.start_date_time`, message: 'is required: an RFC 3339 UTC date-time' });
      return;
    }
    if (startMs < previous) {
      problems.push({
        param: `${p}.start_date_time`,
        message: 'is before the previous period; periods must be in order',
      });
    }
    previous = startMs;
    const period: RatingPeriod = { startMs, energyMWh: 0, timeMs: 0, parkingMs: 0 };
    const dims = cp.dimensions;
    if (!Array.isArray(dims) || dims.length === 0) {
      problems.push({
        param: `${p}.dimensions`,
        message: 'must be a non-empty array of CdrDimension objects',
      });
      return;
    }
    const seen = new Set<string>();
    dims.forEach((d: unknown, j) => {
      const dp = `${p}.dimensions[${j}]`;
      if (!isRecord(d) || typeof d.type !== 'string' || !CDR_DIMENSIONS.includes(d.type)) {
        problems.push({ param: `${dp}.type`, message: `must be one of ${CDR_DIMENSIONS.join(', ')}` });
        return;
      }
      if (seen.has(d.type)) {
        problems.push({ param: `${dp}.type`, message: `${d.type} appears more than once in this period` });
        return;
      }
      seen.add(d.type);
      const v = d.volume;
      const bad = (what: string) => problems.push({ param: `${dp}.volume`, message: what });
      switch (d.type) {
        case 'ENERGY': {
          const mwh = scaled(v, MWH_PER_KWH);
          if (mwh === undefined) bad('must be a non-negative number of kWh (energy fed back is not rated)');
          else period.energyMWh = mwh;
          break;
        }
        case 'TIME':
        case 'PARKING_TIME': {
          const ms = scaled(v, MS_PER_HOUR);
          if (ms === undefined) bad('must be a non-negative number of hours');
          else if (d.type === 'TIME') period.timeMs = ms;
          else period.parkingMs = ms;
          break;
        }
        case 'MIN_POWER':
        case 'MAX_POWER':
        case 'MIN_CURRENT':
        case 'MAX_CURRENT': {
          if (typeof v !== 'number' || !Number.isFinite(v)) {
            bad('must be a number');
            break;
          }
          const key = {
            MIN_POWER: 'minPowerKw',
            MAX_POWER: 'maxPowerKw',
            MIN_CURRENT: 'minCurrentA',
            MAX_CURRENT: 'maxCurrentA',
          }[d.type] as 'minPowerKw' | 'maxPowerKw' | 'minCurrentA' | 'maxCurrentA';
          period[key] = v;
          break;
        }
        default:
          ignored.add(d.type);
      }
    });
    periods.push(period);
  });
  if (ignored.has('RESERVATION_TIME')) {
    notes.push(
      'RESERVATION_TIME volumes are not rated: the engine prices charging sessions, not reservations.',
    );
    ignored.delete('RESERVATION_TIME');
  }
  if (ignored.size > 0) notes.push(`Ignored session-only dimensions: ${[...ignored].sort().join(', ')}.`);
  return problems.length > before ? undefined : periods;
}

/**
 * A whole OCPI CDR (start_date_time, end_date_time, charging_periods) or a bare array of ChargingPeriods
 * as the engine's RatingInput: ENERGY kWh -> integer mWh, TIME / PARKING_TIME hours -> integer ms (both
 * exact from the written number, then rounded to the integer unit), MIN/MAX_POWER kW and MIN/MAX_CURRENT A
 * as given. A period lasts until the next one starts; the last one until the CDR's end_date_time.
 */
export function cdrToRatingInput(json: unknown, options: CdrOptions = {}): CdrRatingInput {
  const problems: InputProblem[] = [];
  const notes: string[] = [];
  const timeZone = options.timeZone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) {
    problems.push({ param: 'time_zone', message: `${JSON.stringify(timeZone)} is not an IANA time zone` });
  }
  if (Array.isArray(json)) {
    const periods = readPeriods(json, 'charging_periods', problems, notes);
    if (!periods || problems.length > 0) return { problems, notes };
    const last = periods[periods.length - 1];
    const sessionStartMs = options.startMs ?? periods[0].startMs;
    let sessionEndMs = options.endMs;
    if (sessionEndMs === undefined) {
      sessionEndMs = last.startMs + last.timeMs + last.parkingMs;
      notes.push(
        'No session end given: the last period is taken to end after its TIME + PARKING_TIME volume ' +
          `(${new Date(sessionEndMs).toISOString()}).`,
      );
    }
    if (sessionEndMs < last.startMs || sessionStartMs > periods[0].startMs) {
      problems.push({ param: 'end_date_time', message: 'the session must span all of its periods' });
      return { problems, notes };
    }
    return {
      input: { sessionStartMs, sessionEndMs, timeZone, periods, allowanceMWh: options.allowanceMWh },
      problems,
      notes,
    };
  }
  if (!isRecord(json)) {
    return {
      problems: [{ param: '', message: 'must be an OCPI CDR object or an array of ChargingPeriods' }],
      notes,
    };
  }
  const times: Record<string, number | undefined> = {};
  for (const key of ['start_date_time', 'end_date_time']) {
    const v = json[key];
    times[key] = typeof v === 'string' ? parseOcpiDateTime(v) : undefined;
    if (times[key] === undefined)
      problems.push({ param: key, message: 'is required: an RFC 3339 UTC date-time' });
  }
  const periods = readPeriods(json.charging_periods, 'charging_periods', problems, notes);
  if (!periods || problems.length > 0) return { problems, notes, cdr: json };
  const sessionStartMs = times.start_date_time as number;
  const sessionEndMs = times.end_date_time as number;
  if (sessionEndMs < sessionStartMs) {
    problems.push({ param: 'end_date_time', message: 'must not be before start_date_time' });
  }
  if (periods[0].startMs < sessionStartMs || periods[periods.length - 1].startMs > sessionEndMs) {
    problems.push({ param: 'charging_periods', message: 'every period must start within the session' });
  }
  if (problems.length > 0) return { problems, notes, cdr: json };
  return {
    input: { sessionStartMs, sessionEndMs, timeZone, periods, allowanceMWh: options.allowanceMWh },
    problems,
    notes,
    cdr: json,
  };
}

export interface CdrRating extends CdrRatingInput {
  rated?: RatedSession;
}

/** Rates a CDR (or bare periods) with the tariff. */
export function rateCdr(tariff: TariffDefinition, json: unknown, options: CdrOptions = {}): CdrRating {
  const read = cdrToRatingInput(json, options);
  if (!read.input) return read;
  if (read.cdr && typeof read.cdr.currency === 'string' && read.cdr.currency !== tariff.currency) {
    read.notes.push(`The CDR is in ${read.cdr.currency}, the tariff in ${tariff.currency}.`);
  }
  return { ...read, rated: ratePeriods(tariff, read.input) };
}

export interface CdrDifference {
  /** CDR field, e.g. "total_energy_cost.incl_vat". */
  field: string;
  /** What the CDR says ("absent" when it leaves out a field we have a cost for). */
  stated: string;
  ours: string;
  explanation: string;
}

export interface CdrVerification extends CdrRating {
  differences: CdrDifference[];
}

const COST_FIELDS = [
  ['total_cost', null],
  ['total_fixed_cost', 'FLAT'],
  ['total_energy_cost', 'ENERGY'],
  ['total_time_cost', 'TIME'],
  ['total_parking_cost', 'PARKING_TIME'],
] as const;

const QUANTITY_FIELDS = [
  ['total_energy', 'ENERGY', 'kWh'],
  ['total_time', null, 'h'],
  ['total_parking_time', 'PARKING_TIME', 'h'],
] as const;

function decimalsOf(text: string): number {
  const [mantissa, exponent] = text.toLowerCase().split('e');
  const decimals = (mantissa.split('.')[1] ?? '').length - Number(exponent ?? 0);
  return Math.max(0, decimals);
}

/** Does a stated Price part exist and differ from ours? */
function statedDiffers(stated: unknown, ours: string, part: 'excl_vat' | 'incl_vat'): boolean {
  if (!isRecord(stated)) return false;
  const v = stated[part];
  return typeof v === 'number' && Number.isFinite(v) && !new Dec(String(v)).eq(ours);
}

function describeLine(l: RatedLine, index: number): string {
  const where = l.elementIndex === null ? 'session adjustment' : `element ${l.elementIndex}`;
  const vat = l.vatRate === null ? 'no VAT' : `VAT ${l.vatRate}% ${l.vatAmount}`;
  if (l.kind === 'min_price' || l.kind === 'max_price' || l.kind === 'idle_cap') {
    return `line ${index} ${l.kind} (${where}): ${l.amountExclVat} excl. VAT, ${vat}`;
  }
  return `line ${index} ${l.dimension} ${l.kind} (${where}): ${l.quantity} ${l.unit} x ${l.unitPrice} = ${l.amountExclVat} excl. VAT, ${vat}`;
}

function periodsWith(input: RatingInput, dimension: PriceDimension | null): string {
  const picked: string[] = [];
  input.periods.forEach((p, i) => {
    const volume =
      dimension === 'ENERGY'
        ? p.energyMWh
        : dimension === 'TIME'
          ? p.timeMs
          : dimension === 'PARKING_TIME'
            ? p.parkingMs
            : p.energyMWh + p.timeMs + p.parkingMs;
    if (volume > 0 || dimension === 'FLAT') picked.push(`#${i} (${new Date(p.startMs).toISOString()})`);
  });
  if (picked.length === 0) return 'no period has this dimension';
  const shown = picked.slice(0, 8).join(', ');
  return `periods ${shown}${picked.length > 8 ? ` and ${picked.length - 8} more` : ''}`;
}

/**
 * Compares a CDR's stated cost fields (each excl and incl VAT) and quantities with our rating of its
 * periods. Money must agree exactly (ours is rounded to the minor unit, line by line). A quantity agrees
 * when ours, rounded half up to the number of decimals the CDR wrote (at least 3: JSON drops trailing
 * zeros, so "2" may mean 2.000), equals the stated value. An optional cost field the CDR leaves out is
 * only a difference when ours is not zero.
 */
export function verifyCdr(
  tariff: TariffDefinition,
  json: unknown,
  options: CdrOptions = {},
): CdrVerification {
  if (Array.isArray(json)) {
    return {
      problems: [
        { param: '', message: 'verify needs a whole CDR (with its total_* fields), not bare periods' },
      ],
      notes: [],
      differences: [],
    };
  }
  const rating = rateCdr(tariff, json, options);
  const { rated, input, cdr } = rating;
  if (!rated || !input || !cdr) return { ...rating, differences: [] };
  const differences: CdrDifference[] = [];
  const problems = [...rating.problems];
  if (cdr.currency !== tariff.currency) {
    differences.push({
      field: 'currency',
      stated: String(cdr.currency),
      ours: tariff.currency,
      explanation: 'The CDR is not in the currency of the tariff; none of its amounts can match.',
    });
  }
  const lineList = rated.lines.map((l, i) => ({ l, i }));
  for (const [field, dimension] of COST_FIELDS) {
    const stated = cdr[field];
    const ours: CostPair = rated[field];
    const lines = lineList.filter(
      ({ l }) =>
        dimension === null || (l.dimension === dimension && !['min_price', 'max_price'].includes(l.kind)),
    );
    if (stated === undefined || stated === null) {
      if (field === 'total_cost') problems.push({ param: field, message: 'is required in a CDR' });
      else if (!new Dec(ours.excl_vat).isZero() || !new Dec(ours.incl_vat).isZero()) {
        differences.push({
          field,
          stated: 'absent',
          ours: `${ours.excl_vat} / ${ours.incl_vat}`,
          explanation: `The CDR leaves ${field} out, but the tariff gives a cost: ${lines.map(({ l, i }) => describeLine(l, i)).join('; ')}.`,
        });
      }
      continue;
    }
    if (!isRecord(stated)) {
      problems.push({ param: field, message: 'must be a Price object {excl_vat, incl_vat?}' });
      continue;
    }
    for (const part of ['excl_vat', 'incl_vat'] as const) {
      const v = stated[part];
      if (v === undefined || v === null) {
        if (part === 'excl_vat')
          problems.push({ param: `${field}.excl_vat`, message: 'is required in a Price' });
        continue;
      }
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        problems.push({ param: `${field}.${part}`, message: 'must be a JSON number' });
        continue;
      }
      const statedDec = new Dec(String(v));
      const oursDec = new Dec(ours[part]);
      if (statedDec.eq(oursDec)) continue;
      const diff = oursDec.sub(statedDec);
      const why: string[] = [];
      why.push(`ours is ${diff.abs().toFixed()} ${diff.isPositive() ? 'higher' : 'lower'}`);
      if (diff.abs().lt(new Dec(10).pow(-decimalsOf(ours[part])))) {
        why.push(
          'less than one minor unit apart: the CDR rounds differently (we round each line once, half away from zero, and add the rounded lines)',
        );
      }
      if (lines.length === 0) {
        why.push(
          `no tariff element priced ${dimension ?? 'anything'} in ${periodsWith(input, dimension)} (check the restrictions and the time zone, now ${input.timeZone})`,
        );
      } else {
        why.push(`our lines: ${lines.map(({ l, i }) => describeLine(l, i)).join('; ')}`);
        if (dimension !== null) why.push(`from ${periodsWith(input, dimension)}`);
      }
      if (dimension === null) {
        const also = COST_FIELDS.filter(
          ([f, d]) => d !== null && statedDiffers(cdr[f], rated[f][part], part),
        ).map(([f]) => f);
        if (also.length > 0) why.push(`the difference is in ${also.join(', ')}`);
      }
      if (dimension === null && rated.lines.some((l) => l.kind === 'min_price' || l.kind === 'max_price')) {
        why.push('total_cost includes the min_price/max_price adjustment, which is in no other total');
      }
      differences.push({
        field: `${field}.${part}`,
        stated: statedDec.toFixed(),
        ours: ours[part],
        explanation: `${why.join('; ')}.`,
      });
    }
  }
  for (const [field, dimension, unit] of QUANTITY_FIELDS) {
    const v = cdr[field];
    if (v === undefined || v === null) {
      if (field !== 'total_parking_time') problems.push({ param: field, message: 'is required in a CDR' });
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      problems.push({ param: field, message: 'must be a JSON number' });
      continue;
    }
    const text = String(v);
    const stated = new Dec(text);
    const oursExact =
      field === 'total_energy'
        ? new Dec(input.periods.reduce((s, p) => s + p.energyMWh, 0)).div(MWH_PER_KWH)
        : field === 'total_time'
          ? new Dec(input.sessionEndMs - input.sessionStartMs).div(MS_PER_HOUR)
          : new Dec(input.periods.reduce((s, p) => s + p.parkingMs, 0)).div(MS_PER_HOUR);
    const places = Math.max(decimalsOf(text), 3);
    if (oursExact.toDecimalPlaces(places, Dec.ROUND_HALF_UP).eq(stated)) continue;
    const basis =
      field === 'total_time'
        ? `end_date_time - start_date_time = ${input.sessionEndMs - input.sessionStartMs} ms (the CDR's total_time includes charging and not charging)`
        : `the sum of the ${dimension} volumes of ${periodsWith(input, dimension)}`;
    differences.push({
      field,
      stated: stated.toFixed(),
      ours: rated[field],
      explanation: `ours (${oursExact.toDecimalPlaces(6).toFixed()} ${unit}) is ${basis}; compared at ${places} decimals.`,
    });
  }
  return { ...rating, problems, differences };
}
