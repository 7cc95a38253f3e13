import type { Router } from 'express';
import { periodOf } from '../../pricing/calendar-months';
import { getPayout, listPayouts, Payout, PayoutMethod, PayoutStatus } from '../../db/repositories/payouts';
import { getProject, getSite } from '../../db/repositories/sites';
import {
  createParty,
  existingPartyIds,
  getParty,
  listParties,
  RevenueParty,
} from '../../db/repositories/revenueParties';
import {
  createShareRule,
  getShareRule,
  listShareRules,
  partyCurrencies,
  ShareRule,
  ShareSplit,
} from '../../db/repositories/revenueShareRules';
import {
  getStatement,
  isSettled,
  latestSettledPeriod,
  listStatements,
  RevenueStatement,
} from '../../db/repositories/revenueStatements';
import { isCurrency, minorUnitDigits } from '../../pricing/currency';
import { Dec } from '../../pricing/money';
import { BILLING } from '../auth';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, missingParam, resourceMissing } from '../errors';
import { act, read, write } from '../handler';
import { iso, money } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import {
  Body,
  isPlainObject,
  optionalString,
  parseDecimal,
  parsePeriod,
  readBody,
  rejectUnknownFields,
  requiredString,
} from '../validation';

// Revenue sharing: parties, the rules splitting a project's or site's revenue between them, the monthly
// statements and the payouts. Operators (owner, admin) configure parties and rules; every member reads;
// starting a payout moves money and is for owners and billing delegates.

const ACCOUNT_ID = /^acct_[A-Za-z0-9]{1,64}$/;
const MAX_SPLITS = 50;
const PAYOUT_STATUSES: readonly PayoutStatus[] = ['pending', 'paid', 'failed'];
const PAYOUT_METHODS: readonly PayoutMethod[] = ['transfer', 'bank_export'];

const partyJson = (p: RevenueParty) => ({
  object: 'revenue_party',
  id: p.id,
  name: p.name,
  connected_account_id: p.connectedAccountId,
  iban: p.iban,
  payout_method: p.connectedAccountId ? 'transfer' : 'bank_export',
  created_at: iso(p.createdAt),
});

const ruleJson = (r: ShareRule) => ({
  object: 'revenue_share_rule',
  id: r.id,
  project_id: r.projectId,
  site_id: r.siteId,
  currency: r.currency,
  minimum_payout: money(r.minimumPayout, r.currency),
  effective_from: r.effectiveFrom,
  active: r.active,
  deactivated_at: iso(r.deactivatedAt),
  splits: r.splits.map((s) => ({ party_id: s.partyId, percent: s.percent })),
  created_at: iso(r.createdAt),
});

function statementJson(s: RevenueStatement) {
  const m = (v: string) => money(v, s.currency);
  return {
    object: 'revenue_statement',
    id: s.id,
    party_id: s.partyId,
    period: s.period,
    currency: s.currency,
    carried_in: m(s.carriedIn),
    base_amount: m(s.baseAmount),
    adjustments: m(s.adjustments),
    balance: m(s.balance),
    minimum_payout: m(s.minimumPayout),
    payout_amount: m(s.payoutAmount),
    carried_out: m(s.carriedOut),
    // Per rule: its total of the month (base, or credits of sessions shared before), the party's percent and part.
    lines: s.lines.map((l) => ({
      rule_id: l.ruleId,
      kind: l.kind,
      rule_amount: m(l.ruleAmount),
      percent: l.percent,
      amount: m(l.amount),
    })),
    created_at: iso(s.createdAt),
  };
}

const payoutJson = (p: Payout) => ({
  object: 'payout',
  id: p.id,
  party_id: p.partyId,
  statement_id: p.statementId,
  period: p.period,
  amount: money(p.amount, p.currency),
  currency: p.currency,
  method: p.method,
  destination: p.destination,
  status: p.status,
  provider_transfer_id: p.providerTransferId,
  failure_message: p.failureMessage,
  created_at: iso(p.createdAt),
  paid_at: iso(p.paidAt),
});

function queryPeriod(query: Record<string, unknown>): string | undefined {
  const raw = queryString(query, 'period');
  return raw === undefined ? undefined : parsePeriod(raw, 'period');
}

function queryEnum<T extends string>(query: Record<string, unknown>, param: string, values: readonly T[]) {
  const raw = queryString(query, param);
  if (raw !== undefined && !(values as readonly string[]).includes(raw)) {
    throw invalidParam(param, `must be one of ${values.join(', ')}`);
  }
  return raw as T | undefined;
}

/** An IBAN without spaces, upper case, with a valid ISO 13616 check (mod 97). */
function readIban(body: Body): string | null {
  const raw = optionalString(body, 'iban', { max: 50, trim: true });
  if (raw === undefined) return null;
  const iban = raw.replace(/\s+/g, '').toUpperCase();
  const message = 'must be an IBAN such as DE89 3704 0044 0532 0130 00';
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) throw invalidParam('iban', message);
  const digits = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  if (rest !== 1) throw invalidParam('iban', `${message} (its check digits do not match)`);
  return iban;
}

