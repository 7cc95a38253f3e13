import { Adjustment, amountOff, amountOn, netTotal, percentOff } from './adjustments';
import { buildTimeline, RawSample, RejectedReading, StatusChange } from './meter-timeline';
import { minorUnitDigits } from './currency';
import { Dec, formatMinor, parseMinor } from './money';
import type { PriceDimension, RatedLine, RatedSession, TariffDefinition } from './model';
import { ratePeriods } from './rate-periods';
import { durationThresholdsMs, energyThresholdsMWh, restrictionCuts } from './restrictions';
import {
  AppliedRule,
  applyPriceRules,
  ElementSource,
  matchRules,
  PricingContext,
  RuleRef,
} from './rule-evaluation';
import type { BillingRule } from './rules';
import type { TariffVersion } from './tariff';
import { definitionFromSimpleComponents } from './tariff-definition';

// THE pricing function of the platform: the running cost, the receipt, the quote, the invoice line and the
// OCPI CDR all come from here, so they cannot disagree. It is pure: the caller supplies the tariff version
// in force at the session's start, the rules and the promotion snapshotted then, and the energy a monthly
// allowance granted.

export interface SessionUsageInput {
  startedAt: string;
  stoppedAt: string;
  meterStartWh: string;
  meterStopWh: string;
  samples: RawSample[];
  statuses: StatusChange[];
}

export interface AppliedPromotion {
  promotionalCodeId: string;
  code: string;
  discountType: 'percent' | 'amount' | 'free_sessions';
  /** Percent (0-100], an amount in `currency`, or the number of free sessions (not used in pricing). */
  discountValue: string;
  currency: string | null;
}

export interface SessionPricingInput {
  tariff: TariffVersion;
  rules: BillingRule[];
  context: PricingContext;
  usage: SessionUsageInput;
  promotion?: AppliedPromotion | null;
  /** kWh a monthly allowance covers in this session, granted atomically before the final price. */
  allowanceKwh?: string;
}

export type LineSource =
  | {
      type: 'tariff';
      tariffVersionId: string;
      tariffVersion: number;
      element: number | null;
      rules: RuleRef[];
    }
  | ({ type: 'billing_rule' } & RuleRef)
  | { type: 'promotion'; promotionalCodeId: string; code: string };

export type LineComponent =
  | 'flat_fee'
  | 'energy'
  | 'charging_time'
  | 'idle_time'
  | 'minimum_price'
  | 'maximum_price'
  | 'surcharge'
  | 'discount'
  | 'fixed_price'
  | 'promotion';

export interface PricedLine {
  component: LineComponent;
  kind: RatedLine['kind'] | 'rule' | 'promotion';
  description: string;
  quantity: string;
  unit: 'session' | 'kWh' | 'min';
  unitPrice: string;
  vatRate: string | null;
  /** Excluding VAT, rounded once to the currency's minor unit. */
  amount: string;
  vatAmount: string;
  amountInclVat: string;
  source: LineSource;
}

export interface PricedSession {
  currency: string;
  tariffVersionId: string;
  energyKwh: string;
  durationSeconds: number;
  chargingSeconds: number;
  idleSeconds: number;
  lines: PricedLine[];
  totalExclVat: string;
  totalVat: string;
  /** What the driver pays: the sum of the lines including VAT. */
  total: string;
  appliedRules: AppliedRule[];
  promotion: { promotionalCodeId: string; code: string; applied: boolean; reason: string } | null;
  rejectedReadings: RejectedReading[];
  /** The OCPI CDR cost fields of the tariff rating, before rule amounts and promotions. */
  ocpi: Omit<RatedSession, 'lines' | 'currency'>;
}

const COMPONENT: Record<PriceDimension, LineComponent> = {
  FLAT: 'flat_fee',
  ENERGY: 'energy',
  TIME: 'charging_time',
  PARKING_TIME: 'idle_time',
};

