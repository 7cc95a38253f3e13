import { minorUnitDigits } from './currency';
import { localFields } from './local-time';
import type {
  CostPair,
  PriceDimension,
  RatedLine,
  RatedLineKind,
  RatedSession,
  RatingInput,
  RatingPeriod,
  TariffDefinition,
} from './model';
import {
  minorAmount,
  minorVat,
  PER_HOUR_IN_MS,
  PER_KWH_IN_MWH,
  PER_SESSION,
  scaledInteger,
} from './exact-amount';
import { Dec, formatMinor, MINOR_SCALE, minorInt, roundToMinor } from './money';
import {
  compileRestrictions,
  matchesCompiled,
  type CompiledRestrictions,
  type MatchState,
} from './restrictions';

// The platform's one rating engine: an OCPI 2.2.1 Tariff applied to a session cut into periods.
// docs/ocpi-pricing.md lists every reading of the specification taken here; the short version:
//
// - Per period and per dimension the price component comes from the FIRST element whose restrictions hold
//   at the period start and that has that dimension (mod_tariffs "Tariff Object").
// - FLAT is billed once, from the first period for which a FLAT element matches.
// - step_size (mod_cdrs "step_size"): once per session for ENERGY and once for TIME and PARKING_TIME
//   together, on the session total of the dimension, with the step_size of the last component that priced
//   it; when parking is billed only the parking total is rounded, otherwise the charging time total. The
//   rounded-up extra is a separate 'step' line at that component's price.
// - Every line is rounded once to the currency's minor unit (roundToMinor); its VAT is rounded once from the
//   rounded amount; every total is a sum of rounded lines, kept as integer minor units.
//
// Quantities stay integers (mWh, ms) until a line is priced, and Decimal is used once per line, so a day of
// five-minute periods costs a few hundred microseconds.

const FLAT = 0;
const ENERGY = 1;
const TIME = 2;
const PARKING = 3;
const DIMENSIONS: readonly PriceDimension[] = ['FLAT', 'ENERGY', 'TIME', 'PARKING_TIME'];
const MS_PER_HOUR = 3_600_000;

interface Component {
  element: number;
  dim: number;
  price: string;
  priceDec: Dec;
  /** Price per mWh: the price per kWh with the decimal point shifted, so exact. */
  pricePerMWh: Dec;
  vat: string | null;
  /** vat / 100, or null when no VAT applies. */
  vatFactor: Dec | null;
  /** In the dimension's integer unit: mWh for ENERGY, ms for the times. */
  stepUnits: number;
  /** For the integer path (exact-amount.ts): price × 10^6, VAT percent × 10^4, null when they do not fit. */
  priceMicro: bigint | null;
  vatE4: bigint | null;
  divisor: bigint;
}

interface CompiledTariff {
  currency: string;
  digits: number;
  restrictions: CompiledRestrictions[];
  /** Per dimension, its components in element order: the first matching one prices. */
  candidates: Component[][];
  needsLocal: boolean;
  minPrice?: { excl: number; incl?: number };
  maxPrice?: { excl: number; incl?: number };
  graceMs: number;
  idleMaxMinor?: number;
}

// Tariff versions are immutable, so their compiled form is kept as long as the definition object lives.
const compiled = new WeakMap<TariffDefinition, CompiledTariff>();