const PERCENT_RANGE = 'must be greater than 0 and at most 100';

function readPercent(raw: unknown, param: string): string {
  if ((typeof raw === 'number' && raw < 0) || (typeof raw === 'string' && raw.trim().startsWith('-'))) {
    throw invalidParam(param, PERCENT_RANGE);
  }
  const percent = parseDecimal(raw, param, { maxDecimals: 4, maxIntegerDigits: 3 });
  if (new Dec(percent).lte(0) || new Dec(percent).gt(100)) throw invalidParam(param, PERCENT_RANGE);
  return percent;
}

/** The splits' shape and arithmetic; the parties' existence is checked against the database afterwards. */
function readSplits(body: Body): ShareSplit[] {
  const raw = body.splits;
  if (raw === undefined || raw === null) throw missingParam('splits');
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_SPLITS) {
    throw invalidParam('splits', `must be a list of 1 to ${MAX_SPLITS} splits { party_id, percent }`);
  }
  const seen = new Set<string>();
  const splits = raw.map((item: unknown, i) => {
    const path = `splits[${i}]`;
    if (!isPlainObject(item)) throw invalidParam(path, 'must be an object { party_id, percent }');
    rejectUnknownFields(item, ['party_id', 'percent'], path);
    const partyId = requiredString(item, 'party_id', { max: 255 });
    if (seen.has(partyId)) {
      throw invalidParam(
        `${path}.party_id`,
        `names party ${partyId} a second time; give each party one split`,
      );
    }
    seen.add(partyId);
    if (item.percent === undefined || item.percent === null) throw missingParam(`${path}.percent`);
    return { partyId, percent: readPercent(item.percent, `${path}.percent`) };
  });
  const sum = splits.reduce((s, p) => s.add(p.percent), new Dec(0));
  if (!sum.eq(100)) {
    throw invalidParam('splits', `must add up to exactly 100 %; these add up to ${sum.toFixed()} %`);
  }
  return splits;
}

