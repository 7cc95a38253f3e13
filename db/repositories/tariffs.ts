import { isDeepStrictEqual } from 'node:util';
import type { Knex } from 'knex';
import { newId } from '../ids';
import type { TariffDefinition } from '../../pricing/model';
import { normalizePrice, TariffComponent, TariffVersion } from '../../pricing/tariff';
import { definitionFromSimpleComponents, parseOcpiDateTime } from '../../pricing/tariff-definition';
import { fetchPage, Page, PageRequest } from './pagination';

/** A stored tariff version with its metadata; the pricing part is exactly pricing/'s TariffVersion. */
export interface TariffVersionRecord extends TariffVersion {
  definition: TariffDefinition;
  name: string;
  validFrom: Date;
  createdAt: Date;
}

export interface Tariff {
  id: string;
  organizationId: string;
  createdAt: Date;
  /** In force now; while every version is still scheduled, the first one to come into force. */
  currentVersion: TariffVersionRecord;
  /** All versions, oldest first. */
  versions: TariffVersionRecord[];
}

export type ScopeType = 'project' | 'site' | 'charge_point';
export const SCOPE_TYPES: readonly ScopeType[] = ['project', 'site', 'charge_point'];

export interface TariffAssignment {
  id: string;
  organizationId: string;
  tariffId: string;
  scopeType: ScopeType;
  scopeId: string;
  createdAt: Date;
}

interface NewTariffVersionBase {
  name: string;
  currency: string;
  /** Defaults to now(); for version 1, to the epoch (see FIRST_VERSION_VALID_FROM). */
  validFrom?: Date;
}

/**
 * A version in the simple form (components validated with checkTariffInput, stored as tariff_components
 * rows and converted to the definition pricing reads) or in the full form (a definition validated with
 * checkTariffDefinition, in the version's currency). Giving both is allowed only when they are equivalent.
 */
export type NewTariffVersion = NewTariffVersionBase &
  (
    | { components: TariffComponent[]; definition?: TariffDefinition }
    | { definition: TariffDefinition; components?: undefined }
  );

/**
 * A first version has nothing to supersede, and a charge point may report a session start from before the
 * tariff was entered (clock skew, transactions queued offline): it is in force from the beginning of time.
 */
const FIRST_VERSION_VALID_FROM = new Date(0);

interface TariffRow {
  id: string;
  organization_id: string;
  created_at: Date;
}

interface VersionRow {
  id: string;
  tariff_id: string;
  version: number;
  name: string;
  currency: string;
  definition: TariffDefinition;
  valid_from: Date;
  created_at: Date;
}

interface ComponentRow {
  tariff_version_id: string;
  position: number;
  type: TariffComponent['type'];
  price: string;
}

interface AssignmentRow {
  id: string;
  organization_id: string;
  tariff_id: string;
  scope_type: ScopeType;
  scope_id: string;
  created_at: Date;
}

const toAssignment = (row: AssignmentRow): TariffAssignment => ({
  id: row.id,
  organizationId: row.organization_id,
  tariffId: row.tariff_id,
  scopeType: row.scope_type,
  scopeId: row.scope_id,
  createdAt: row.created_at,
});

async function loadVersions(db: Knex, versionRows: VersionRow[]): Promise<TariffVersionRecord[]> {
  if (versionRows.length === 0) return [];
  const componentRows: ComponentRow[] = await db<ComponentRow>('tariff_components')
    .whereIn(
      'tariff_version_id',
      versionRows.map((v) => v.id),
    )
    .orderBy(['tariff_version_id', 'position']);
  return versionRows.map((v) => {
    const components = componentRows
      .filter((c) => c.tariff_version_id === v.id)
      .map((c) => ({ type: c.type, price: normalizePrice(c.price) }));
    const record: TariffVersionRecord = {
      tariffId: v.tariff_id,
      versionId: v.id,
      version: v.version,
      name: v.name,
      currency: v.currency,
      definition: v.definition,
      validFrom: v.valid_from,
      createdAt: v.created_at,
    };
    // Only versions entered in the simple form have components; full-form versions have none at all.
    if (components.length > 0) record.components = components;
    return record;
  });
}

