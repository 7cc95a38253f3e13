import { isCurrency } from './currency';

// Shared by the validators of tariffs, tariff definitions, OCPI objects and billing rules, so every API
// input reports its problems the same way.

/** One thing wrong with an input; `param` names the field, e.g. `elements[0].price_components[1].price`. */
export interface InputProblem {
  param: string;
  message: string;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `key` under `path`; the empty path is the top level. */
export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Unknown fields are refused, not dropped: a misspelt field would otherwise be silently ignored. */
export function refuseUnknown(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  problems: InputProblem[],
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) problems.push({ param: join(path, key), message: 'is not a known field' });
  }
}

export function checkCurrency(currency: unknown, problems: InputProblem[]): void {
  if (typeof currency !== 'string' || !isCurrency(currency)) {
    problems.push({ param: 'currency', message: 'must be an upper-case ISO 4217 currency code, e.g. EUR' });
  }
}
