import { checkCurrency, isRecord, type InputProblem } from '../input-checks';
import type { OcpiTariffMeta, PriceDef, RestrictionsDef, TariffDefinition } from '../model';
import {
  checkElements,
  checkLimits,
  checkOcpiMeta,
  parseOcpiDateTime,
  type DefinitionCheck,
} from '../tariff-definition';

// OCPI 2.2.1 Tariff <-> TariffDefinition. The definition holds the OCPI tariff one to one (prices as the
// decimal strings the JSON numbers were written as), so OCPI -> ours -> OCPI gives back the same object.

const OCPI_TARIFF_TYPES = [
  'AD_HOC_PAYMENT',
  'PROFILE_CHEAP',
  'PROFILE_FAST',
  'PROFILE_GREEN',
  'REGULAR',
] as const;

const TARIFF_FIELDS = [
  'country_code',
  'party_id',
  'id',
  'currency',
  'type',
  'tariff_alt_text',
  'tariff_alt_url',
  'min_price',
  'max_price',
  'elements',
  'start_date_time',
  'end_date_time',
  'energy_mix',
  'last_updated',
] as const;

const OCPI = { ocpi: true };

/**
 * Validates an OCPI 2.2.1 Tariff object and returns the definition the engine rates with. Required OCPI
 * fields (country_code, party_id, id, currency, elements, last_updated) must be there; prices, VAT and limits
 * must be JSON numbers and are kept as the decimal text they were written as (String(n)); unknown fields are
 * refused rather than dropped, because a field we do not know could change the price.
 */
export function tariffFromOcpi(json: unknown): DefinitionCheck {
  const problems: InputProblem[] = [];
  if (!isRecord(json)) return { problems: [{ param: '', message: 'must be an OCPI Tariff object' }] };
  for (const key of Object.keys(json)) {
    if (!(TARIFF_FIELDS as readonly string[]).includes(key)) {
      problems.push({ param: key, message: 'is not a field of an OCPI 2.2.1 Tariff' });
    }
  }
  const lengths: [keyof OcpiTariffMeta, number][] = [
    ['country_code', 2],
    ['party_id', 3],
    ['id', 36],
  ];
  for (const [key, max] of lengths) {
    const v = json[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > max) {
      problems.push({ param: key, message: `is required: a string of at most ${max} characters` });
    }
  }
  const currency = json.currency;
  checkCurrency(currency, problems);
  if (json.type !== undefined && !(OCPI_TARIFF_TYPES as readonly unknown[]).includes(json.type)) {
    problems.push({ param: 'type', message: `must be one of ${OCPI_TARIFF_TYPES.join(', ')}` });
  }
  if (typeof json.last_updated !== 'string' || parseOcpiDateTime(json.last_updated) === undefined) {
    problems.push({ param: 'last_updated', message: 'is required: an RFC 3339 date-time' });
  }
  if (json.tariff_alt_text !== undefined) {
    const texts = json.tariff_alt_text;
    if (Array.isArray(texts)) {
      texts.forEach((t: unknown, i) => {
        if (isRecord(t) && typeof t.language === 'string' && t.language.length !== 2) {
          problems.push({ param: `tariff_alt_text[${i}].language`, message: 'must be an ISO 639-1 code' });
        }
      });
    }
  }
  const metaInput: Record<string, unknown> = {};
  for (const key of [
    'country_code',
    'party_id',
    'id',
    'type',
    'tariff_alt_text',
    'tariff_alt_url',
    'energy_mix',
  ]) {
    if (json[key] !== undefined) metaInput[key] = json[key];
  }
  if (typeof json.last_updated === 'string') metaInput.last_updated = json.last_updated;
  const meta = checkOcpiMeta(metaInput, '', problems);
  const elements = checkElements(json.elements, 'elements', problems, OCPI);
  const limits = checkLimits(json, problems, OCPI);
  if (problems.length > 0 || !elements || !meta) return { problems };
  return { definition: { currency: currency as string, elements, ...limits, ocpi: meta }, problems };
}