/** Latest valid_from not after `at`; the higher version breaks a tie. */
function versionInForce<V extends { validFrom: Date; version: number }>(
  versions: V[],
  at: Date,
): V | undefined {
  let best: V | undefined;
  for (const v of versions) {
    if (v.validFrom.getTime() > at.getTime()) continue;
    const newer =
      !best ||
      v.validFrom.getTime() > best.validFrom.getTime() ||
      (v.validFrom.getTime() === best.validFrom.getTime() && v.version > best.version);
    if (newer) best = v;
  }
  return best;
}

function currentOf(versions: TariffVersionRecord[], now: Date): TariffVersionRecord {
  const inForce = versionInForce(versions, now);
  if (inForce) return inForce;
  return [...versions].sort(
    (a, b) => a.validFrom.getTime() - b.validFrom.getTime() || a.version - b.version,
  )[0];
}

async function assemble(db: Knex, tariffRows: TariffRow[]): Promise<Tariff[]> {
  if (tariffRows.length === 0) return [];
  const versionRows: VersionRow[] = await db<VersionRow>('tariff_versions')
    .whereIn(
      'tariff_id',
      tariffRows.map((t) => t.id),
    )
    .orderBy(['tariff_id', 'version']);
  const versions = await loadVersions(db, versionRows);
  const now = new Date();
  return tariffRows.map((t) => {
    const own = versions.filter((v) => v.tariffId === t.id);
    return {
      id: t.id,
      organizationId: t.organization_id,
      createdAt: t.created_at,
      currentVersion: currentOf(own, now),
      versions: own,
    };
  });
}

/** The definition a new version stores, and its components when it was entered in the simple form. */
function storedForm(input: NewTariffVersion): {
  definition: TariffDefinition;
  components: TariffComponent[] | undefined;
} {
  if (input.components === undefined) {
    if (input.definition.currency !== input.currency) {
      throw new Error(
        `definition currency ${input.definition.currency} is not the version's ${input.currency}`,
      );
    }
    return { definition: input.definition, components: undefined };
  }
  const components = input.components.map((c) => ({ type: c.type, price: normalizePrice(c.price) }));
  const definition = definitionFromSimpleComponents(input.currency, components);
  if (input.definition !== undefined && !isDeepStrictEqual(input.definition, definition)) {
    throw new Error('definition and components of a new tariff version describe different prices');
  }
  return { definition, components };
}

async function insertVersion(
  db: Knex,
  tariffId: string,
  version: number,
  input: NewTariffVersion,
): Promise<TariffVersionRecord> {
  const { definition, components } = storedForm(input);
  const [row]: VersionRow[] = await db('tariff_versions')
    .insert({
      id: newId('tarv'),
      tariff_id: tariffId,
      version,
      name: input.name,
      currency: input.currency,
      // Serialized here: knex would send a bare array (elements) as a PostgreSQL array literal.
      definition: JSON.stringify(definition),
      valid_from: input.validFrom ?? (version === 1 ? FIRST_VERSION_VALID_FROM : db.fn.now()),
    })
    .returning('*');
  if (components !== undefined) {
    await db('tariff_components').insert(
      components.map((c, position) => ({
        tariff_version_id: row.id,
        position,
        type: c.type,
        price: c.price,
      })),
    );
  }
  return (await loadVersions(db, [row]))[0];
}

/** A tariff and its version 1, in one transaction. */
export async function createTariff(
  db: Knex,
  organizationId: string,
  input: NewTariffVersion,
): Promise<Tariff> {
  return db.transaction(async (trx) => {
    const [row] = await trx<TariffRow>('tariffs')
      .insert({ id: newId('tar'), organization_id: organizationId })
      .returning('*');
    await insertVersion(trx, row.id, 1, input);
    return (await assemble(trx, [row]))[0];
  });
}

