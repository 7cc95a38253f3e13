import type { Router } from 'express';
import type { Knex } from 'knex';
import { appendAudit } from '../../db/repositories/auditLog';
import { isUniqueViolation } from '../../db/repositories/errors';
import {
  createIdTag,
  createUser,
  createUserType,
  findIdTagByValue,
  findUserByEmail,
  getIdTag,
  getUser,
  getUserType,
  IdTag,
  IdTagStatus,
  IdTagType,
  listIdTags,
  listUsers,
  listUserTypes,
  lockIdTagValue,
  User,
  updateUser,
  updateUserType,
  UserType,
} from '../../db/repositories/users';
import { getTariff } from '../../db/repositories/tariffs';
import type { ResolvedDeps } from '../deps';
import { alreadyExists, invalidParam, missingParam, resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import {
  Body,
  EMAIL,
  optionalEnum,
  optionalString,
  optionalTimestamp,
  PROVIDER_ID,
  readBody,
  requiredEnum,
  requiredString,
} from '../validation';

// User type names appear in billing rules and in URLs, so they are identifiers.
const USER_TYPE_NAME = {
  max: 50,
  pattern: /^[a-z0-9][a-z0-9_-]*$/,
  patternMessage: 'must be lower-case letters, digits, "_" or "-", e.g. "fleet"',
};
// OCPP 1.6 IdToken: CiString20Type, printable ASCII.
const ID_TAG = {
  max: 20,
  pattern: /^[\x20-\x7e]+$/,
  patternMessage: 'must be printable ASCII (OCPP CiString20)',
};
const ID_TAG_TYPES: readonly IdTagType[] = ['rfid', 'app', 'roaming', 'terminal'];
// OCPI 2.2.1: ISO 3166 alpha-2 country code and a three-character party id.
const ROAMING_PARTY = /^[A-Z]{2}\*[A-Z0-9]{3}$/;
const ID_TAG_STATUSES: readonly IdTagStatus[] = ['Accepted', 'Blocked'];

const userTypeJson = (t: UserType) => ({
  object: 'user_type',
  id: t.name,
  name: t.name,
  description: t.description,
  tariff_id: t.tariffId,
});

const userJson = (u: User) => ({
  object: 'user',
  id: u.id,
  email: u.email,
  name: u.name,
  user_type: u.userType,
  payment_customer_id: u.paymentCustomerId,
  payment_method_id: u.paymentMethodId,
  membership_valid_until: iso(u.membershipValidUntil),
  created_at: iso(u.createdAt),
});

const idTagJson = (t: IdTag) => ({
  object: 'id_tag',
  id: t.id,
  id_tag: t.idTag,
  user_id: t.userId,
  type: t.type,
  status: t.status,
  expires_at: iso(t.expiresAt),
  roaming_party: t.roamingParty,
  created_at: iso(t.createdAt),
});

/** Absent: undefined (keep); null: clear; else a tariff of the organization. */
async function readTariffId(
  db: Knex,
  organizationId: string,
  body: Body,
): Promise<string | null | undefined> {
  if (body.tariff_id === null) return null;
  const tariffId = optionalString(body, 'tariff_id', { max: 255 });
  if (tariffId === undefined) return undefined;
  if (!(await getTariff(db, organizationId, tariffId)))
    throw resourceMissing('tariff', tariffId, 'tariff_id');
  return tariffId;
}

/**
 * A user type's own tariff prices its drivers' sessions ahead of the charge point's, so setting or clearing it
 * is a tariff assignment for the audit log.
 */
async function auditUserTypeTariff(
  db: Knex,
  ctx: { org: { id: string }; principal: { memberId: string } },
  before: UserType | undefined,
  after: UserType,
): Promise<void> {
  if ((before?.tariffId ?? null) === after.tariffId) return;
  await appendAudit(db, {
    organizationId: ctx.org.id,
    actor: { type: 'member', id: ctx.principal.memberId },
    action: after.tariffId === null ? 'tariff.unassigned' : 'tariff.assigned',
    objectType: 'user_type',
    objectId: after.name,
    before: before && userTypeJson(before),
    after: userTypeJson(after),
  });
}

/** Absent: undefined (keep); null: no membership; else the instant it ends. */
function readMembership(body: Body): Date | null | undefined {
  return body.membership_valid_until === null ? null : optionalTimestamp(body, 'membership_valid_until');
}

export function registerUserRoutes(router: Router, deps: ResolvedDeps): void {
  router.post(
    '/user-types',
    write(deps, async ({ db, org, principal, body: raw }) => {
      const body = readBody(raw, ['name', 'description', 'tariff_id']);
      const name = requiredString(body, 'name', USER_TYPE_NAME);
      const description = optionalString(body, 'description', { max: 500, trim: true }) ?? null;
      const tariffId = (await readTariffId(db, org.id, body)) ?? null;
      const taken = () => alreadyExists('name', `User type '${name}' already exists.`);
      if (await getUserType(db, org.id, name)) throw taken();
      try {
        const type = await createUserType(db, org.id, { name, description, tariffId });
        await auditUserTypeTariff(db, { org, principal }, undefined, type);
        return { status: 201, body: userTypeJson(type) };
      } catch (err) {
        if (isUniqueViolation(err)) throw taken();
        throw err;
      }
    }),
  );

  // Paginated by name: starting_after takes a user type name.
  router.get(
    '/user-types',
    read(deps, async ({ db, org, query }) => {
      const page = await listUserTypes(db, org.id, parsePage(query));
      return { status: 200, body: listEnvelope(page, userTypeJson, (t) => t.name) };
    }),
  );

  router.get(
    '/user-types/:name',
    read(deps, async ({ db, org, params }) => {
      const type = await getUserType(db, org.id, params.name);
      if (!type) throw resourceMissing('user type', params.name);
      return { status: 200, body: userTypeJson(type) };
    }),
  );

  // The name is the user type's key (users and billing rules refer to it), so it cannot change.
  router.patch(
    '/user-types/:name',
    write(deps, async ({ db, org, principal, params, body: raw }) => {
      const body = readBody(raw, ['description', 'tariff_id']);
      const description =
        body.description === null ? null : optionalString(body, 'description', { max: 500, trim: true });
      const tariffId = await readTariffId(db, org.id, body);
      const before = await getUserType(db, org.id, params.name);
      const type = await updateUserType(db, org.id, params.name, { description, tariffId });
      if (!type) throw resourceMissing('user type', params.name);
      await auditUserTypeTariff(db, { org, principal }, before, type);
      return { status: 200, body: userTypeJson(type) };
    }),
  );

  router.post(
    '/users',
    write(deps, async ({ db, org, body: raw }) => {
      const body = readBody(raw, [
        'email',
        'name',
        'user_type',
        'payment_method_id',
        'payment_customer_id',
        'membership_valid_until',
      ]);
      // Stored lower-case so the (organization, email) unique index also catches differently-cased duplicates.
      const email = requiredString(body, 'email', EMAIL).toLowerCase();
      const name = requiredString(body, 'name', { max: 200, trim: true });
      const userType = requiredString(body, 'user_type', { max: 50 });
      const paymentMethodId = optionalString(body, 'payment_method_id', PROVIDER_ID) ?? null;
      const paymentCustomerId = optionalString(body, 'payment_customer_id', PROVIDER_ID) ?? null;
      const membershipValidUntil = readMembership(body) ?? null;
      if (!(await getUserType(db, org.id, userType)))
        throw resourceMissing('user type', userType, 'user_type');
      const taken = () => alreadyExists('email', `A user with e-mail '${email}' already exists.`);
      if (await findUserByEmail(db, org.id, email)) throw taken();
      try {
        const user = await createUser(db, org.id, {
          email,
          name,
          userType,
          paymentMethodId,
          paymentCustomerId,
          membershipValidUntil,
        });
        return { status: 201, body: userJson(user) };
      } catch (err) {
        if (isUniqueViolation(err)) throw taken();
        throw err;
      }
    }),
  );

  router.get(
    '/users',
    read(deps, async ({ db, org, query }) => {
      const page = await listUsers(db, org.id, parsePage(query), {
        userType: queryString(query, 'user_type'),
      });
      return { status: 200, body: listEnvelope(page, userJson, (u) => u.id) };
    }),
  );

  router.get(
    '/users/:id',
    read(deps, async ({ db, org, params }) => {
      const user = await getUser(db, org.id, params.id);
      if (!user) throw resourceMissing('user', params.id);
      return { status: 200, body: userJson(user) };
    }),
  );

  router.patch(
    '/users/:id',
    write(deps, async ({ db, org, params, body: raw }) => {
      const body = readBody(raw, ['membership_valid_until']);
      const user = await updateUser(db, org.id, params.id, { membershipValidUntil: readMembership(body) });
      if (!user) throw resourceMissing('user', params.id);
      return { status: 200, body: userJson(user) };
    }),
  );

  router.post(
    '/id-tags',
    write(deps, async ({ db, org, body: raw }) => {
      const body = readBody(raw, ['id_tag', 'user_id', 'type', 'status', 'expires_at', 'roaming_party']);
      const idTag = requiredString(body, 'id_tag', ID_TAG);
      const userId = requiredString(body, 'user_id', { max: 255 });
      const type = requiredEnum(body, 'type', ID_TAG_TYPES);
      const status = optionalEnum(body, 'status', ID_TAG_STATUSES) ?? 'Accepted';
      const expiresAt = optionalTimestamp(body, 'expires_at') ?? null;
      const roamingParty =
        optionalString(body, 'roaming_party', {
          max: 6,
          pattern: ROAMING_PARTY,
          patternMessage: 'must be an OCPI country code and party id, e.g. DE*ABC',
        }) ?? null;
      if (type === 'roaming' && roamingParty === null) throw missingParam('roaming_party');
      if (type !== 'roaming' && roamingParty !== null) {
        throw invalidParam('roaming_party', 'is only for id tags of type roaming');
      }
      if (!(await getUser(db, org.id, userId))) throw resourceMissing('user', userId, 'user_id');
      // Tags are global to the central system (a charge point presents only the tag), so the check spans
      // organizations; it reveals no more than a charge point's Authorize would.
      await lockIdTagValue(db, idTag);
      const taken = () => alreadyExists('id_tag', `The id tag '${idTag}' is already registered.`);
      if (await findIdTagByValue(db, idTag)) throw taken();
      try {
        const tag = await createIdTag(db, org.id, { idTag, userId, type, status, expiresAt, roamingParty });
        return { status: 201, body: idTagJson(tag) };
      } catch (err) {
        if (isUniqueViolation(err)) throw taken();
        throw err;
      }
    }),
  );

  router.get(
    '/id-tags',
    read(deps, async ({ db, org, query }) => {
      const page = await listIdTags(db, org.id, parsePage(query), { userId: queryString(query, 'user_id') });
      return { status: 200, body: listEnvelope(page, idTagJson, (t) => t.id) };
    }),
  );

  router.get(
    '/id-tags/:id',
    read(deps, async ({ db, org, params }) => {
      const tag = await getIdTag(db, org.id, params.id);
      if (!tag) throw resourceMissing('id tag', params.id);
      return { status: 200, body: idTagJson(tag) };
    }),
  );
}
