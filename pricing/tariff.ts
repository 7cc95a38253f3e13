import { checkCurrency, type InputProblem } from './input-checks';
import { Dec } from './money';
import type { TariffDefinition } from './model';
import { MAX_PRICE_DECIMALS } from './tariff-definition';

const COMPONENT_TYPES = ['flat_fee', 'per_kwh', 'per_minute'] as const;
export type ComponentType = (typeof COMPONENT_TYPES)[number];

/** One price component of a tariff version; price is a decimal string in the tariff's currency. */
export interface TariffComponent {
  type: ComponentType;
  price: string;
}

/**
 * An immutable tariff version, the snapshot a session is priced with. `definition` is what pricing reads;
 * `components` is the simple form a version may have been entered in (and the only field of versions
 * snapshotted by sessions that started before definitions existed, which pricing converts).
 */
export interface TariffVersion {
  tariffId: string;
  versionId: string;
  version: number;
  currency: string;
  components?: TariffComponent[];
  definition?: TariffDefinition;
}

/** Validates raw tariff input; returns every problem so the API can name the field. */
export function checkTariffInput(currency: unknown, components: unknown): InputProblem[] {
  const problems: InputProblem[] = [];
  checkCurrency(currency, problems);
  if (!Array.isArray(components) || components.length === 0) {
    problems.push({ param: 'components', message: 'must be a non-empty array of price components' });
    return problems;
  }
  const seen = new Set<string>();
  components.forEach((c: unknown, i) => {
    const param = `components[${i}]`;
    if (typeof c !== 'object' || c === null) {
      problems.push({ param, message: 'must be an object with type and price' });
      return;
    }
    const { type, price } = c as Record<string, unknown>;
    if (typeof type !== 'string' || !(COMPONENT_TYPES as readonly string[]).includes(type)) {
      problems.push({ param: `${param}.type`, message: `must be one of ${COMPONENT_TYPES.join(', ')}` });
    } else if (seen.has(type)) {
      problems.push({ param: `${param}.type`, message: `component ${type} appears more than once` });
    } else {
      seen.add(type);
    }
    const priceProblem = checkPrice(price);
    if (priceProblem) problems.push({ param: `${param}.price`, message: priceProblem });
  });
  return problems;
}

function checkPrice(price: unknown): string | undefined {
  if (typeof price !== 'string' && typeof price !== 'number')
    return 'must be a decimal string such as "0.35"';
  const text = String(price).trim();
  if (!/^\d+(\.\d+)?$/.test(text)) return 'must be a non-negative decimal number such as "0.35"';
  if ((text.split('.')[1] ?? '').length > MAX_PRICE_DECIMALS) {
    return `must have at most ${MAX_PRICE_DECIMALS} decimal places`;
  }
  return undefined;
}

/** Canonical decimal-string form of a validated price, e.g. 1.5 -> "1.5". */
export function normalizePrice(price: string | number): string {
  return new Dec(String(price).trim()).toFixed();
}
