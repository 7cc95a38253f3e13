import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import schemas from './schemas/ocpp1_6.json';
import { OcppErrorCode } from './errors';

export type ValidationResult = { ok: true } | { ok: false; code: OcppErrorCode; description: string };

// Why our own table instead of ocpp-rpc's: ocpp-rpc maps string lengths and ranges to the 2.0.1-only
// "FormatViolation" and extra properties to PropertyConstraintViolation. OCPP-J 1.6 defines
// PropertyConstraintViolation as "at least one field contains an invalid value", so bounds, enums,
// formats and patterns go there; cardinality (missing field, array length) is the occurence constraint;
// an unexpected property means the payload does "not conform the PDU structure", a FormationViolation.
const KEYWORD_CODES: Record<string, OcppErrorCode> = {
  required: 'OccurenceConstraintViolation',
  minItems: 'OccurenceConstraintViolation',
  maxItems: 'OccurenceConstraintViolation',
  type: 'TypeConstraintViolation',
  enum: 'PropertyConstraintViolation',
  const: 'PropertyConstraintViolation',
  maxLength: 'PropertyConstraintViolation',
  minLength: 'PropertyConstraintViolation',
  format: 'PropertyConstraintViolation',
  pattern: 'PropertyConstraintViolation',
  minimum: 'PropertyConstraintViolation',
  maximum: 'PropertyConstraintViolation',
  // Not used by the 1.6 schemas today; a numeric bound like minimum/maximum if a schema adds it.
  exclusiveMinimum: 'PropertyConstraintViolation',
  exclusiveMaximum: 'PropertyConstraintViolation',
  multipleOf: 'PropertyConstraintViolation',
};

export function errorCodeForKeyword(keyword: string): OcppErrorCode {
  return Object.prototype.hasOwnProperty.call(KEYWORD_CODES, keyword)
    ? KEYWORD_CODES[keyword]
    : 'FormationViolation';
}

// Property names come from the charge point; keep descriptions short so an error never echoes a
// 60 KB key back.
const MAX_NAME = 64;

function pointerSegment(name: unknown): string {
  const text = String(name);
  const short = text.length > MAX_NAME ? `${text.slice(0, MAX_NAME)}…` : text;
  return '/' + short.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function describeValidationError(error: ErrorObject): string {
  let path = error.instancePath;
  let message = error.message ?? 'is invalid';
  switch (error.keyword) {
    case 'required':
      // ajv reports the parent object; the field that is missing is what a reader needs.
      path += pointerSegment(error.params.missingProperty);
      message = 'is required but missing';
      break;
    case 'additionalProperties':
      path += pointerSegment(error.params.additionalProperty);
      message = 'is not allowed (not defined by the OCPP 1.6 schema)';
      break;
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[] | undefined) ?? [];
      message = `must be one of ${allowed.map(String).join(', ')}`;
      break;
    }
  }
  return `${path || '(payload)'}: ${message}`;
}

// strict off: the OCA schemas carry keywords ajv's strict mode rejects (e.g. "definitions" next to
// "$id"); they are the spec's files and stay unedited. allErrors off: the first error decides the
// code, and stopping early is cheaper on hostile input. multipleOfPrecision: ChargingSchedule limits are
// "multipleOf": 0.1, and 0.3 / 0.1 is not an integer in binary floating point. strictNumbers back on
// (strict: false turns it off): JSON.parse reads 1e309 as Infinity, which ajv would otherwise accept
// as an "integer", and a handler would bill meterStop "-Infinity"; now it is a TypeConstraintViolation.
const ajv = new Ajv({ strict: false, strictNumbers: true, allErrors: false, multipleOfPrecision: 6 });
addFormats(ajv);

type Kind = 'req' | 'conf';
type RawSchema = { $id: string } & Record<string, unknown>;

// The vendored ids look like "urn:Authorize.req". ajv 8.20 resolves ids with fast-uri, which throws
// "URN without nid cannot be serialized" on them, so we drop the id and compile each schema on its
// own: the schemas only reference their own "#/definitions". Keyed by action in a Map, so a
// charge-point-supplied action name never reaches ajv as a URI or JSON pointer.
const rawSchemas = new Map<string, Partial<Record<Kind, Record<string, unknown>>>>();
for (const { $id, ...schema } of schemas as RawSchema[]) {
  const match = /^urn:(\w+)\.(req|conf)$/.exec($id);
  if (!match) continue;
  const entry = rawSchemas.get(match[1]) ?? {};
  entry[match[2] as Kind] = schema;
  rawSchemas.set(match[1], entry);
}

const compiled = new Map<string, ValidateFunction>();

/** Every action named by the vendored 1.6 schemas (both directions, security whitepaper included). */
export function schemaActions(): string[] {
  return [...rawSchemas.keys()];
}

export function hasSchema(action: string, kind: Kind): boolean {
  return rawSchemas.get(action)?.[kind] !== undefined;
}

// Compiled on first use and cached: once per action and direction per process.
function validatorFor(action: string, kind: Kind): ValidateFunction | undefined {
  const key = `${action}.${kind}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const schema = rawSchemas.get(action)?.[kind];
  if (!schema) return undefined;
  const fn = ajv.compile(schema);
  compiled.set(key, fn);
  return fn;
}

function validate(action: string, kind: Kind, payload: unknown): ValidationResult {
  const check = validatorFor(action, kind);
  if (!check) {
    return { ok: false, code: 'NotImplemented', description: `No OCPP 1.6 schema for ${action}.${kind}` };
  }
  if (check(payload)) return { ok: true };
  const [first] = check.errors ?? [];
  if (!first) return { ok: false, code: 'FormationViolation', description: '(payload): is invalid' };
  return { ok: false, code: errorCodeForKeyword(first.keyword), description: describeValidationError(first) };
}

export function validateRequest(action: string, payload: unknown): ValidationResult {
  return validate(action, 'req', payload);
}

export function validateResponse(action: string, payload: unknown): ValidationResult {
  return validate(action, 'conf', payload);
}
