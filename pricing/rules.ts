import { isRecord, refuseUnknown, type InputProblem } from './input-checks';
import { Dec } from './money';
import { DAYS_OF_WEEK, DayOfWeek } from './model';

// Billing rules sit on top of a tariff. Conditions describe the session (who, where, when, on what);
// an action either changes prices (override: a multiplier or per-component prices, applied inside the
// rule's time window like a time-of-day tariff) or changes the amount after rating (surcharge, discount,
// fixed price). Rules run in priority order; the first match wins unless a matching rule is stackable.

const POWER_CLASSES = ['AC', 'DC', 'DC_FAST'] as const;
export type PowerClass = (typeof POWER_CLASSES)[number];

/** DC at 50 kW and above is what drivers and operators call fast charging. */
const DC_FAST_FROM_KW = 50;

export function powerClassOf(powerType: 'AC' | 'DC' | null, maxPowerKw: string | null): PowerClass | null {
  if (powerType === 'AC') return 'AC';
  if (powerType !== 'DC') return null;
  return maxPowerKw !== null && new Dec(maxPowerKw).gte(DC_FAST_FROM_KW) ? 'DC_FAST' : 'DC';
}

export interface TimeWindow {
  start_time: string;
  end_time: string;
}

/** Every present condition must hold; lists match when the session's value is one of them. */
export interface RuleConditions {
  user_type?: string[];
  time_window?: TimeWindow;
  day_of_week?: DayOfWeek[];
  site_id?: string[];
  charge_point_id?: string[];
  power_class?: PowerClass[];
  connector_type?: string[];
  promotional_code?: string[];
  membership?: boolean;
}

const OVERRIDE_COMPONENTS = ['flat_fee', 'per_kwh', 'per_minute', 'per_idle_minute'] as const;
export type OverrideComponent = (typeof OVERRIDE_COMPONENTS)[number];

export type RuleAction =
  | { type: 'override'; price_multiplier: string }
  | { type: 'override'; components: { type: OverrideComponent; price: string }[] }
  | { type: 'surcharge'; amount: string }
  | { type: 'discount'; amount: string }
  | { type: 'discount'; percent: string }
  | { type: 'fixed_price'; amount: string };

export interface BillingRuleInput {
  name: string;
  priority: number;
  stackable: boolean;
  conditions: RuleConditions;
  action: RuleAction;
  valid_from?: string;
  valid_until?: string;
}

export interface BillingRule extends BillingRuleInput {
  id: string;
  versionId: string;
  version: number;
}

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const DECIMAL = /^\d{1,12}(\.\d{1,6})?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function decimalField(value: unknown, param: string, problems: InputProblem[]): string | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL.test(text.trim())) {
    problems.push({ param, message: 'must be a non-negative decimal such as "0.35" (at most 6 decimals)' });
    return undefined;
  }
  return new Dec(text.trim()).toFixed();
}

function stringList(value: unknown, param: string, problems: InputProblem[], allowed?: readonly string[]) {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string' || v === '')) {
    problems.push({ param, message: 'must be a non-empty string or a non-empty array of strings' });
    return undefined;
  }
  const bad = allowed && list.find((v) => !allowed.includes(v as string));
  if (bad !== undefined && bad !== false) {
    problems.push({ param, message: `"${String(bad)}" is not one of ${allowed!.join(', ')}` });
    return undefined;
  }
  return [...new Set(list as string[])];
}

const CONDITION_KEYS = [
  'user_type',
  'time_window',
  'day_of_week',
  'site_id',
  'charge_point_id',
  'power_class',
  'connector_type',
  'promotional_code',
  'membership',
] as const;

function checkConditions(raw: unknown, problems: InputProblem[]): RuleConditions | undefined {
  if (raw === undefined) return {};
  if (!isRecord(raw)) {
    problems.push({ param: 'conditions', message: 'must be an object' });
    return undefined;
  }
  refuseUnknown(raw, CONDITION_KEYS, 'conditions', problems);
  const out: RuleConditions = {};
  const lists = [
    ['user_type', undefined],
    ['site_id', undefined],
    ['charge_point_id', undefined],
    ['connector_type', undefined],
    ['promotional_code', undefined],
    ['day_of_week', DAYS_OF_WEEK],
    ['power_class', POWER_CLASSES],
  ] as const;
  for (const [key, allowed] of lists) {
    if (raw[key] === undefined) continue;
    const list = stringList(raw[key], `conditions.${key}`, problems, allowed);
    if (list) (out as Record<string, unknown>)[key] = key === 'promotional_code' ? list.map(upper) : list;
  }
  if (raw.time_window !== undefined) {
    const w = raw.time_window;
    if (!isRecord(w) || typeof w.start_time !== 'string' || typeof w.end_time !== 'string') {
      problems.push({ param: 'conditions.time_window', message: 'must be {start_time, end_time} as HH:MM' });
    } else {
      refuseUnknown(w, ['start_time', 'end_time'], 'conditions.time_window', problems);
      for (const key of ['start_time', 'end_time'] as const) {
        if (!HHMM.test(w[key] as string)) {
          problems.push({ param: `conditions.time_window.${key}`, message: 'must be HH:MM in 24-hour time' });
        }
      }
      if (w.start_time === w.end_time) {
        problems.push({ param: 'conditions.time_window', message: 'start_time and end_time must differ' });
      }
      out.time_window = { start_time: w.start_time as string, end_time: w.end_time as string };
    }
  }
  if (raw.membership !== undefined) {
    if (typeof raw.membership !== 'boolean') {
      problems.push({ param: 'conditions.membership', message: 'must be true or false' });
    } else out.membership = raw.membership;
  }
  return out;
}

const upper = (s: string) => s.toUpperCase();