const num = (decimal: string) => Number(decimal);

function priceToOcpi(p: PriceDef): Record<string, number> {
  return p.incl_vat === undefined
    ? { excl_vat: num(p.excl_vat) }
    : { excl_vat: num(p.excl_vat), incl_vat: num(p.incl_vat) };
}

export interface TariffToOcpiOptions {
  /**
   * OCPI has no field for the idle extension (grace period, parking cost cap), so by default a definition
   * that uses it gets one more English tariff_alt_text entry describing it: the spec keeps alt text for
   * "additional tariff information ... not the price information that is also available via elements",
   * which is exactly what this is. Set false to export only what OCPI can carry.
   */
  describeIdleExtension?: boolean;
}

/** A human sentence for the idle extension, shown to eMSPs that only see the OCPI tariff. */
export function idleExtensionText(def: TariffDefinition): string | undefined {
  const idle = def.idle;
  if (!idle) return undefined;
  const parts: string[] = [];
  if (idle.grace_period_seconds > 0) {
    const minutes = idle.grace_period_seconds / 60;
    const span = Number.isInteger(minutes) ? `${minutes} minutes` : `${idle.grace_period_seconds} seconds`;
    parts.push(`The first ${span} of parking (not charging) are not billed.`);
  }
  if (idle.max_cost !== undefined) {
    parts.push(`Parking costs at most ${idle.max_cost} ${def.currency} (excl. VAT) per session.`);
  }
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/**
 * The OCPI 2.2.1 Tariff of a definition, fields in the order the spec lists them. Prices become JSON
 * numbers (Number of the decimal text). country_code, party_id, id and last_updated come from `def.ocpi`;
 * a definition without them yields an object the caller must complete before sending it.
 */
export function tariffToOcpi(
  def: TariffDefinition,
  options: TariffToOcpiOptions = {},
): Record<string, unknown> {
  const meta = def.ocpi ?? {};
  const out: Record<string, unknown> = {};
  if (meta.country_code !== undefined) out.country_code = meta.country_code;
  if (meta.party_id !== undefined) out.party_id = meta.party_id;
  if (meta.id !== undefined) out.id = meta.id;
  out.currency = def.currency;
  if (meta.type !== undefined) out.type = meta.type;
  const altText = meta.tariff_alt_text ? meta.tariff_alt_text.map((t) => ({ ...t })) : undefined;
  const idleText = options.describeIdleExtension === false ? undefined : idleExtensionText(def);
  if (idleText !== undefined && !altText?.some((t) => t.text === idleText)) {
    out.tariff_alt_text = [...(altText ?? []), { language: 'en', text: idleText }];
  } else if (altText !== undefined) {
    out.tariff_alt_text = altText;
  }
  if (meta.tariff_alt_url !== undefined) out.tariff_alt_url = meta.tariff_alt_url;
  if (def.min_price) out.min_price = priceToOcpi(def.min_price);
  if (def.max_price) out.max_price = priceToOcpi(def.max_price);
  out.elements = def.elements.map((element) => {
    const e: Record<string, unknown> = {
      price_components: element.price_components.map((pc) => {
        const c: Record<string, unknown> = { type: pc.type, price: num(pc.price) };
        if (pc.vat !== null) c.vat = num(pc.vat);
        c.step_size = pc.step_size;
        return c;
      }),
    };
    if (element.restrictions) e.restrictions = restrictionsToOcpi(element.restrictions);
    return e;
  });
  if (def.start_date_time !== undefined) out.start_date_time = def.start_date_time;
  if (def.end_date_time !== undefined) out.end_date_time = def.end_date_time;
  if (meta.energy_mix !== undefined) out.energy_mix = meta.energy_mix;
  if (meta.last_updated !== undefined) out.last_updated = meta.last_updated;
  return out;
}

function restrictionsToOcpi(r: RestrictionsDef): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(r)) {
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? [...value] : value;
  }
  return out;
}
