import { Dec, formatMoney, roundToMinor } from './money';
import { ComponentType, TariffVersion } from './tariff';

/** What a session consumed, as measured by the charge point. Energy in Wh as a decimal string. */
export interface SessionUsage {
  energyWh: string;
  durationSeconds: number;
}

export interface PricedLine {
  component: ComponentType;
  description: string;
  quantity: string;
  unit: 'session' | 'kWh' | 'min';
  unitPrice: string;
  amount: string;
}

export interface PricedSession {
  currency: string;
  tariffVersionId: string;
  energyKwh: string;
  durationSeconds: number;
  lines: PricedLine[];
  total: string;
}

const DESCRIPTIONS: Record<ComponentType, string> = {
  flat_fee: 'Session fee',
  per_kwh: 'Energy',
  per_minute: 'Charging time',
};

/**
 * The one pricing function: the running cost, the receipt and later the invoice line and the CDR all
 * come from here. Each line's amount is the exact product rounded once to the currency's minor unit
 * (per-minute time is charged by the second, shown in minutes to 4 decimals); the total is the sum of
 * the rounded lines.
 */
export function priceSession(tariff: TariffVersion, usage: SessionUsage): PricedSession {
  const energyKwh = new Dec(usage.energyWh).div(1000);
  if (energyKwh.isNegative()) throw new RangeError('energy must not be negative');
  if (!Number.isInteger(usage.durationSeconds) || usage.durationSeconds < 0) {
    throw new RangeError('durationSeconds must be a non-negative integer');
  }
  const minutes = new Dec(usage.durationSeconds).div(60);
  const { currency } = tariff;

  const lines = tariff.components.map((component): PricedLine => {
    const unitPrice = new Dec(component.price);
    const base = {
      component: component.type,
      description: DESCRIPTIONS[component.type],
      unitPrice: unitPrice.toFixed(),
    };
    switch (component.type) {
      case 'flat_fee':
        return { ...base, quantity: '1', unit: 'session', amount: formatMoney(unitPrice, currency) };
      case 'per_kwh':
        return {
          ...base,
          quantity: energyKwh.toFixed(3),
          unit: 'kWh',
          amount: formatMoney(unitPrice.mul(energyKwh), currency),
        };
      case 'per_minute':
        return {
          ...base,
          quantity: minutes.toDecimalPlaces(4).toFixed(4),
          unit: 'min',
          amount: formatMoney(unitPrice.mul(minutes), currency),
        };
    }
  });

  const total = lines.reduce((sum, line) => sum.add(line.amount), new Dec(0));
  return {
    currency,
    tariffVersionId: tariff.versionId,
    energyKwh: energyKwh.toFixed(3),
    durationSeconds: usage.durationSeconds,
    lines,
    total: formatMoney(roundToMinor(total, currency), currency),
  };
}
