import type { Router } from 'express';
import { appendAudit } from '../../db/repositories/auditLog';
import {
  assignTariff,
  createTariff,
  createTariffVersion,
  getTariff,
  listTariffs,
  NewTariffVersion,
  SCOPE_TYPES,
  scopeExists,
  Tariff,
  TariffAssignment,
  TariffVersionRecord,
} from '../../db/repositories/tariffs';
import type { TariffDefinition } from '../../pricing/model';
import { checkTariffInput, ComponentType, TariffComponent } from '../../pricing/tariff';
import {
  checkTariffDefinition,
  DEFINITION_FIELDS as ALL_DEFINITION_FIELDS,
} from '../../pricing/tariff-definition';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, missingParam, resourceMissing, unknownParam } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage } from '../pagination';
import {
  Body,
  optionalString,
  optionalTimestamp,
  parseDecimal,
  readBody,
  rejectUnknownFields,
  requiredEnum,
  requiredString,
} from '../validation';

// tariff_components.price is numeric(18,6): 12 integer digits.
const PRICE_RULES = { maxDecimals: 6, maxIntegerDigits: 12 };
// A scheduled version may be sent a moment late; more than this would rewrite what sessions were priced with.
const VALID_FROM_GRACE_MS = 60_000;

// Null for a version entered in the full form: its definition is the whole price.
const componentsJson = (v: TariffVersionRecord) =>
  v.components?.map((c) => ({ type: c.type, price: c.price })) ?? null;

function versionJson(v: TariffVersionRecord) {
  return {
    object: 'tariff_version',
    id: v.versionId,
    tariff_id: v.tariffId,
    version: v.version,
    name: v.name,
    currency: v.currency,
    components: componentsJson(v),
    definition: v.definition,
    valid_from: iso(v.validFrom),
    created_at: iso(v.createdAt),
  };
}

function tariffJson(t: Tariff) {
  const current = t.currentVersion;
  return {
    object: 'tariff',
    id: t.id,
    name: current.name,
    currency: current.currency,
    components: componentsJson(current),
    definition: current.definition,
    current_version: versionJson(current),
    versions: t.versions.map(versionJson),
    created_at: iso(t.createdAt),
  };
}

function assignmentJson(a: TariffAssignment) {
  return {
    object: 'tariff_assignment',
    id: a.id,
    tariff_id: a.tariffId,
    scope_type: a.scopeType,
    scope_id: a.scopeId,
    created_at: iso(a.createdAt),
  };
}

function readComponents(body: Body, currency: unknown): TariffComponent[] {
  const problem = checkTariffInput(currency, body.components)[0];
  if (problem) throw invalidParam(problem.param, problem.message);
  const components = body.components as Array<Record<string, unknown>>;
  components.forEach((c, i) => rejectUnknownFields(c, ['type', 'price'], `components[${i}]`));
  return components.map((c, i) => ({
    type: c.type as ComponentType,
    price: parseDecimal(c.price, `components[${i}].price`, PRICE_RULES),
  }));
}

/** The fields of the full (OCPI-shaped) form; currency is shared with the simple form. */
const DEFINITION_FIELDS = ALL_DEFINITION_FIELDS.filter((f) => f !== 'currency');
const VERSION_FIELDS = ['name', 'currency', 'components', 'valid_from', ...DEFINITION_FIELDS];

function readDefinition(body: Body, currency: unknown): TariffDefinition {
  const input: Record<string, unknown> = { currency };
  for (const key of DEFINITION_FIELDS) if (body[key] !== undefined) input[key] = body[key];
  const { definition, problems } = checkTariffDefinition(input);
  const problem = problems[0];
  if (problem) {
    throw problem.message === 'is not a known field'
      ? unknownParam(problem.param)
      : invalidParam(problem.param, problem.message);
  }
  return definition!;
}

type PriceForm = { components: TariffComponent[] } | { definition: TariffDefinition };

/**
 * A version's prices in either form: the simple `components` list, or the full form (`elements` and the
 * fields that only make sense with elements). `currency` is validated by either reader.
 */
function readPrices(body: Body, currency: unknown): PriceForm {
  const hasComponents = body.components !== undefined && body.components !== null;
  const fullField = DEFINITION_FIELDS.find((key) => body[key] !== undefined && body[key] !== null);
  if (hasComponents && fullField !== undefined) {
    throw invalidParam(
      fullField,
      'belongs to the full form (elements); it cannot be combined with the simple components form',
    );
  }
  if (hasComponents) return { components: readComponents(body, currency) };
  if (fullField === undefined) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'parameter_missing',
      'components (or elements, for the full tariff form) is required',
      'components',
    );
  }
  return { definition: readDefinition(body, currency) };
}

