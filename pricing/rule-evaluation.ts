import { localParts } from './local-time';
import { Dec } from './money';
import type {
  DayOfWeek,
  PriceComponentDef,
  PriceDimension,
  RestrictionsDef,
  TariffDefinition,
  TariffElementDef,
} from './model';
import type { BillingRule, OverrideComponent, PowerClass, RuleAction, TimeWindow } from './rules';

/** What a session is, as far as billing rules can tell; snapshotted when the session starts. */
export interface PricingContext {
  userType: string | null;
  siteId: string | null;
  chargePointId: string;
  powerClass: PowerClass | null;
  connectorType: string | null;
  /** The promotional code applied to the session or the driver's account, upper case. */
  promotionalCode: string | null;
  member: boolean;
  /** The site's IANA time zone: tariff windows and rule windows are local time there. */
  timeZone: string;
}

export interface RuleRef {
  ruleId: string;
  versionId: string;
  version: number;
  name: string;
}

export interface AppliedRule extends RuleRef {
  action: RuleAction;
  /** An override's window and days: it prices what happens inside them. */
  window?: { time_window?: TimeWindow; day_of_week?: DayOfWeek[] };
  /** Why it applied, one phrase per condition, e.g. `user type is employee`. */
  reasons: string[];
}

const ruleRef = (rule: BillingRule): RuleRef => ({
  ruleId: rule.id,
  versionId: rule.versionId,
  version: rule.version,
  name: rule.name,
});

function minuteOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function inWindow(window: TimeWindow, minuteOfDay: number): boolean {
  const start = minuteOf(window.start_time);
  const end = minuteOf(window.end_time);
  return start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
}

/**
 * Price overrides with a time window or days of week price what happens inside the window (they become
 * restricted tariff elements); every other condition, and the windows of amount actions, are judged at the
 * session's start.
 */
function conditionReasons(
  rule: BillingRule,
  ctx: PricingContext,
  startedAtMs: number,
  windowsAtStart: boolean,
): string[] | null {
  const c = rule.conditions;
  const reasons: string[] = [];
  const oneOf = (list: readonly string[] | undefined, value: string | null, label: string) => {
    if (!list) return true;
    if (value === null || !list.includes(value)) return false;
    reasons.push(`${label} is ${value}`);
    return true;
  };
  if (!oneOf(c.user_type, ctx.userType, 'user type')) return null;
  if (!oneOf(c.site_id, ctx.siteId, 'site')) return null;
  if (!oneOf(c.charge_point_id, ctx.chargePointId, 'charge point')) return null;
  if (!oneOf(c.power_class, ctx.powerClass, 'power class')) return null;
  if (!oneOf(c.connector_type, ctx.connectorType, 'connector type')) return null;
  if (!oneOf(c.promotional_code, ctx.promotionalCode, 'promotional code')) return null;
  if (c.membership !== undefined) {
    if (c.membership !== ctx.member) return null;
    reasons.push(ctx.member ? 'driver is a member' : 'driver is not a member');
  }
  if (rule.valid_from !== undefined && startedAtMs < Date.parse(rule.valid_from)) return null;
  if (rule.valid_until !== undefined && startedAtMs >= Date.parse(rule.valid_until)) return null;
  if (windowsAtStart && (c.time_window || c.day_of_week)) {
    const local = localParts(ctx.timeZone, startedAtMs);
    if (c.day_of_week) {
      if (!c.day_of_week.includes(local.dayOfWeek)) return null;
      reasons.push(`session started on a ${local.dayOfWeek.toLowerCase()}`);
    }
    if (c.time_window) {
      if (!inWindow(c.time_window, local.minuteOfDay)) return null;
      reasons.push(`session started between ${c.time_window.start_time} and ${c.time_window.end_time}`);
    }
  } else {
    if (c.day_of_week) reasons.push(`priced on ${c.day_of_week.join(', ').toLowerCase()}`);
    if (c.time_window) {
      reasons.push(`priced between ${c.time_window.start_time} and ${c.time_window.end_time} local time`);
    }
  }
  if (reasons.length === 0) reasons.push('rule has no conditions');
  return reasons;
}