export function registerRevenueSharingRoutes(router: Router, deps: ResolvedDeps): void {
  router.post(
    '/revenue-parties',
    write(deps, async ({ db, org, body: raw }) => {
      const body = readBody(raw, ['name', 'connected_account_id', 'iban']);
      const name = requiredString(body, 'name', { max: 200, trim: true });
      const connectedAccountId =
        optionalString(body, 'connected_account_id', {
          max: 100,
          pattern: ACCOUNT_ID,
          patternMessage: 'must be a Stripe connected account id such as acct_1Nv0FGQ9RKHgCVdK',
        }) ?? null;
      const iban = readIban(body);
      return {
        status: 201,
        body: partyJson(await createParty(db, org.id, { name, connectedAccountId, iban })),
      };
    }),
  );

  router.get(
    '/revenue-parties',
    read(deps, async ({ db, org, query }) => {
      const page = await listParties(db, org.id, parsePage(query));
      return { status: 200, body: listEnvelope(page, partyJson, (p) => p.id) };
    }),
  );

  router.get(
    '/revenue-parties/:id',
    read(deps, async ({ db, org, params }) => {
      const party = await getParty(db, org.id, params.id);
      if (!party) throw resourceMissing('revenue party', params.id);
      return { status: 200, body: partyJson(party) };
    }),
  );

  // A rule for a project or site that has an active rule replaces it: sessions not shared yet go by the new
  // splits, sessions shared already keep the old ones (for refunds that come later).
  router.post(
    '/revenue-share-rules',
    write(deps, async ({ db, org, body: raw }) => {
      const body = readBody(raw, [
        'project_id',
        'site_id',
        'currency',
        'minimum_payout',
        'effective_from',
        'splits',
      ]);
      const projectId = optionalString(body, 'project_id', { max: 255 }) ?? null;
      const siteId = optionalString(body, 'site_id', { max: 255 }) ?? null;
      if (projectId && siteId) throw invalidParam('site_id', 'must not be given together with project_id');
      if (!projectId && !siteId) {
        throw new ApiError(
          400,
          'invalid_request_error',
          'parameter_missing',
          'project_id or site_id is required',
          'project_id',
        );
      }
      const currency = optionalString(body, 'currency', { max: 3 }) ?? org.currency;
      if (!isCurrency(currency))
        throw invalidParam('currency', 'must be an ISO 4217 currency code such as EUR');
      const minimumPayout =
        body.minimum_payout === undefined || body.minimum_payout === null
          ? '0'
          : parseDecimal(body.minimum_payout, 'minimum_payout', {
              maxDecimals: minorUnitDigits(currency),
              maxIntegerDigits: 12,
            });
      const effectiveFrom =
        body.effective_from === undefined || body.effective_from === null
          ? periodOf(org.timeZone, new Date())
          : parsePeriod(body.effective_from, 'effective_from');
      const splits = readSplits(body);

      if (projectId && !(await getProject(db, org.id, projectId))) {
        throw resourceMissing('project', projectId, 'project_id');
      }
      if (siteId && !(await getSite(db, org.id, siteId))) throw resourceMissing('site', siteId, 'site_id');
      const partyIds = splits.map((s) => s.partyId);
      const known = await existingPartyIds(db, org.id, partyIds);
      const unknown = partyIds.findIndex((id) => !known.has(id));
      if (unknown !== -1) {
        throw resourceMissing('revenue party', partyIds[unknown], `splits[${unknown}].party_id`);
      }
      // A party's statements never mix currencies.
      const currencies = await partyCurrencies(db, partyIds);
      const other = partyIds.findIndex((id) => (currencies.get(id) ?? currency) !== currency);
      if (other !== -1) {
        throw invalidParam(
          `splits[${other}].party_id`,
          `is paid in ${currencies.get(partyIds[other])} under its other rules; a party is paid in one currency`,
        );
      }
      const rule = await createShareRule(
        db,
        org.id,
        { projectId, siteId, currency, minimumPayout, effectiveFrom, splits },
        new Date(),
      );
      return { status: 201, body: ruleJson(rule) };
    }),
  );

  router.get(
    '/revenue-share-rules',
    read(deps, async ({ db, org, query }) => {
      const active = queryEnum(query, 'active', ['true', 'false'] as const);
      const page = await listShareRules(
        db,
        org.id,
        {
          projectId: queryString(query, 'project_id'),
          siteId: queryString(query, 'site_id'),
          partyId: queryString(query, 'party_id'),
          active: active === undefined ? undefined : active === 'true',
        },
        parsePage(query),
      );
      return { status: 200, body: listEnvelope(page, ruleJson, (r) => r.id) };
    }),
  );

  router.get(
    '/revenue-share-rules/:id',
    read(deps, async ({ db, org, params }) => {
      const rule = await getShareRule(db, org.id, params.id);
      if (!rule) throw resourceMissing('revenue share rule', params.id);
      return { status: 200, body: ruleJson(rule) };
    }),
  );

  router.get(
    '/revenue-statements',
    read(deps, async ({ db, org, query }) => {
      const filter = { partyId: queryString(query, 'party_id'), period: queryPeriod(query) };
      const page = await listStatements(db, org.id, filter, parsePage(query));
      return { status: 200, body: listEnvelope(page, statementJson, (s) => s.id) };
    }),
  );

  router.get(
    '/revenue-statements/:id',
    read(deps, async ({ db, org, params }) => {
      const statement = await getStatement(db, org.id, params.id);
      if (!statement) throw resourceMissing('revenue statement', params.id);
      return { status: 200, body: statementJson(statement) };
    }),
  );

  // Pending bank_export payouts are the operator's bank-transfer export: ?method=bank_export&status=pending.
  router.get(
    '/payouts',
    read(deps, async ({ db, org, query }) => {
      const filter = {
        partyId: queryString(query, 'party_id'),
        period: queryPeriod(query),
        status: queryEnum(query, 'status', PAYOUT_STATUSES),
        method: queryEnum(query, 'method', PAYOUT_METHODS),
      };
      const page = await listPayouts(db, org.id, filter, parsePage(query));
      return { status: 200, body: listEnvelope(page, payoutJson, (p) => p.id) };
    }),
  );

  router.get(
    '/payouts/:id',
    read(deps, async ({ db, org, params }) => {
      const payout = await getPayout(db, org.id, params.id);
      if (!payout) throw resourceMissing('payout', params.id);
      return { status: 200, body: payoutJson(payout) };
    }),
  );

  // Starts payout:<party_id>:<yyyy-mm> for a month that has ended. Its statement is made (the organization's
  // month settled) on first sight; running it again answers the same statement and pays nothing twice.
  router.post(
    '/revenue-parties/:id/payouts',
    act(
      deps,
      async ({ db, org, params, body: raw }) => {
        const body = readBody(raw, ['period']);
        const period = parsePeriod(requiredString(body, 'period', { max: 7 }), 'period');
        const party = await getParty(db, org.id, params.id);
        if (!party) throw resourceMissing('revenue party', params.id);
        if (period >= periodOf(org.timeZone, new Date())) {
          throw invalidParam('period', 'must be a month that has ended');
        }
        // The same refusal as the workflow's, answered before anything starts.
        if (!(await isSettled(db, org.id, period))) {
          const settled = await latestSettledPeriod(db, org.id);
          if (settled !== undefined && settled > period) {
            throw new ApiError(
              409,
              'invalid_request_error',
              'period_out_of_order',
              `Revenue of ${settled} is settled already, so ${period} can no longer be: its sessions were shared on the later statements.`,
              'period',
            );
          }
        }
        if (!deps.payouts) {
          throw new ApiError(503, 'api_error', 'workflows_unavailable', 'Payouts need the workflow service.');
        }
        const workflowId = await deps.payouts.start(org, party.id, period);
        return {
          status: 202,
          body: { object: 'payout_run', party_id: party.id, period, workflow_id: workflowId },
        };
      },
      BILLING,
    ),
  );
}
