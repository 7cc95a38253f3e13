// Typed readers over a parsed form body. Each one answers a wrong type with Stripe's own error code
// and the offending parameter's name, which is what the real API does and what callers log.
import { type FormObject, type FormValue, isFormObject } from './form-body';
import { invalidParam } from './stripe-error';

function describe(value: FormValue): string {
  return typeof value === 'string' ? JSON.stringify(value) : 'a hash or list';
}

/** Stripe rejects unknown parameters rather than ignoring them; so does the fake, to catch typos. */
export function rejectUnknown(params: FormObject, allowed: ReadonlySet<string>): void {
  for (const name of Object.keys(params)) {
    if (!allowed.has(name)) {
      throw invalidParam(`Received unknown parameter: ${name}`, { code: 'parameter_unknown', param: name });
    }
  }
}

export function optionalString(params: FormObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw invalidParam(`Invalid string: ${describe(value)}`, {
      code: 'parameter_invalid_string',
      param: name,
    });
  }
  return value;
}

export function optionalInteger(params: FormObject, name: string): number | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  const parsed = typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed)) {
    throw invalidParam(`Invalid integer: ${describe(value)}`, {
      code: 'parameter_invalid_integer',
      param: name,
    });
  }
  return parsed;
}

export function optionalBoolean(params: FormObject, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidParam(`Invalid boolean: ${describe(value)}`, { param: name });
}

export function optionalEnum<T extends string>(
  params: FormObject,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = optionalString(params, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidParam(`Invalid ${name}: must be one of ${allowed.join(', ')}`, { param: name });
  }
  return value as T;
}

/** A list sent either as `name[]=a` or as `name[0]=a`, which is how the SDK encodes arrays. */
export function optionalStringList(params: FormObject, name: string): string[] | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  const items = Array.isArray(value) ? value : isFormObject(value) ? Object.values(value) : [value];
  if (!items.every((item): item is string => typeof item === 'string')) {
    throw invalidParam(`Invalid array of strings for ${name}`, { param: name });
  }
  return items;
}

// Stripe's published metadata limits.
const METADATA_MAX_KEYS = 50;
const METADATA_MAX_KEY_LENGTH = 40;
const METADATA_MAX_VALUE_LENGTH = 500;

/** Metadata as a plain object; an empty string means "no metadata", as Stripe allows for emptyable hashes. */
export function optionalMetadata(params: FormObject, name = 'metadata'): Record<string, string> | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value === '') return {};
  if (!isFormObject(value)) throw invalidParam(`Invalid hash for ${name}`, { param: name });
  const entries = Object.entries(value);
  if (entries.length > METADATA_MAX_KEYS) {
    throw invalidParam(`Metadata can have at most ${METADATA_MAX_KEYS} keys`, { param: name });
  }
  for (const [key, entry] of entries) {
    const param = `${name}[${key}]`;
    if (typeof entry !== 'string') throw invalidParam(`Invalid string for ${param}`, { param });
    if (key.length > METADATA_MAX_KEY_LENGTH) {
      throw invalidParam(`Metadata keys can be at most ${METADATA_MAX_KEY_LENGTH} characters`, { param });
    }
    if (entry.length > METADATA_MAX_VALUE_LENGTH) {
      throw invalidParam(`Metadata values can be at most ${METADATA_MAX_VALUE_LENGTH} characters`, { param });
    }
  }
  // Object.fromEntries defines own properties, so a `__proto__` key stays data on a plain object.
  return Object.fromEntries(entries as [string, string][]);
}

/** Checks a nested hash against its own allowed keys, naming the parameter Stripe-style (`a[b]`). */
export function optionalHash(
  params: FormObject,
  name: string,
  allowed: ReadonlySet<string>,
): FormObject | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (!isFormObject(value)) throw invalidParam(`Invalid hash for ${name}`, { param: name });
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      const param = `${name}[${key}]`;
      throw invalidParam(`Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });
    }
  }
  return value;
}

/** A required integer amount, in minor units. */
export function requiredAmount(params: FormObject, name = 'amount'): number {
  const amount = optionalInteger(params, name);
  if (amount === undefined) {
    throw invalidParam(`Missing required param: ${name}.`, { code: 'parameter_missing', param: name });
  }
  return amount;
}

/** A required three-letter currency code, as the caller spelled it. */
export function requiredCurrency(params: FormObject): string {
  const currency = optionalString(params, 'currency');
  if (currency === undefined) {
    throw invalidParam('Missing required param: currency.', { code: 'parameter_missing', param: 'currency' });
  }
  if (!/^[a-zA-Z]{3}$/.test(currency)) {
    throw invalidParam(`Invalid currency: ${currency.slice(0, 20)}.`, { param: 'currency' });
  }
  return currency;
}