const DESCRIPTION: Record<RatedLine['kind'], (d: PriceDimension) => string> = {
  usage: (d) =>
    ({ FLAT: 'Session fee', ENERGY: 'Energy', TIME: 'Charging time', PARKING_TIME: 'Idle fee' })[d],
  step: (d) => (d === 'ENERGY' ? 'Energy billed in steps' : 'Time billed in steps'),
  allowance: () => 'Energy covered by the monthly allowance',
  idle_grace: () => 'Idle time within the grace period',
  idle_cap: () => 'Idle fee cap',
  min_price: () => 'Minimum session price',
  max_price: () => 'Maximum session price',
};

const simpleDefinitions = new WeakMap<TariffVersion, TariffDefinition>();

/** A version's definition; one object per version object, so the caches keyed by definition hit. */
function definitionOf(tariff: TariffVersion): TariffDefinition {
  if (tariff.definition) return tariff.definition;
  let definition = simpleDefinitions.get(tariff);
  if (!definition) {
    definition = definitionFromSimpleComponents(tariff.currency, tariff.components ?? []);
    simpleDefinitions.set(tariff, definition);
  }
  return definition;
}

function ratedToLine(line: RatedLine, tariff: TariffVersion, sources: ElementSource[]): PricedLine {
  const source = line.elementIndex === null ? null : sources[line.elementIndex];
  const inMinutes = line.unit === 'h';
  const kind = line.kind;
  return {
    component:
      kind === 'min_price'
        ? 'minimum_price'
        : kind === 'max_price'
          ? 'maximum_price'
          : COMPONENT[line.dimension],
    kind,
    description: DESCRIPTION[kind](line.dimension),
    quantity: inMinutes ? new Dec(line.quantity).mul(60).toDecimalPlaces(4).toFixed() : line.quantity,
    unit: line.unit === 'h' ? 'min' : line.unit,
    unitPrice: inMinutes ? new Dec(line.unitPrice).div(60).toDecimalPlaces(6).toFixed() : line.unitPrice,
    vatRate: line.vatRate,
    amount: line.amountExclVat,
    vatAmount: line.vatAmount,
    amountInclVat: line.amountInclVat,
    source: {
      type: 'tariff',
      tariffVersionId: tariff.versionId,
      tariffVersion: tariff.version,
      element: source ? source.tariffElement : null,
      rules: source ? source.rules : [],
    },
  };
}

function adjustmentLines(
  adjustments: Adjustment[],
  base: Omit<PricedLine, 'vatRate' | 'amount' | 'vatAmount' | 'amountInclVat' | 'unitPrice'>,
): PricedLine[] {
  return adjustments.map((a) => ({ ...base, unitPrice: a.amount, ...a }));
}

function ruleAmountLines(rule: AppliedRule, lines: PricedLine[], currency: string): PricedLine[] {
  const { action } = rule;
  const source: LineSource = {
    type: 'billing_rule',
    ruleId: rule.ruleId,
    versionId: rule.versionId,
    version: rule.version,
    name: rule.name,
  };
  const base = { kind: 'rule' as const, quantity: '1', unit: 'session' as const, source };
  switch (action.type) {
    case 'surcharge':
      return adjustmentLines([amountOn(lines, action.amount, currency)], {
        ...base,
        component: 'surcharge',
        description: `Surcharge: ${rule.name}`,
      });
    case 'discount':
      return adjustmentLines(
        'percent' in action
          ? percentOff(lines, action.percent, currency)
          : amountOff(lines, action.amount, currency),
        { ...base, component: 'discount', description: `Discount: ${rule.name}` },
      );
    case 'fixed_price': {
      const difference = new Dec(action.amount).sub(netTotal(lines));
      const adjustments = difference.gte(0)
        ? [amountOn(lines, difference.toFixed(), currency)]
        : amountOff(lines, difference.neg().toFixed(), currency);
      return adjustmentLines(
        adjustments.filter((a) => !new Dec(a.amount).isZero()),
        { ...base, component: 'fixed_price', description: `Fixed price: ${rule.name}` },
      );
    }
    default:
      return [];
  }
}