/**
 * Editing a tariff: versions are immutable (a database trigger refuses UPDATE and DELETE), so an edit is a
 * new version. Undefined when the tariff is not the organization's.
 */
export async function createTariffVersion(
  db: Knex,
  organizationId: string,
  tariffId: string,
  input: NewTariffVersion,
): Promise<TariffVersionRecord | undefined> {
  return db.transaction(async (trx) => {
    // The row lock serialises concurrent edits so they get consecutive version numbers.
    const tariff = await trx('tariffs')
      .where({ id: tariffId, organization_id: organizationId })
      .forUpdate()
      .first();
    if (!tariff) return undefined;
    const { max } = (await trx('tariff_versions')
      .where({ tariff_id: tariffId })
      .max('version as max')
      .first()) as {
      max: number | null;
    };
    return insertVersion(trx, tariffId, (max ?? 0) + 1, input);
  });
}

export async function getTariff(db: Knex, organizationId: string, id: string): Promise<Tariff | undefined> {
  const row = await db<TariffRow>('tariffs').where({ organization_id: organizationId, id }).first();
  return row && (await assemble(db, [row]))[0];
}

export async function listTariffs(
  db: Knex,
  organizationId: string,
  page: PageRequest,
): Promise<Page<Tariff>> {
  const result = await fetchPage(
    db('tariffs').where({ organization_id: organizationId }),
    page,
    'id',
    (r: TariffRow) => r,
  );
  return { data: await assemble(db, result.data), hasMore: result.hasMore };
}

const SCOPE_TABLES: Record<ScopeType, string> = {
  project: 'projects',
  site: 'sites',
  charge_point: 'charge_points',
};

export async function scopeExists(
  db: Knex,
  organizationId: string,
  scopeType: ScopeType,
  scopeId: string,
): Promise<boolean> {
  const row = await db(SCOPE_TABLES[scopeType])
    .where({ organization_id: organizationId, id: scopeId })
    .first('id');
  return row !== undefined;
}

/**
 * One tariff per scope: assigning again replaces the scope's tariff. The caller checks that tariff and scope
 * belong to the organization. `created` tells a new assignment from a replaced one, `previous` is the
 * assignment as it was before (for the audit log).
 */
export async function assignTariff(
  db: Knex,
  organizationId: string,
  tariffId: string,
  scope: { scopeType: ScopeType; scopeId: string },
): Promise<{ assignment: TariffAssignment; created: boolean; previous?: TariffAssignment }> {
  // Locked, so that a concurrent assignment to the scope cannot slip in between and go unreported.
  const previous = await db<AssignmentRow>('tariff_assignments')
    .where({ scope_type: scope.scopeType, scope_id: scope.scopeId })
    .forUpdate()
    .first();
  const result = await db.raw<{ rows: Array<AssignmentRow & { inserted: boolean }> }>(
    `INSERT INTO tariff_assignments (id, organization_id, tariff_id, scope_type, scope_id)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (scope_type, scope_id) DO UPDATE SET tariff_id = excluded.tariff_id
     RETURNING *, (xmax = 0) AS inserted`,
    [newId('tas'), organizationId, tariffId, scope.scopeType, scope.scopeId],
  );
  const row = result.rows[0];
  return {
    assignment: toAssignment(row),
    created: row.inserted,
    previous: previous && toAssignment(previous),
  };
}

function strip(v: TariffVersionRecord): TariffVersion {
  const version: TariffVersion = {
    tariffId: v.tariffId,
    versionId: v.versionId,
    version: v.version,
    currency: v.currency,
    definition: v.definition,
  };
  if (v.components !== undefined) version.components = v.components;
  return version;
}