function compile(tariff: TariffDefinition): CompiledTariff {
  const hit = compiled.get(tariff);
  if (hit) return hit;
  const currency = tariff.currency;
  const digits = minorUnitDigits(currency);
  const candidates: Component[][] = [[], [], [], []];
  const restrictions = tariff.elements.map((e) => compileRestrictions(e.restrictions));
  tariff.elements.forEach((element, index) => {
    for (const pc of element.price_components) {
      const dim = DIMENSIONS.indexOf(pc.type);
      if (dim < 0) throw new RangeError(`elements[${index}]: unknown dimension ${pc.type}`);
      const step = pc.step_size > 0 ? pc.step_size : 1;
      candidates[dim].push({
        element: index,
        dim,
        price: pc.price,
        priceDec: new Dec(pc.price),
        pricePerMWh: new Dec(pc.price).mul('1e-6'),
        vat: pc.vat,
        vatFactor: pc.vat === null ? null : new Dec(pc.vat).div(100),
        // Wh -> mWh and s -> ms are both a factor 1000.
        stepUnits: step * 1000,
        priceMicro: scaledInteger(pc.price, 6),
        vatE4: pc.vat === null ? null : scaledInteger(pc.vat, 4),
        divisor: dim === FLAT ? PER_SESSION : dim === ENERGY ? PER_KWH_IN_MWH : PER_HOUR_IN_MS,
      });
    }
  });
  const toMinor = (v: string) => minorInt(roundToMinor(v, currency), digits);
  const limit = (p: TariffDefinition['min_price']) =>
    p === undefined
      ? undefined
      : { excl: toMinor(p.excl_vat), incl: p.incl_vat === undefined ? undefined : toMinor(p.incl_vat) };
  const result: CompiledTariff = {
    currency,
    digits,
    restrictions,
    candidates,
    needsLocal: restrictions.some((r) => r.needsLocal),
    minPrice: limit(tariff.min_price),
    maxPrice: limit(tariff.max_price),
    graceMs: (tariff.idle?.grace_period_seconds ?? 0) * 1000,
    idleMaxMinor: tariff.idle?.max_cost === undefined ? undefined : toMinor(tariff.idle.max_cost),
  };
  compiled.set(tariff, result);
  return result;
}

/** Exact decimal of an integer scaled down by 10^scale, without trailing zeros. */
function scaledIntToDecimal(value: number, scale: number): string {
  if (value === 0) return '0';
  const negative = value < 0;
  const text = String(Math.abs(value)).padStart(scale + 1, '0');
  const cut = text.length - scale;
  let end = text.length;
  while (end > cut && text.charCodeAt(end - 1) === 48) end--;
  const whole = negative ? `-${text.slice(0, cut)}` : text.slice(0, cut);
  return end === cut ? whole : `${whole}.${text.slice(cut, end)}`;
}

/** mWh as exact kWh. */
export function kwhText(mwh: number): string {
  return scaledIntToDecimal(mwh, 6);
}

/**
 * ms as hours, rounded half up to 6 decimals (1 micro-hour = 3.6 ms) for display only: amounts are
 * computed from the exact ms, and most durations have no finite decimal form in hours.
 */
export function hoursText(ms: number): string {
  // ms / 3.6 micro-hours, as an exact integer division so the half-up tie is seen exactly.
  return scaledIntToDecimal(Math.round((ms * 5) / 18), 6);
}

interface PricedLine {
  line: RatedLine;
  dim: number;
  excl: number;
  vat: number;
}

function checkQuantity(v: number, i: number, key: string): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`periods[${i}].${key} must be a non-negative integer, got ${v}`);
  }
}

function checkInput(input: RatingInput): void {
  const { sessionStartMs, sessionEndMs, periods } = input;
  if (!Number.isFinite(sessionStartMs) || !Number.isFinite(sessionEndMs) || sessionEndMs < sessionStartMs) {
    throw new RangeError('sessionEndMs must not be before sessionStartMs');
  }
  let previous = -Infinity;
  for (let i = 0; i < periods.length; i++) {
    const p = periods[i];
    if (!(p.startMs >= previous)) throw new RangeError(`periods[${i}].startMs is before the previous period`);
    previous = p.startMs;
    checkQuantity(p.energyMWh, i, 'energyMWh');
    checkQuantity(p.timeMs, i, 'timeMs');
    checkQuantity(p.parkingMs, i, 'parkingMs');
  }
  const allowance = input.allowanceMWh ?? 0;
  if (!Number.isSafeInteger(allowance) || allowance < 0) {
    throw new RangeError('allowanceMWh must be a non-negative integer');
  }
}