function readValidFrom(body: Body): Date | undefined {
  const validFrom = optionalTimestamp(body, 'valid_from');
  if (validFrom && validFrom.getTime() < Date.now() - VALID_FROM_GRACE_MS) {
    throw invalidParam('valid_from', 'must not be in the past: sessions already priced keep their version');
  }
  return validFrom;
}

const readName = (body: Body) => optionalString(body, 'name', { max: 200, trim: true });

export function registerTariffRoutes(router: Router, deps: ResolvedDeps): void {
  // Billing rules are pricing on top of tariffs and are served with them, so app.ts lists one pricing entry.

  router.post(
    '/tariffs',
    write(deps, async ({ db, org, principal, body: raw }) => {
      const body = readBody(raw, VERSION_FIELDS);
      const name = requiredString(body, 'name', { max: 200, trim: true });
      if (body.currency === undefined || body.currency === null) throw missingParam('currency');
      const input: NewTariffVersion = {
        name,
        currency: body.currency as string,
        ...readPrices(body, body.currency),
        validFrom: readValidFrom(body),
      };
      const created = tariffJson(await createTariff(db, org.id, input));
      await appendAudit(db, {
        organizationId: org.id,
        actor: { type: 'member', id: principal.memberId },
        action: 'tariff.created',
        objectType: 'tariff',
        objectId: created.id,
        after: created,
      });
      return { status: 201, body: created };
    }),
  );

  router.get(
    '/tariffs',
    read(deps, async ({ db, org, query }) => {
      const page = await listTariffs(db, org.id, parsePage(query));
      return { status: 200, body: listEnvelope(page, tariffJson, (t) => t.id) };
    }),
  );

  router.get(
    '/tariffs/:id',
    read(deps, async ({ db, org, params }) => {
      const tariff = await getTariff(db, org.id, params.id);
      if (!tariff) throw resourceMissing('tariff', params.id);
      return { status: 200, body: tariffJson(tariff) };
    }),
  );

  // Editing a tariff: versions are immutable, so an edit is a new version (omitted name/currency carry over).
  router.post(
    '/tariffs/:id/versions',
    write(deps, async ({ db, org, principal, params, body: raw }) => {
      const body = readBody(raw, VERSION_FIELDS);
      const name = readName(body);
      const currency = body.currency ?? undefined;
      // Both readers validate the currency too; a valid stand-in lets an omitted one through, replaced below.
      const prices = readPrices(body, currency ?? 'EUR');
      const validFrom = readValidFrom(body);
      const tariff = await getTariff(db, org.id, params.id);
      if (!tariff) throw resourceMissing('tariff', params.id);
      const versionCurrency = (currency as string | undefined) ?? tariff.currentVersion.currency;
      const version = await createTariffVersion(db, org.id, tariff.id, {
        name: name ?? tariff.currentVersion.name,
        currency: versionCurrency,
        ...('definition' in prices
          ? { definition: { ...prices.definition, currency: versionCurrency } }
          : { components: prices.components }),
        validFrom,
      });
      if (!version) throw resourceMissing('tariff', params.id);
      await appendAudit(db, {
        organizationId: org.id,
        actor: { type: 'member', id: principal.memberId },
        action: 'tariff.updated',
        objectType: 'tariff',
        objectId: tariff.id,
        before: tariffJson(tariff),
        after: tariffJson((await getTariff(db, org.id, tariff.id))!),
      });
      return { status: 201, body: versionJson(version) };
    }),
  );

  // One tariff per scope; assigning again replaces it (201 for a new assignment, 200 for a replaced one).
  router.post(
    '/tariffs/:id/assignments',
    write(deps, async ({ db, org, principal, params, body: raw }) => {
      const body = readBody(raw, ['scope_type', 'scope_id']);
      const scopeType = requiredEnum(body, 'scope_type', SCOPE_TYPES);
      const scopeId = requiredString(body, 'scope_id', { max: 255 });
      const tariff = await getTariff(db, org.id, params.id);
      if (!tariff) throw resourceMissing('tariff', params.id);
      if (!(await scopeExists(db, org.id, scopeType, scopeId))) {
        throw resourceMissing(scopeType.replace('_', ' '), scopeId, 'scope_id');
      }
      const { assignment, created, previous } = await assignTariff(db, org.id, tariff.id, {
        scopeType,
        scopeId,
      });
      // Assigning the tariff the scope already has changes no price.
      if (previous?.tariffId !== tariff.id) {
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'tariff.assigned',
          objectType: 'tariff_assignment',
          objectId: assignment.id,
          before: previous && assignmentJson(previous),
          after: assignmentJson(assignment),
        });
      }
      return { status: created ? 201 : 200, body: assignmentJson(assignment) };
    }),
  );
}