/** OCPI start_date_time/end_date_time: outside them the tariff does not apply, whatever version is current. */
function withinValidity(definition: TariffDefinition, at: Date): boolean {
  const instant = (text: string | undefined) => (text === undefined ? undefined : parseOcpiDateTime(text));
  const start = instant(definition.start_date_time);
  const end = instant(definition.end_date_time);
  return (start === undefined || start <= at.getTime()) && (end === undefined || at.getTime() < end);
}

/**
 * The tariff's version in force at `at` (latest valid_from not after it, the higher version breaking a tie),
 * or undefined when there is none yet or that version's definition is not valid at `at`.
 */
async function tariffInForce(db: Knex, tariffId: string, at: Date): Promise<TariffVersion | undefined> {
  const row = await db<VersionRow>('tariff_versions')
    .where('tariff_id', tariffId)
    .where('valid_from', '<=', at)
    .orderBy([
      { column: 'valid_from', order: 'desc' },
      { column: 'version', order: 'desc' },
    ])
    .first();
  if (!row || !withinValidity(row.definition, at)) return undefined;
  return strip((await loadVersions(db, [row]))[0]);
}

/**
 * The tariff version a session starting at `at` on this charge point is priced with. The most specific
 * assignment wins (charge point, then its site, then the site's project); of that tariff, the version in
 * force at `at`. Undefined when nothing is assigned or the winning tariff has no version in force: a less
 * specific tariff is deliberately not used then, since the operator chose this one for the charge point.
 */
export async function resolveTariffForChargePoint(
  db: Knex,
  chargePointId: string,
  at: Date,
): Promise<TariffVersion | undefined> {
  const assignment = await db('charge_points as cp')
    .join('sites as s', 's.id', 'cp.site_id')
    .join('tariff_assignments as ta', function () {
      this.on('ta.organization_id', 'cp.organization_id').andOn(function () {
        this.on(function () {
          this.on('ta.scope_type', db.raw('?', ['charge_point'])).andOn('ta.scope_id', 'cp.id');
        })
          .orOn(function () {
            this.on('ta.scope_type', db.raw('?', ['site'])).andOn('ta.scope_id', 's.id');
          })
          .orOn(function () {
            this.on('ta.scope_type', db.raw('?', ['project'])).andOn('ta.scope_id', 's.project_id');
          });
      });
    })
    .where('cp.id', chargePointId)
    .orderByRaw("CASE ta.scope_type WHEN 'charge_point' THEN 0 WHEN 'site' THEN 1 ELSE 2 END")
    .first<{ tariff_id: string } | undefined>('ta.tariff_id');
  return assignment && tariffInForce(db, assignment.tariff_id, at);
}

export interface SessionTariffRequest {
  chargePointId: string;
  /** The driver's user type; null for a driver the system does not know. */
  userType: string | null;
  at: Date;
}

/**
 * The tariff version a session is priced with: the driver's user type's own tariff when the operator set
 * one and it has a version in force at `at`, else the charge point's (resolveTariffForChargePoint). The user
 * type is looked up in the charge point's organization, the only one whose tariffs can price its sessions.
 */
export async function resolveTariffForSession(
  db: Knex,
  request: SessionTariffRequest,
): Promise<TariffVersion | undefined> {
  const { chargePointId, userType, at } = request;
  if (userType !== null) {
    const own = await db('charge_points as cp')
      .join('user_types as ut', 'ut.organization_id', 'cp.organization_id')
      .where({ 'cp.id': chargePointId, 'ut.name': userType })
      .whereNotNull('ut.tariff_id')
      .first<{ tariff_id: string } | undefined>('ut.tariff_id');
    const version = own && (await tariffInForce(db, own.tariff_id, at));
    if (version) return version;
  }
  return resolveTariffForChargePoint(db, chargePointId, at);
}

export async function loadTariffVersion(db: Knex, versionId: string): Promise<TariffVersion | undefined> {
  const row = await db<VersionRow>('tariff_versions').where({ id: versionId }).first();
  return row && strip((await loadVersions(db, [row]))[0]);
}