/** Rates one session: the lines, the OCPI CDR cost fields and quantities, every amount rounded once. */
export function ratePeriods(tariff: TariffDefinition, input: RatingInput): RatedSession {
  checkInput(input);
  const t = compile(tariff);
  const { restrictions, candidates } = t;
  const nElements = restrictions.length;
  const memo = new Int8Array(nElements);
  const state: MatchState = { energyBeforeMWh: 0, durationMs: 0, period: {} };

  const pick = (dim: number): Component | undefined => {
    const list = candidates[dim];
    for (let k = 0; k < list.length; k++) {
      const c = list[k];
      let m = memo[c.element];
      if (m === 0) {
        m = matchesCompiled(restrictions[c.element], state) ? 1 : 2;
        memo[c.element] = m;
      }
      if (m === 1) return c;
    }
    return undefined;
  };

  // Billed quantities per (dimension, element), in mWh / ms.
  const usage = [0, 1, 2, 3].map(() => new Array<number>(nElements).fill(0));
  const allowanceByElement = new Array<number>(nElements).fill(0);
  const graceByElement = new Array<number>(nElements).fill(0);
  let flat: Component | undefined;
  let lastEnergy: Component | undefined;
  let lastTime: Component | undefined;
  let lastParking: Component | undefined;
  let energyPriced = 0;
  let timePriced = 0;
  let parkingBilled = 0;
  let energyTotal = 0;
  let parkingTotal = 0;
  let allowanceLeft = input.allowanceMWh ?? 0;
  let graceLeft = t.graceMs;

  const periods: RatingPeriod[] =
    input.periods.length > 0
      ? input.periods
      : [{ startMs: input.sessionStartMs, energyMWh: 0, timeMs: 0, parkingMs: 0 }];
  for (let i = 0; i < periods.length; i++) {
    const p = periods[i];
    if (t.needsLocal) state.local = localFields(input.timeZone, p.startMs);
    state.energyBeforeMWh = energyTotal;
    state.durationMs = p.startMs - input.sessionStartMs;
    state.period = p;
    memo.fill(0);

    if (flat === undefined) flat = pick(FLAT);

    const energy = p.energyMWh;
    if (energy > 0) {
      // The allowance covers the session's first energy, priced or not: it is "the first N kWh".
      const covered = Math.min(allowanceLeft, energy);
      allowanceLeft -= covered;
      const c = pick(ENERGY);
      if (c) {
        allowanceByElement[c.element] += covered;
        usage[ENERGY][c.element] += energy - covered;
        energyPriced += energy;
        lastEnergy = c;
      }
      energyTotal += energy;
    }
    if (p.timeMs > 0) {
      const c = pick(TIME);
      if (c) {
        usage[TIME][c.element] += p.timeMs;
        timePriced += p.timeMs;
        lastTime = c;
      }
    }
    const parking = p.parkingMs;
    if (parking > 0) {
      // The grace period runs from the first second of not charging, whether or not that second is priced.
      const grace = Math.min(graceLeft, parking);
      graceLeft -= grace;
      const c = pick(PARKING);
      if (c) {
        graceByElement[c.element] += grace;
        if (parking > grace) {
          usage[PARKING][c.element] += parking - grace;
          parkingBilled += parking - grace;
          lastParking = c;
        }
      }
      parkingTotal += parking;
    }
  }

  // step_size: the session total rounded up once, the extra at the last pricing component's price.
  const roundUpExtra = (total: number, step: number) => Math.ceil(total / step) * step - total;
  let energyStep = lastEnergy ? roundUpExtra(energyPriced, lastEnergy.stepUnits) : 0;
  if (energyStep > 0 && allowanceLeft > 0 && lastEnergy) {
    const covered = Math.min(allowanceLeft, energyStep);
    allowanceByElement[lastEnergy.element] += covered;
    energyStep -= covered;
  }
  let timeStep = 0;
  let parkingStep = 0;
  if (parkingBilled > 0 && lastParking) parkingStep = roundUpExtra(parkingBilled, lastParking.stepUnits);
  else if (timePriced > 0 && lastTime) timeStep = roundUpExtra(timePriced, lastTime.stepUnits);

  const { currency, digits } = t;
  const priced: PricedLine[] = [];

  const amountOf = (c: Component, quantity: number): [excl: number, vat: number] => {
    if (c.priceMicro !== null && (c.vat === null || c.vatE4 !== null) && digits <= 4) {
      const excl = minorAmount(c.priceMicro, c.dim === FLAT ? 1 : quantity, c.divisor, digits);
      return [excl, c.vatE4 === null || excl === 0 ? 0 : minorVat(excl, c.vatE4)];
    }
    const exact =
      c.dim === FLAT
        ? c.priceDec
        : c.dim === ENERGY
          ? c.pricePerMWh.mul(quantity)
          : // Multiply first and divide once: the only inexact step is one 40-digit quotient.
            c.priceDec.mul(quantity).div(MS_PER_HOUR);
    const rounded = roundToMinor(exact, currency);
    const excl = minorInt(rounded, digits);
    const vat =
      c.vatFactor !== null && excl !== 0
        ? minorInt(roundToMinor(rounded.mul(c.vatFactor), currency), digits)
        : 0;
    return [excl, vat];
  };

  /** `base` is the quantity the component's usage line already priced: a step line is the difference
   * between pricing usage + step and usage alone, so one more second or Wh never lowers the total. */
  const addLine = (c: Component, kind: RatedLineKind, quantity: number, base = 0) => {
    const dim = c.dim;
    let excl = 0;
    let vat = 0;
    let unitPrice = c.price;
    if (kind === 'usage') {
      [excl, vat] = amountOf(c, quantity);
    } else if (kind === 'step') {
      const [withStepExcl, withStepVat] = amountOf(c, base + quantity);
      const [usageExcl, usageVat] = amountOf(c, base);
      excl = withStepExcl - usageExcl;
      vat = withStepVat - usageVat;
    } else {
      unitPrice = '0';
    }
    priced.push({
      dim,
      excl,
      vat,
      line: {
        dimension: DIMENSIONS[dim],
        kind,
        elementIndex: c.element,
        quantity: dim === FLAT ? '1' : dim === ENERGY ? kwhText(quantity) : hoursText(quantity),
        unit: dim === FLAT ? 'session' : dim === ENERGY ? 'kWh' : 'h',
        unitPrice,
        vatRate: c.vat,
        amountExclVat: formatMinor(excl, digits),
        vatAmount: formatMinor(vat, digits),
        amountInclVat: formatMinor(excl + vat, digits),
      },
    });
  };

  if (flat) addLine(flat, 'usage', 1);
  for (const dim of [ENERGY, TIME, PARKING]) {
    for (const c of candidates[dim]) {
      const q = usage[dim][c.element];
      if (q > 0) addLine(c, 'usage', q);
      if (dim === ENERGY && allowanceByElement[c.element] > 0) {
        addLine(c, 'allowance', allowanceByElement[c.element]);
      }
      if (dim === PARKING && graceByElement[c.element] > 0)
        addLine(c, 'idle_grace', graceByElement[c.element]);
    }
    const stepComponent = dim === ENERGY ? lastEnergy : dim === TIME ? lastTime : lastParking;
    const extra = dim === ENERGY ? energyStep : dim === TIME ? timeStep : parkingStep;
    if (stepComponent && extra > 0) addLine(stepComponent, 'step', extra, usage[dim][stepComponent.element]);
  }

  if (t.idleMaxMinor !== undefined) {
    const parkingLines = priced.filter((p) => p.dim === PARKING);
    const excl = parkingLines.reduce((s, p) => s + p.excl, 0);
    if (excl > t.idleMaxMinor) {
      const vat = parkingLines.reduce((s, p) => s + p.vat, 0);
      priced.push(idleCapLine(t.idleMaxMinor - excl, parkingLines, excl, vat, t));
    }
  }

  const sumExcl = () => priced.reduce((s, p) => s + p.excl, 0);
  const sumVat = () => priced.reduce((s, p) => s + p.vat, 0);
  for (const [limit, kind, sign] of [
    [t.minPrice, 'min_price', 1],
    [t.maxPrice, 'max_price', -1],
  ] as const) {
    if (!limit) continue;
    const excl = sumExcl();
    const incl = excl + sumVat();
    const limitIncl = limit.incl ?? derivedInclVat(limit.excl, priced, excl, incl, t);
    // Both rules apply on their own (mod_tariffs NOTE on min_price / max_price): each total is moved to
    // its limit only when it is beyond it.
    const adjExcl = sign * Math.max(0, sign * (limit.excl - excl));
    const adjIncl = sign * Math.max(0, sign * (limitIncl - incl));
    if (adjExcl !== 0 || adjIncl !== 0) {
      priced.push(sessionLine(FLAT, kind, adjExcl, adjIncl - adjExcl, singleRate(priced), t));
    }
  }

  const buckets = [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  let totalExcl = 0;
  let totalVat = 0;
  for (const p of priced) {
    totalExcl += p.excl;
    totalVat += p.vat;
    // min_price / max_price adjust the session, not one dimension: they appear in total_cost only.
    if (p.line.kind === 'min_price' || p.line.kind === 'max_price') continue;
    buckets[p.dim][0] += p.excl;
    buckets[p.dim][1] += p.vat;
  }
  const pair = (excl: number, vat: number): CostPair => ({
    excl_vat: formatMinor(excl, digits),
    incl_vat: formatMinor(excl + vat, digits),
  });
  return {
    currency,
    lines: priced.map((p) => p.line),
    total_energy: kwhText(energyTotal),
    total_time: hoursText(input.sessionEndMs - input.sessionStartMs),
    total_parking_time: hoursText(parkingTotal),
    total_fixed_cost: pair(buckets[FLAT][0], buckets[FLAT][1]),
    total_energy_cost: pair(buckets[ENERGY][0], buckets[ENERGY][1]),
    total_time_cost: pair(buckets[TIME][0], buckets[TIME][1]),
    total_parking_cost: pair(buckets[PARKING][0], buckets[PARKING][1]),
    total_cost: pair(totalExcl, totalVat),
  };
}

/** The one VAT rate all these lines carry, or undefined when some carry none or they differ. */
function singleRate(lines: PricedLine[]): string | undefined {
  let rate: string | undefined;
  let withoutVat = false;
  for (const p of lines) {
    const r = p.line.vatRate;
    if (r === null) withoutVat = true;
    else if (rate === undefined) rate = r;
    else if (!new Dec(rate).eq(r)) return undefined;
  }
  return withoutVat ? undefined : rate;
}

/**
 * min_price / max_price without incl_vat: the limit including VAT is the limit excluding VAT carrying the
 * VAT of the session's lines: their one rate when they share one; with several rates, the ratio of their
 * totals incl. and excl. VAT; with no VAT (or no cost to take a ratio from), none.
 */
function derivedInclVat(
  limitExcl: number,
  lines: PricedLine[],
  excl: number,
  incl: number,
  t: CompiledTariff,
): number {
  const rate = singleRate(lines);
  let factor: Dec;
  if (rate !== undefined) factor = new Dec(rate).div(100).add(1);
  else if (excl !== 0) factor = new Dec(incl).div(excl);
  else factor = new Dec(1);
  const limit = new Dec(limitExcl).div(MINOR_SCALE[t.digits]);
  return minorInt(roundToMinor(limit.mul(factor), t.currency), t.digits);
}

/** The idle cap: a negative parking line whose VAT follows the parking lines' VAT. */
function idleCapLine(
  excl: number,
  lines: PricedLine[],
  linesExcl: number,
  linesVat: number,
  t: CompiledTariff,
): PricedLine {
  const rate = singleRate(lines);
  let vat = 0;
  if (rate) {
    const amount = new Dec(excl).div(MINOR_SCALE[t.digits]);
    vat = minorInt(roundToMinor(amount.mul(rate).div(100), t.currency), t.digits);
  } else if (linesVat !== 0 && linesExcl !== 0) {
    // Several rates: the cap takes off VAT in the proportion the capped lines carried it.
    const proportional = new Dec(linesVat).mul(excl).div(linesExcl).div(MINOR_SCALE[t.digits]);
    vat = minorInt(roundToMinor(proportional, t.currency), t.digits);
  }
  return sessionLine(PARKING, 'idle_cap', excl, vat, rate, t);
}

/** A line for the session as a whole (a limit or a cap), tied to no element. */
function sessionLine(
  dim: number,
  kind: RatedLineKind,
  excl: number,
  vat: number,
  rate: string | undefined,
  t: CompiledTariff,
): PricedLine {
  return {
    dim,
    excl,
    vat,
    line: {
      dimension: DIMENSIONS[dim],
      kind,
      elementIndex: null,
      quantity: '1',
      unit: 'session',
      unitPrice: formatMinor(excl, t.digits),
      vatRate: rate ?? null,
      amountExclVat: formatMinor(excl, t.digits),
      vatAmount: formatMinor(vat, t.digits),
      amountInclVat: formatMinor(excl + vat, t.digits),
    },
  };
}