function checkAction(raw: unknown, problems: InputProblem[]): RuleAction | undefined {
  if (!isRecord(raw)) {
    problems.push({ param: 'action', message: 'must be an object with a type' });
    return undefined;
  }
  const before = problems.length;
  switch (raw.type) {
    case 'override': {
      if (raw.price_multiplier !== undefined && raw.components === undefined) {
        refuseUnknown(raw, ['type', 'price_multiplier'], 'action', problems);
        const m = decimalField(raw.price_multiplier, 'action.price_multiplier', problems);
        return problems.length === before && m !== undefined
          ? { type: 'override', price_multiplier: m }
          : undefined;
      }
      if (raw.components !== undefined && raw.price_multiplier === undefined) {
        refuseUnknown(raw, ['type', 'components'], 'action', problems);
        if (!Array.isArray(raw.components) || raw.components.length === 0) {
          problems.push({
            param: 'action.components',
            message: 'must be a non-empty array of {type, price}',
          });
          return undefined;
        }
        const seen = new Set<string>();
        const components = raw.components.map((c: unknown, i) => {
          const param = `action.components[${i}]`;
          if (!isRecord(c)) {
            problems.push({ param, message: 'must be an object {type, price}' });
            return undefined;
          }
          refuseUnknown(c, ['type', 'price'], param, problems);
          if (!(OVERRIDE_COMPONENTS as readonly unknown[]).includes(c.type)) {
            problems.push({
              param: `${param}.type`,
              message: `must be one of ${OVERRIDE_COMPONENTS.join(', ')}`,
            });
          } else if (seen.has(c.type as string)) {
            problems.push({ param: `${param}.type`, message: `${String(c.type)} appears more than once` });
          }
          seen.add(c.type as string);
          const price = decimalField(c.price, `${param}.price`, problems);
          return { type: c.type as OverrideComponent, price: price ?? '0' };
        });
        return problems.length === before
          ? { type: 'override', components: components as { type: OverrideComponent; price: string }[] }
          : undefined;
      }
      problems.push({
        param: 'action',
        message: 'an override needs exactly one of price_multiplier or components',
      });
      return undefined;
    }
    case 'surcharge':
    case 'fixed_price': {
      refuseUnknown(raw, ['type', 'amount'], 'action', problems);
      const amount = decimalField(raw.amount, 'action.amount', problems);
      return problems.length === before && amount !== undefined ? { type: raw.type, amount } : undefined;
    }
    case 'discount': {
      refuseUnknown(raw, ['type', 'amount', 'percent'], 'action', problems);
      if ((raw.amount === undefined) === (raw.percent === undefined)) {
        problems.push({ param: 'action', message: 'a discount needs exactly one of amount or percent' });
        return undefined;
      }
      if (raw.percent !== undefined) {
        const percent = decimalField(raw.percent, 'action.percent', problems);
        if (percent !== undefined && new Dec(percent).gt(100)) {
          problems.push({ param: 'action.percent', message: 'must be at most 100' });
        }
        return problems.length === before ? { type: 'discount', percent: percent! } : undefined;
      }
      const amount = decimalField(raw.amount, 'action.amount', problems);
      return problems.length === before ? { type: 'discount', amount: amount! } : undefined;
    }
    default:
      problems.push({
        param: 'action.type',
        message: 'must be one of override, surcharge, discount, fixed_price',
      });
      return undefined;
  }
}

/** Validates a rule as the API receives it; every problem names its field. */
export function checkBillingRuleInput(input: unknown): { rule?: BillingRuleInput; problems: InputProblem[] } {
  const problems: InputProblem[] = [];
  if (!isRecord(input)) return { problems: [{ param: 'body', message: 'must be a JSON object' }] };
  refuseUnknown(
    input,
    ['name', 'priority', 'stackable', 'conditions', 'action', 'valid_from', 'valid_until'],
    '',
    problems,
  );
  const { name, priority, stackable, valid_from, valid_until } = input;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    problems.push({ param: 'name', message: 'must be a non-empty string of at most 200 characters' });
  }
  if (priority !== undefined && (!Number.isInteger(priority) || (priority as number) < 0)) {
    problems.push({ param: 'priority', message: 'must be a non-negative integer (lower runs first)' });
  }
  if (stackable !== undefined && typeof stackable !== 'boolean') {
    problems.push({ param: 'stackable', message: 'must be true or false' });
  }
  for (const [key, value] of [
    ['valid_from', valid_from],
    ['valid_until', valid_until],
  ] as const) {
    if (
      value !== undefined &&
      (typeof value !== 'string' || !RFC3339.test(value) || isNaN(Date.parse(value)))
    ) {
      problems.push({ param: key, message: 'must be an RFC 3339 date-time with a time zone' });
    }
  }
  if (
    typeof valid_from === 'string' &&
    typeof valid_until === 'string' &&
    Date.parse(valid_from) >= Date.parse(valid_until)
  ) {
    problems.push({ param: 'valid_until', message: 'must be after valid_from' });
  }
  const conditions = checkConditions(input.conditions, problems);
  if (input.action === undefined) problems.push({ param: 'action', message: 'is required' });
  const action = input.action === undefined ? undefined : checkAction(input.action, problems);
  if (problems.length > 0 || !conditions || !action) return { problems };
  const rule: BillingRuleInput = {
    name: (name as string).trim(),
    priority: (priority as number | undefined) ?? 100,
    stackable: (stackable as boolean | undefined) ?? false,
    conditions,
    action,
  };
  if (valid_from !== undefined) rule.valid_from = new Date(valid_from as string).toISOString();
  if (valid_until !== undefined) rule.valid_until = new Date(valid_until as string).toISOString();
  return { rule, problems };
}
