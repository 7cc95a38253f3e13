// Stripe's v1 API takes application/x-www-form-urlencoded bodies with bracket nesting
// (`metadata[order]=7`, `expand[0]=latest_charge`, `expand[]=latest_charge`). This parser refuses anything
// ambiguous instead of guessing, so malformed input becomes a 400 and never reaches the handlers half-parsed.

export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

export class FormParseError extends Error {
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

// Stripe nests at most a few levels; the limits keep a hostile body from costing real work.
const MAX_DEPTH = 5;
const MAX_PAIRS = 1000;
const KEY_PATTERN = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;

/** Null-prototype objects, so keys like `__proto__` or `constructor` are plain data. */
export function emptyFormObject(): FormObject {
  return Object.create(null) as FormObject;
}

export function isFormObject(value: FormValue | undefined): value is FormObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decode(component: string, what: string): string {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    throw new FormParseError(`Invalid URL encoding in request ${what}: ${JSON.stringify(component)}`);
  }
}

function splitKey(key: string): { root: string; path: string[] } {
  const match = KEY_PATTERN.exec(key);
  if (!match) throw new FormParseError(`Invalid parameter name: ${JSON.stringify(key)}`, key);
  const path = match[2] ? match[2].slice(1, -1).split('][') : [];
  if (path.length > MAX_DEPTH) throw new FormParseError(`Parameter nested too deeply: ${key}`, key);
  return { root: match[1], path };
}

function conflict(key: string): FormParseError {
  return new FormParseError(
    `Invalid parameter ${key}: it is given both as a value and as a hash or list`,
    key,
  );
}

function assign(
  target: FormObject | FormValue[],
  segment: string,
  rest: string[],
  value: string,
  key: string,
) {
  if (Array.isArray(target)) {
    // Only `name[]` appends to a list; an index into something already a list is ambiguous.
    if (segment !== '') throw conflict(key);
    if (rest.length === 0) {
      target.push(value);
      return;
    }
    const child: FormObject | FormValue[] = rest[0] === '' ? [] : emptyFormObject();
    target.push(child);
    assign(child, rest[0], rest.slice(1), value, key);
    return;
  }
  if (segment === '') throw conflict(key);
  const existing = target[segment];
  if (rest.length === 0) {
    if (existing !== undefined) throw new FormParseError(`Received duplicate parameter: ${key}`, key);
    target[segment] = value;
    return;
  }
  const wantsList = rest[0] === '';
  let child = existing;
  if (child === undefined) {
    child = wantsList ? [] : emptyFormObject();
    target[segment] = child;
  }
  if (typeof child === 'string' || Array.isArray(child) !== wantsList) throw conflict(key);
  assign(child, rest[0], rest.slice(1), value, key);
}

/** Parses a form-encoded body or query string into nested values. Throws FormParseError on bad input. */
export function parseForm(raw: string): FormObject {
  const result = emptyFormObject();
  if (raw === '') return result;
  const pairs = raw.split('&').filter((p) => p !== '');
  if (pairs.length > MAX_PAIRS) throw new FormParseError(`Too many parameters (more than ${MAX_PAIRS})`);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq), 'parameter name');
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1), 'value');
    const { root, path } = splitKey(key);
    assign(result, root, path, value, key);
  }
  return result;
}

/** Key-sorted JSON, so two bodies that differ only in parameter order compare equal. */
export function canonicalJson(value: FormValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
}
