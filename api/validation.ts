import { Dec } from '../pricing/money';
import { invalidParam, missingParam, unknownParam } from './errors';

// Validators read one field each and throw an ApiError naming it, so a route validates its whole input before
// its first write and the client learns which field to fix.

// NUL cannot be stored in PostgreSQL text, and no single-line field has a use for other control characters.
const CONTROL = /\p{Cc}/u;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^\d+(\.\d+)?$/;

export type Body = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as an object with only the given fields; unknown fields are refused so typos do not go unnoticed. */
export function readBody(body: unknown, allowed: readonly string[]): Body {
  if (!isPlainObject(body)) throw invalidParam('body', 'must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw unknownParam(key);
  }
  return body;
}

/** Rejects fields of a nested object that are not in `allowed`, naming them with their full path. */
export function rejectUnknownFields(value: unknown, allowed: readonly string[], path: string): void {
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw unknownParam(`${path}.${key}`);
  }
}

const isAbsent = (value: unknown) => value === undefined || value === null;

export interface StringRules {
  min?: number;
  max: number;
  /** Trim surrounding white space first (names); identifiers and secrets are taken exactly. */
  trim?: boolean;
  pattern?: RegExp;
  patternMessage?: string;
}

export function optionalString(body: Body, param: string, rules: StringRules): string | undefined {
  const raw = body[param];
  if (isAbsent(raw)) return undefined;
  if (typeof raw !== 'string') throw invalidParam(param, 'must be a string');
  const value = rules.trim ? raw.trim() : raw;
  // Lengths in code points, as PostgreSQL's varchar counts them.
  const length = [...value].length;
  const min = rules.min ?? 1;
  if (length < min)
    throw invalidParam(param, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
  if (length > rules.max) throw invalidParam(param, `must be at most ${rules.max} characters`);
  if (CONTROL.test(value)) throw invalidParam(param, 'must not contain control characters');
  if (rules.pattern && !rules.pattern.test(value))
    throw invalidParam(param, rules.patternMessage ?? 'is malformed');
  return value;
}

export function requiredString(body: Body, param: string, rules: StringRules): string {
  const value = optionalString(body, param, rules);
  if (value === undefined) throw missingParam(param);
  return value;
}

export function optionalEnum<T extends string>(
  body: Body,
  param: string,
  values: readonly T[],
): T | undefined {
  const raw = body[param];
  if (isAbsent(raw)) return undefined;
  if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) {
    throw invalidParam(param, `must be one of ${values.join(', ')}`);
  }
  return raw as T;
}

export function requiredEnum<T extends string>(body: Body, param: string, values: readonly T[]): T {
  const value = optionalEnum(body, param, values);
  if (value === undefined) throw missingParam(param);
  return value;
}

export function optionalBoolean(body: Body, param: string): boolean | undefined {
  const raw = body[param];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'boolean') throw invalidParam(param, 'must be true or false');
  return raw;
}

export function optionalInteger(body: Body, param: string, min: number, max: number): number | undefined {
  const raw = body[param];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    throw invalidParam(param, `must be an integer from ${min} to ${max}`);
  }
  return raw;
}

export function optionalTimestamp(body: Body, param: string): Date | undefined {
  const raw = body[param];
  if (isAbsent(raw)) return undefined;
  return parseTimestamp(raw, param);
}

export function parseTimestamp(raw: unknown, param: string): Date {
  const message = 'must be an ISO 8601 timestamp with a time zone, e.g. 2026-12-31T23:59:59Z';
  if (typeof raw !== 'string' || !ISO_TIMESTAMP.test(raw)) throw invalidParam(param, message);
  const ms = Date.parse(raw);
  const year = Number(raw.slice(0, 4));
  // Date.parse quietly rolls 2026-02-30 over to March; comparing the calendar date catches that.
  if (Number.isNaN(ms) || year < 1970 || !sameCalendarDate(raw, ms)) throw invalidParam(param, message);
  return new Date(ms);
}

function sameCalendarDate(raw: string, ms: number): boolean {
  const offset = raw.endsWith('Z')
    ? 0
    : (raw.at(-6) === '-' ? -1 : 1) * (Number(raw.slice(-5, -3)) * 60 + Number(raw.slice(-2)));
  return new Date(ms + offset * 60_000).toISOString().slice(0, 10) === raw.slice(0, 10);
}

export interface DecimalRules {
  maxDecimals: number;
  maxIntegerDigits: number;
  positive?: boolean;
}

/** Decimal as a string or a JSON number (strings are exact; numbers are taken as JavaScript prints them). */
export function parseDecimal(raw: unknown, param: string, rules: DecimalRules): string {
  if (typeof raw !== 'string' && typeof raw !== 'number')
    throw invalidParam(param, 'must be a decimal string such as "12.50"');
  const text = String(raw).trim();
  if (!DECIMAL.test(text)) throw invalidParam(param, 'must be a non-negative decimal number such as "12.50"');
  const [integer, fraction = ''] = text.split('.');
  if (fraction.length > rules.maxDecimals)
    throw invalidParam(param, `must have at most ${rules.maxDecimals} decimal places`);
  if (integer.replace(/^0+(?=\d)/, '').length > rules.maxIntegerDigits) {
    throw invalidParam(param, `must be less than 10^${rules.maxIntegerDigits}`);
  }
  const value = new Dec(text);
  if (rules.positive && value.lte(0)) throw invalidParam(param, 'must be greater than 0');
  return value.toFixed();
}

export function requiredDecimal(body: Body, param: string, rules: DecimalRules): string {
  const raw = body[param];
  if (isAbsent(raw)) throw missingParam(param);
  return parseDecimal(raw, param, rules);
}

/** IANA time-zone name, answered in the spelling the runtime's time-zone database uses. */
export function requiredTimeZone(body: Body, param: string): string {
  // The pattern refuses bare offsets such as "+01:00", which PostgreSQL reads with the POSIX (inverted) sign.
  const name = requiredString(body, param, {
    max: 64,
    pattern: /^[A-Za-z][A-Za-z0-9_+\-/]*$/,
    patternMessage: 'must be an IANA time zone name such as Europe/Berlin',
  });
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw invalidParam(param, 'must be an IANA time zone name such as Europe/Berlin');
  }
}

export const EMAIL: StringRules = {
  max: 254,
  trim: true,
  pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  patternMessage: 'must be an e-mail address',
};

export const PROVIDER_ID: StringRules = {
  max: 255,
  pattern: /^[A-Za-z0-9_-]+$/,
  patternMessage: 'must be a payment provider id such as pm_card_visa',
};

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

/** A calendar month, 'YYYY-MM', from a body field or a query parameter. */
export function parsePeriod(raw: unknown, param: string): string {
  if (typeof raw !== 'string' || !PERIOD.test(raw)) throw invalidParam(param, 'must be a month as YYYY-MM');
  return raw;
}