/** Rules in priority order; a matching rule applies, and ends the evaluation unless it is stackable. */
export function matchRules(rules: BillingRule[], ctx: PricingContext, startedAtMs: number): AppliedRule[] {
  const ordered = [...rules].sort(
    (a, b) => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const applied: AppliedRule[] = [];
  for (const rule of ordered) {
    const reasons = conditionReasons(rule, ctx, startedAtMs, rule.action.type !== 'override');
    if (!reasons) continue;
    const match: AppliedRule = { ...ruleRef(rule), action: rule.action, reasons };
    const { time_window, day_of_week } = rule.conditions;
    if (rule.action.type === 'override' && (time_window || day_of_week)) {
      match.window = { ...(time_window && { time_window }), ...(day_of_week && { day_of_week }) };
    }
    applied.push(match);
    if (!rule.stackable) break;
  }
  return applied;
}

/** Where a tariff element of the effective definition came from, so every line names its origin. */
export interface ElementSource {
  tariffElement: number;
  rules: RuleRef[];
}

const OVERRIDE_DIMENSION: Record<OverrideComponent, { dimension: PriceDimension; perHour: boolean }> = {
  flat_fee: { dimension: 'FLAT', perHour: false },
  per_kwh: { dimension: 'ENERGY', perHour: false },
  per_minute: { dimension: 'TIME', perHour: true },
  per_idle_minute: { dimension: 'PARKING_TIME', perHour: true },
};

function overridePrices(element: TariffElementDef, action: RuleAction): TariffElementDef {
  if (action.type !== 'override') return element;
  if ('price_multiplier' in action) {
    return {
      ...element,
      price_components: element.price_components.map((pc) => ({
        ...pc,
        price: new Dec(pc.price).mul(action.price_multiplier).toFixed(),
      })),
    };
  }
  const components: PriceComponentDef[] = element.price_components.map((pc) => ({ ...pc }));
  for (const o of action.components) {
    const { dimension, perHour } = OVERRIDE_DIMENSION[o.type];
    const price = perHour ? new Dec(o.price).mul(60).toFixed() : o.price;
    const existing = components.find((pc) => pc.type === dimension);
    if (existing) existing.price = price;
    else components.push({ type: dimension, price, vat: components[0]?.vat ?? null, step_size: 1 });
  }
  return { ...element, price_components: components };
}

type Range = [number, number];

function windowRanges(w: TimeWindow): Range[] {
  const s = minuteOf(w.start_time);
  const e = minuteOf(w.end_time);
  return s < e ? [[s, e]] : [[s, 1440], ...(e > 0 ? ([[0, e]] as Range[]) : [])];
}

function intersectRanges(a: Range[], b: Range[]): Range[] {
  const out: Range[] = [];
  for (const [s1, e1] of a) {
    for (const [s2, e2] of b) {
      const s = Math.max(s1, s2);
      const e = Math.min(e1, e2);
      if (s < e) out.push([s, e]);
    }
  }
  return out;
}

const hhmm = (m: number) =>
  m === 1440 ? '00:00' : `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** The element's restrictions narrowed to the rule's window and days; empty when they cannot overlap. */
function narrow(restrictions: RestrictionsDef | undefined, window?: TimeWindow, days?: DayOfWeek[]) {
  const base = restrictions ?? {};
  let dayList = base.day_of_week;
  if (days) {
    dayList = dayList ? dayList.filter((d) => days.includes(d)) : days;
    if (dayList!.length === 0) return [];
  }
  const own: Range[] =
    base.start_time !== undefined || base.end_time !== undefined
      ? windowRanges({ start_time: base.start_time ?? '00:00', end_time: base.end_time ?? '00:00' })
      : [[0, 1440]];
  const ranges = window ? intersectRanges(own, windowRanges(window)) : own;
  return ranges.map(([s, e]): RestrictionsDef => {
    const r: RestrictionsDef = { ...base };
    if (dayList) r.day_of_week = dayList;
    if (s === 0 && e === 1440) {
      delete r.start_time;
      delete r.end_time;
    } else {
      r.start_time = hhmm(s);
      r.end_time = hhmm(e);
    }
    return r;
  });
}

/**
 * The definition a session is rated with: the tariff's elements with every applied override folded in.
 * An override without window rewrites the prices of every element; one with a window or days adds, in front
 * of each element, a copy restricted to the window with the new prices, so OCPI's first-matching-element
 * rule prices the inside of the window with the rule and the rest with the tariff.
 */
export function applyPriceRules(definition: TariffDefinition, applied: AppliedRule[]): RatedDefinition {
  const overrides = applied.filter((rule) => rule.action.type === 'override');
  // The same definition object for the same tariff and overrides, so the rating engine's compiled form
  // (cached per definition object) is reused by every running-cost update and every session alike.
  const key = JSON.stringify(overrides.map(({ reasons: _reasons, ...rule }) => rule));
  let byOverrides = foldedCache.get(definition);
  if (!byOverrides) foldedCache.set(definition, (byOverrides = new Map()));
  let folded = byOverrides.get(key);
  if (!folded) {
    folded = overrides.length === 0 ? withoutRules(definition) : foldOverrides(definition, overrides);
    if (byOverrides.size >= MAX_FOLDED_PER_DEFINITION) byOverrides.clear();
    byOverrides.set(key, folded);
  }
  return folded;
}

export interface RatedDefinition {
  definition: TariffDefinition;
  sources: ElementSource[];
}

const MAX_FOLDED_PER_DEFINITION = 64;
const foldedCache = new WeakMap<TariffDefinition, Map<string, RatedDefinition>>();

const withoutRules = (definition: TariffDefinition): RatedDefinition => ({
  definition,
  sources: definition.elements.map((_, i) => ({ tariffElement: i, rules: [] })),
});

function foldOverrides(definition: TariffDefinition, applied: AppliedRule[]): RatedDefinition {
  let elements = definition.elements;
  let sources: ElementSource[] = elements.map((_, i) => ({ tariffElement: i, rules: [] }));
  for (const rule of applied) {
    const ref: RuleRef = {
      ruleId: rule.ruleId,
      versionId: rule.versionId,
      version: rule.version,
      name: rule.name,
    };
    const window = rule.window ?? {};
    const nextElements: TariffElementDef[] = [];
    const nextSources: ElementSource[] = [];
    elements.forEach((element, i) => {
      const source = sources[i];
      const overridden = overridePrices(element, rule.action);
      if (!window.time_window && !window.day_of_week) {
        nextElements.push(overridden);
        nextSources.push({ tariffElement: source.tariffElement, rules: [...source.rules, ref] });
        return;
      }
      for (const restrictions of narrow(element.restrictions, window.time_window, window.day_of_week)) {
        nextElements.push({ ...overridden, restrictions });
        nextSources.push({ tariffElement: source.tariffElement, rules: [...source.rules, ref] });
      }
      nextElements.push(element);
      nextSources.push(source);
    });
    elements = nextElements;
    sources = nextSources;
  }
  return { definition: { ...definition, elements }, sources };
}
