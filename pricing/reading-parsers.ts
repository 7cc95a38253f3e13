/*
 * The text a charger sends, read by hand: RFC 3339 timestamps, plain decimals, Wh registers as integer
 * milli-Wh. Each value is parsed once, in one pass, because this runs in every session workflow on every
 * pricing and Date.parse, Number() and a separate validation pass were the largest costs in profiles.
 */

// Codes the parsers return instead of a value (values are never negative).
const NOT_A_NUMBER = -1;
const NEGATIVE = -2;
const TOO_LARGE = -3;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). Plain arithmetic costs a
 * fraction of Date.UTC, which showed up in profiles of long sessions, and reads years 0-99 as written.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The two digits at s[at], or -1. Callers check the length first: past the end, NaN >>> 0 would pass. */
function twoDigits(s: string, at: number): number {
  const a = s.charCodeAt(at) - 48;
  const b = s.charCodeAt(at + 1) - 48;
  return a >>> 0 > 9 || b >>> 0 > 9 ? -1 : a * 10 + b;
}

/**
 * RFC 3339 date-time to ms since the epoch, NaN when the text is not one. Date.parse accepts other forms
 * and impossible dates (February 30th becomes March 1st), and a reading with a wrong date must be rejected,
 * not moved. Fractions below the ms are truncated, as Date does; a leap second reads as the next second.
 */
export function parseRfc3339(s: string): number {
  if (typeof s !== 'string' || s.length < 20) return NaN;
  const century = twoDigits(s, 0);
  const year = century * 100 + twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  const t = s.charCodeAt(10);
  if (
    century < 0 ||
    year < century * 100 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > DAYS_IN_MONTH[month - 1] ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    (t !== 84 && t !== 116) ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  ) {
    return NaN;
  }
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return NaN;
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    i++;
    const from = i;
    while (i < s.length) {
      const d = s.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) break;
      if (i - from < 3) ms += d * (i - from === 0 ? 100 : i - from === 1 ? 10 : 1);
      i++;
    }
    if (i === from) return NaN;
  }
  let offsetMs = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== s.length) return NaN;
  } else if (z === 43 || z === 45) {
    if (i + 6 !== s.length || s.charCodeAt(i + 3) !== 58) return NaN;
    const oh = twoDigits(s, i + 1);
    const om = twoDigits(s, i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMs = (oh * 60 + om) * 60_000 * (z === 43 ? 1 : -1);
  } else {
    return NaN;
  }
  const days = daysFromCivil(year, month, day);
  return days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + ms - offsetMs;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/**
 * A plain decimal ("7400", "7.25", "-3") divided by 10^shift, or NOT_A_NUMBER / NEGATIVE. Exponents, "+",
 * blanks and bare points are refused: a meter value that is not written plainly is not trusted to be read
 * right. A negative zero is zero. Up to 15 digits the result is the double nearest the exact value.
 */
export function parseDecimal(s: string, shift: number): number {
  const n = s.length;
  const negative = s.charCodeAt(0) === 45;
  let i = negative ? 1 : 0;
  const from = i;
  let digits = 0;
  let decimals = 0;
  while (i < n) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    digits = digits * 10 + d;
    i++;
  }
  if (i === from) return NOT_A_NUMBER;
  if (i < n) {
    if (s.charCodeAt(i) !== 46) return NOT_A_NUMBER;
    const fracFrom = ++i;
    while (i < n) {
      const d = s.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) return NOT_A_NUMBER;
      digits = digits * 10 + d;
      i++;
    }
    decimals = i - fracFrom;
    if (decimals === 0) return NOT_A_NUMBER;
  }
  if (negative && digits !== 0) return NEGATIVE;
  if (digits > Number.MAX_SAFE_INTEGER || decimals + shift >= POW10.length) {
    return Number(negative ? s.slice(1) : s) / POW10[shift];
  }
  return digits / POW10[decimals + shift];
}

// Largest whole Wh whose milli-Wh, plus a rounded-up fraction, is still an exact integer.
const MAX_WHOLE_WH = Math.floor(Number.MAX_SAFE_INTEGER / 1000) - 1;

/** A Wh decimal as integer milli-Wh, rounded half-up past the third decimal; or a negative code. */
export function parseMilli(s: string): number {
  const n = s.length;
  const negative = s.charCodeAt(0) === 45;
  let i = negative ? 1 : 0;
  const from = i;
  let whole = 0;
  while (i < n) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    whole = whole * 10 + d;
    i++;
  }
  if (i === from) return NOT_A_NUMBER;
  let milli = 0;
  let fraction = false;
  if (i < n) {
    if (s.charCodeAt(i) !== 46) return NOT_A_NUMBER;
    const fracFrom = ++i;
    while (i < n) {
      const d = s.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) return NOT_A_NUMBER;
      const place = i - fracFrom;
      if (place < 3) milli += d * (place === 0 ? 100 : place === 1 ? 10 : 1);
      // Half-up: the fourth decimal alone decides, whatever follows it.
      else if (place === 3 && d >= 5) milli++;
      if (d !== 0) fraction = true;
      i++;
    }
    if (i === fracFrom) return NOT_A_NUMBER;
  }
  if (negative && (whole !== 0 || fraction)) return NEGATIVE;
  return whole > MAX_WHOLE_WH ? TOO_LARGE : whole * 1000 + milli;
}

/** Milli-Wh as Wh with at least one decimal: 1520000 -> "1520.0", 1520125 -> "1520.125". */
export function formatWh(mwh: number): string {
  const frac = String(mwh % 1000)
    .padStart(3, '0')
    .replace(/0{1,2}$/, '');
  return `${Math.floor(mwh / 1000)}.${frac}`;
}

export function describeDecimalProblem(code: number): string {
  if (code === NEGATIVE) return 'is negative';
  if (code === TOO_LARGE) return 'is too large to be a meter reading';
  return 'is not a plain decimal number';
}

/** Values are typed as strings but come from outside; anything else is read as its text. */
export const text = (v: unknown): string => (typeof v === 'string' ? v : String(v));