function promotionLines(promotion: AppliedPromotion, lines: PricedLine[], currency: string) {
  const source: LineSource = {
    type: 'promotion',
    promotionalCodeId: promotion.promotionalCodeId,
    code: promotion.code,
  };
  const base = {
    component: 'promotion' as const,
    kind: 'promotion' as const,
    description: `Promotional code ${promotion.code}`,
    quantity: '1',
    unit: 'session' as const,
    source,
  };
  switch (promotion.discountType) {
    case 'percent':
      return {
        lines: adjustmentLines(percentOff(lines, promotion.discountValue, currency), base),
        reason: '',
      };
    case 'free_sessions':
      return { lines: adjustmentLines(percentOff(lines, '100', currency), base), reason: '' };
    case 'amount':
      if (promotion.currency !== currency) {
        return {
          lines: [],
          reason: `the code's amount is in ${promotion.currency}, the session in ${currency}`,
        };
      }
      return {
        lines: adjustmentLines(amountOff(lines, promotion.discountValue, currency), base),
        reason: '',
      };
  }
}

const sum = (lines: PricedLine[], field: 'amount' | 'vatAmount' | 'amountInclVat', digits: number) =>
  formatMinor(
    lines.reduce((total, l) => total + parseMinor(l[field], digits), 0),
    digits,
  );

/** Integer mWh as kWh with 3 decimals, rounded half up (what Decimal's toFixed(3) gives, without one). */
function kwh3(mWh: number): string {
  const wh = Math.floor((mWh + 500) / 1000);
  return formatMinor(wh, 3);
}

export function priceChargingSession(input: SessionPricingInput): PricedSession {
  const { tariff, context, usage } = input;
  const startMs = Date.parse(usage.startedAt);
  const endMs = Math.max(Date.parse(usage.stoppedAt), startMs);
  const applied = matchRules(input.rules, context, startMs);
  const { definition, sources } = applyPriceRules(definitionOf(tariff), applied);
  const currency = definition.currency;
  const digits = minorUnitDigits(currency);

  const timeline = buildTimeline({
    ...usage,
    cuts: {
      instantsMs: restrictionCuts(definition, context.timeZone, startMs, endMs),
      energyThresholdsMWh: energyThresholdsMWh(definition),
      durationThresholdsMs: durationThresholdsMs(definition),
    },
  });
  const allowanceMWh = input.allowanceKwh ? new Dec(input.allowanceKwh).mul(1e6).floor().toNumber() : 0;
  const rated = ratePeriods(definition, {
    sessionStartMs: timeline.sessionStartMs,
    sessionEndMs: timeline.sessionEndMs,
    timeZone: context.timeZone,
    periods: timeline.periods,
    allowanceMWh,
  });

  const lines = rated.lines.map((l) => ratedToLine(l, tariff, sources));
  for (const rule of applied) lines.push(...ruleAmountLines(rule, lines, currency));

  let promotion: PricedSession['promotion'] = null;
  if (input.promotion) {
    const result = promotionLines(input.promotion, lines, currency);
    const applies = result.lines.length > 0;
    lines.push(...result.lines);
    promotion = {
      promotionalCodeId: input.promotion.promotionalCodeId,
      code: input.promotion.code,
      applied: applies,
      reason: applies ? 'discount applied' : result.reason || 'nothing left to discount',
    };
  }

  const { lines: _rated, currency: _currency, ...ocpi } = rated;
  const chargingMs = timeline.periods.reduce((s, p) => s + p.timeMs, 0);
  const idleMs = timeline.periods.reduce((s, p) => s + p.parkingMs, 0);
  return {
    currency,
    tariffVersionId: tariff.versionId,
    energyKwh: kwh3(timeline.energyMWh),
    durationSeconds: Math.floor((timeline.sessionEndMs - timeline.sessionStartMs) / 1000),
    chargingSeconds: Math.floor(chargingMs / 1000),
    idleSeconds: Math.floor(idleMs / 1000),
    lines,
    totalExclVat: sum(lines, 'amount', digits),
    totalVat: sum(lines, 'vatAmount', digits),
    total: sum(lines, 'amountInclVat', digits),
    appliedRules: applied,
    promotion,
    rejectedReadings: timeline.rejected,
    ocpi,
  };
}
