import type { Router } from 'express';
import { appendAudit } from '../../db/repositories/auditLog';
import {
  BillingRuleVersionRecord,
  createBillingRule,
  createBillingRuleVersion,
  disableBillingRule,
  getBillingRule,
  listBillingRules,
  StoredBillingRule,
} from '../../db/repositories/billingRules';
import { BillingRuleInput, checkBillingRuleInput } from '../../pricing/rules';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, missingParam, resourceMissing, unknownParam } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { Body, readBody } from '../validation';

const FIELDS = [
  'name',
  'priority',
  'stackable',
  'conditions',
  'action',
  'valid_from',
  'valid_until',
] as const;

function ruleFields(v: BillingRuleVersionRecord) {
  return {
    name: v.name,
    priority: v.priority,
    stackable: v.stackable,
    conditions: v.conditions,
    action: v.action,
    valid_from: v.valid_from ?? null,
    valid_until: v.valid_until ?? null,
  };
}

function versionJson(v: BillingRuleVersionRecord) {
  return {
    object: 'billing_rule_version',
    id: v.versionId,
    rule_id: v.id,
    version: v.version,
    ...ruleFields(v),
    created_at: iso(v.createdAt),
  };
}

function ruleJson(r: StoredBillingRule) {
  return {
    object: 'billing_rule',
    id: r.id,
    ...ruleFields(r.currentVersion),
    disabled_at: iso(r.disabledAt),
    current_version: versionJson(r.currentVersion),
    versions: r.versions.map(versionJson),
    created_at: iso(r.createdAt),
  };
}

/** Validates a whole rule; the first problem names its field (conditions.power_class, action.amount, ...). */
function checkRule(body: Body): BillingRuleInput {
  const { rule, problems } = checkBillingRuleInput(body);
  const problem = problems[0];
  if (problem) {
    throw problem.message === 'is not a known field'
      ? unknownParam(problem.param)
      : invalidParam(problem.param, problem.message);
  }
  return rule!;
}

/** The current version as input again, so that an edit changes only the fields it sends. */
function inputOf(v: BillingRuleVersionRecord): Body {
  const input: Body = {
    name: v.name,
    priority: v.priority,
    stackable: v.stackable,
    conditions: v.conditions,
    action: v.action,
  };
  if (v.valid_from !== undefined) input.valid_from = v.valid_from;
  if (v.valid_until !== undefined) input.valid_until = v.valid_until;
  return input;
}

const ruleDisabled = (id: string, at: Date) =>
  new ApiError(
    409,
    'invalid_request_error',
    'resource_disabled',
    `Billing rule '${id}' was disabled at ${at.toISOString()} and can no longer be edited; create a new rule.`,
  );

export function registerBillingRuleRoutes(router: Router, deps: ResolvedDeps): void {
  router.post(
    '/billing-rules',
    write(deps, async ({ db, org, principal, body: raw }) => {
      const body = readBody(raw, FIELDS);
      for (const key of ['name', 'action'] as const) {
        if (body[key] === undefined || body[key] === null) throw missingParam(key);
      }
      const rule = ruleJson(await createBillingRule(db, org.id, checkRule(body)));
      await appendAudit(db, {
        organizationId: org.id,
        actor: { type: 'member', id: principal.memberId },
        action: 'billing_rule.created',
        objectType: 'billing_rule',
        objectId: rule.id,
        after: rule,
      });
      return { status: 201, body: rule };
    }),
  );

  router.get(
    '/billing-rules',
    read(deps, async ({ db, org, query }) => {
      const status = queryString(query, 'status');
      if (status !== undefined && status !== 'active' && status !== 'disabled') {
        throw invalidParam('status', 'must be active or disabled');
      }
      const page = await listBillingRules(db, org.id, parsePage(query), {
        disabled: status === undefined ? undefined : status === 'disabled',
      });
      return { status: 200, body: listEnvelope(page, ruleJson, (r) => r.id) };
    }),
  );

  router.get(
    '/billing-rules/:id',
    read(deps, async ({ db, org, params }) => {
      const rule = await getBillingRule(db, org.id, params.id);
      if (!rule) throw resourceMissing('billing rule', params.id);
      return { status: 200, body: ruleJson(rule) };
    }),
  );

  // Editing a rule: versions are immutable, so an edit is a new version. Fields not sent carry over from the
  // current version; null removes valid_from or valid_until.
  router.post(
    '/billing-rules/:id/versions',
    write(deps, async ({ db, org, principal, params, body: raw }) => {
      const body = readBody(raw, FIELDS);
      for (const key of ['name', 'priority', 'stackable', 'conditions', 'action'] as const) {
        if (body[key] === null)
          throw invalidParam(key, 'must not be null; omit it to keep the current value');
      }
      const current = await getBillingRule(db, org.id, params.id);
      if (!current) throw resourceMissing('billing rule', params.id);
      const merged: Body = { ...inputOf(current.currentVersion), ...body };
      for (const key of ['valid_from', 'valid_until'] as const) if (merged[key] === null) delete merged[key];
      const result = await createBillingRuleVersion(db, org.id, current.id, checkRule(merged));
      if ('version' in result) {
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'billing_rule.updated',
          objectType: 'billing_rule',
          objectId: current.id,
          before: ruleJson(current),
          after: ruleJson((await getBillingRule(db, org.id, current.id))!),
        });
        return { status: 201, body: versionJson(result.version) };
      }
      if (result.refused === 'disabled') throw ruleDisabled(current.id, result.disabledAt);
      throw resourceMissing('billing rule', params.id);
    }),
  );

  // Final: a disabled rule applies to no session starting afterwards. Disabling again answers the same rule.
  router.post(
    '/billing-rules/:id/disable',
    write(deps, async ({ db, org, principal, params, body: raw }) => {
      readBody(raw, []);
      const before = await getBillingRule(db, org.id, params.id);
      const rule = await disableBillingRule(db, org.id, params.id);
      if (!before || !rule) throw resourceMissing('billing rule', params.id);
      // Disabling again changes nothing, so it is not a second entry.
      if (before.disabledAt === null) {
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'billing_rule.deleted',
          objectType: 'billing_rule',
          objectId: rule.id,
          before: ruleJson(before),
          after: ruleJson(rule),
        });
      }
      return { status: 200, body: ruleJson(rule) };
    }),
  );
}
