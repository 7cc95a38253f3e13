import { readFileSync } from 'node:fs';
import { isValidTimeZone } from '../pricing/local-time';
import type { CostPair, RatedSession, TariffDefinition } from '../pricing/model';
import { rateCdr, verifyCdr, type CdrOptions } from '../pricing/ocpi/cdr';
import { tariffFromOcpi } from '../pricing/ocpi/tariff';
import {
  checkTariffDefinition,
  parseOcpiDateTime,
  type DefinitionProblem,
} from '../pricing/tariff-definition';

// Rates OCPI 2.2.1 CDRs with the platform's engine, or checks a CPO's CDR against a tariff.
//   node dist/bin/ocpi.js price  <tariff.json> <cdr-or-periods.json> [--tz ZONE] [--end DATETIME]
//   node dist/bin/ocpi.js verify <tariff.json> <cdr.json> [--tz ZONE]
// Exit codes: 0 done (verify: the CDR agrees), 1 verify found differences, 2 bad input.

const USAGE = `usage:
  ocpi price  <tariff.json> <cdr-or-periods.json> [--tz ZONE] [--end DATETIME]
  ocpi verify <tariff.json> <cdr.json> [--tz ZONE]

  tariff.json   an OCPI 2.2.1 Tariff, or a tariff definition in the platform's own JSON
  --tz ZONE     IANA time zone of the tariff's local times (the Location's time_zone); default UTC
  --end TIME    session end for a bare array of ChargingPeriods (default: the last period's start plus
                its TIME and PARKING_TIME volumes)`;

class InputError extends Error {}

/** A JSON number written from an exact decimal string, never through a float. */
class ExactNumber {
  constructor(readonly text: string) {}
}

function toJson(value: unknown, indent = ''): string {
  if (value instanceof ExactNumber) return value.text;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + toJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${toJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`${what} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${what} ${file}: not valid JSON (${(err as Error).message})`);
  }
}

function problemsText(file: string, problems: DefinitionProblem[]): string {
  return problems.map((p) => `${file}: ${p.param || '(top level)'}: ${p.message}`).join('\n');
}

const OCPI_ONLY_FIELDS = [
  'country_code',
  'party_id',
  'id',
  'last_updated',
  'type',
  'tariff_alt_text',
  'tariff_alt_url',
];

/** An OCPI Tariff when it has OCPI's bookkeeping fields, else the platform's own definition JSON. */
function loadTariff(file: string): TariffDefinition {
  const json = readJson(file, 'tariff');
  const looksOcpi =
    typeof json === 'object' &&
    json !== null &&
    OCPI_ONLY_FIELDS.some((k) => k in (json as Record<string, unknown>));
  const { definition, problems } = looksOcpi ? tariffFromOcpi(json) : checkTariffDefinition(json);
  if (!definition) throw new InputError(problemsText(file, problems));
  return definition;
}

interface Args {
  command: string;
  files: string[];
  options: CdrOptions;
}

function parseArgs(argv: string[]): Args {
  const files: string[] = [];
  const options: CdrOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new InputError(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--tz') {
      const tz = value();
      if (!isValidTimeZone(tz)) throw new InputError(`--tz: ${JSON.stringify(tz)} is not an IANA time zone`);
      options.timeZone = tz;
    } else if (arg === '--end') {
      const text = value();
      const ms = parseOcpiDateTime(text);
      if (ms === undefined)
        throw new InputError(`--end: ${JSON.stringify(text)} is not an RFC 3339 UTC date-time`);
      options.endMs = ms;
    } else if (arg === '--help' || arg === '-h') {
      throw new InputError(USAGE);
    } else if (arg.startsWith('--')) {
      throw new InputError(`unknown option ${arg}\n${USAGE}`);
    } else {
      files.push(arg);
    }
  }
  const [command, ...rest] = files;
  if ((command !== 'price' && command !== 'verify') || rest.length !== 2) throw new InputError(USAGE);
  return { command, files: rest, options };
}

const price = (p: CostPair) => ({
  excl_vat: new ExactNumber(p.excl_vat),
  incl_vat: new ExactNumber(p.incl_vat),
});

/** The CDR cost fields, OCPI-shaped (Price objects, JSON numbers written from the exact decimals). */
function ocpiCosts(r: RatedSession) {
  return {
    currency: r.currency,
    total_cost: price(r.total_cost),
    total_fixed_cost: price(r.total_fixed_cost),
    total_energy: new ExactNumber(r.total_energy),
    total_energy_cost: price(r.total_energy_cost),
    total_time: new ExactNumber(r.total_time),
    total_time_cost: price(r.total_time_cost),
    total_parking_time: new ExactNumber(r.total_parking_time),
    total_parking_cost: price(r.total_parking_cost),
  };
}

export function main(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  try {
    const { command, files, options } = parseArgs(argv);
    const tariff = loadTariff(files[0]);
    const cdr = readJson(files[1], command === 'price' ? 'CDR or periods' : 'CDR');
    if (command === 'price') {
      const { rated, problems, notes } = rateCdr(tariff, cdr, options);
      if (!rated) throw new InputError(problemsText(files[1], problems));
      out(toJson({ ...ocpiCosts(rated), lines: rated.lines, notes: notes.length > 0 ? notes : undefined }));
      return 0;
    }
    const { rated, problems, notes, differences } = verifyCdr(tariff, cdr, options);
    if (!rated || problems.length > 0) throw new InputError(problemsText(files[1], problems));
    for (const note of notes) out(`note: ${note}`);
    if (differences.length === 0) {
      out(`OK: the CDR's costs and totals agree with the tariff (time zone ${options.timeZone ?? 'UTC'}).`);
      return 0;
    }
    out(
      `${differences.length} difference(s) between the CDR and the tariff (time zone ${options.timeZone ?? 'UTC'}):`,
    );
    for (const d of differences) {
      out(`- ${d.field}: the CDR states ${d.stated}, the tariff gives ${d.ours}`);
      out(`  ${d.explanation}`);
    }
    return 1;
  } catch (e) {
    if (e instanceof InputError) {
      err(e.message);
      return 2;
    }
    // A bug in the engine, not bad input; still no stack trace for the user, but say what broke.
    err(`internal error: ${(e as Error).message}`);
    return 2;
  }
}

if (require.main === module) {
  process.exitCode = main(
    process.argv.slice(2),
    (s) => process.stdout.write(`${s}\n`),
    (s) => process.stderr.write(`${s}\n`),
  );
}
