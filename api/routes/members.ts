import type { Router } from 'express';
import { isUniqueViolation } from '../../db/repositories/errors';
import {
  ApiKey,
  createMember,
  findMemberByEmail,
  getApiKey,
  getMember,
  listApiKeys,
  listMembers,
  Member,
  MemberChange,
  removeMember,
  updateMember,
} from '../../db/repositories/members';
import { createApiKey, revokeApiKey, ROLES } from '../../db/repositories/organizations';
import { ANY_MEMBER, OWNERS, requireRole } from '../auth';
import type { ResolvedDeps } from '../deps';
import { alreadyExists, ApiError, resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { EMAIL, optionalEnum, optionalString, readBody, requiredEnum, requiredString } from '../validation';

const NAME = { max: 200, trim: true };

const memberJson = (m: Member) => ({
  object: 'member',
  id: m.id,
  email: m.email,
  name: m.name,
  role: m.role,
  created_at: iso(m.createdAt),
});

const apiKeyJson = (k: ApiKey) => ({
  object: 'api_key',
  id: k.id,
  member_id: k.memberId,
  name: k.name,
  prefix: k.prefix,
  created_at: iso(k.createdAt),
  revoked_at: iso(k.revokedAt),
});

const emailTaken = (email: string) =>
  alreadyExists('email', `A member with e-mail '${email}' already belongs to this organization.`);

function changed(result: MemberChange, id: string): Member {
  if (!result) throw resourceMissing('member', id);
  if ('refused' in result) {
    throw new ApiError(
      409,
      'invalid_request_error',
      'last_owner',
      'An organization keeps at least one owner: make another member owner first.',
    );
  }
  return result.member;
}

// Members and their roles are the owner's to manage; any member may read who else is there and manage
// their own API keys.
export function registerMemberRoutes(router: Router, deps: ResolvedDeps): void {
  router.get(
    '/members',
    read(deps, async ({ db, org, query }) => {
      const page = await listMembers(db, org.id, parsePage(query));
      return { status: 200, body: listEnvelope(page, memberJson, (m) => m.id) };
    }),
  );

  router.get(
    '/members/:id',
    read(deps, async ({ db, org, params }) => {
      const member = await getMember(db, org.id, params.id);
      if (!member) throw resourceMissing('member', params.id);
      return { status: 200, body: memberJson(member) };
    }),
  );

  router.post(
    '/members',
    write(
      deps,
      async ({ db, org, body: raw }) => {
        const body = readBody(raw, ['email', 'name', 'role']);
        const email = requiredString(body, 'email', EMAIL).toLowerCase();
        const name = optionalString(body, 'name', NAME);
        const role = requiredEnum(body, 'role', ROLES);
        if (await findMemberByEmail(db, org.id, email)) throw emailTaken(email);
        try {
          return { status: 201, body: memberJson(await createMember(db, org.id, { email, name, role })) };
        } catch (err) {
          if (isUniqueViolation(err, 'members_organization_email_live')) throw emailTaken(email);
          throw err;
        }
      },
      OWNERS,
    ),
  );

  router.patch(
    '/members/:id',
    write(
      deps,
      async ({ db, org, params, body: raw }) => {
        const body = readBody(raw, ['name', 'role']);
        const changes = { name: optionalString(body, 'name', NAME), role: optionalEnum(body, 'role', ROLES) };
        return {
          status: 200,
          body: memberJson(changed(await updateMember(db, org.id, params.id, changes), params.id)),
        };
      },
      OWNERS,
    ),
  );

  // Removing a member revokes their keys at once: nothing they started can act for them afterwards.
  router.delete(
    '/members/:id',
    write(
      deps,
      async ({ db, org, params }) => ({
        status: 200,
        body: { ...memberJson(changed(await removeMember(db, org.id, params.id), params.id)), removed: true },
      }),
      OWNERS,
    ),
  );

  router.post(
    '/members/:id/api-keys',
    write(
      deps,
      async ({ db, org, principal, params, body: raw }) => {
        if (params.id !== principal.memberId) requireRole(principal, OWNERS);
        const body = readBody(raw, ['name']);
        const name = requiredString(body, 'name', NAME);
        const member = await getMember(db, org.id, params.id);
        if (!member) throw resourceMissing('member', params.id);
        const { id, secret } = await createApiKey(db, org.id, name, member.id);
        const key = (await getApiKey(db, org.id, id))!;
        // The secret is shown once; only its hash is kept.
        return { status: 201, body: { ...apiKeyJson(key), secret } };
      },
      ANY_MEMBER,
    ),
  );

  router.get(
    '/api-keys',
    read(deps, async ({ db, org, principal, query }) => {
      const asked = queryString(query, 'member_id');
      const own = principal.role !== 'owner';
      if (own && asked !== undefined && asked !== principal.memberId) requireRole(principal, OWNERS);
      const memberId = own ? principal.memberId : asked;
      const page = await listApiKeys(db, org.id, { memberId }, parsePage(query));
      return { status: 200, body: listEnvelope(page, apiKeyJson, (k) => k.id) };
    }),
  );

  router.delete(
    '/api-keys/:id',
    write(
      deps,
      async ({ db, org, principal, params }) => {
        const key = await getApiKey(db, org.id, params.id);
        if (!key) throw resourceMissing('API key', params.id);
        if (key.memberId !== principal.memberId) requireRole(principal, OWNERS);
        await revokeApiKey(db, org.id, key.id);
        return { status: 200, body: apiKeyJson((await getApiKey(db, org.id, key.id))!) };
      },
      ANY_MEMBER,
    ),
  );
}
