import type { Router } from 'express';
import {
  SESSION_STATUSES,
  SessionStatus,
  SessionView,
  getSessionView,
  listSessionViews,
} from '../../db/repositories/sessionViews';
import { Dec } from '../../pricing/money';
import type { LineSource, PricedLine, PricedSession } from '../../pricing/session-price';
import type { RuleRef } from '../../pricing/rule-evaluation';
import type { RunningCost } from '../../workflows/charging-session/messages';
import type { ResolvedDeps } from '../deps';
import { invalidParam, resourceMissing } from '../errors';
import { read } from '../handler';
import { decimal, iso, money } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';

const LIVE: readonly SessionStatus[] = ['starting', 'active'];

const ruleJson = (r: RuleRef) => ({
  rule_id: r.ruleId,
  version_id: r.versionId,
  version: r.version,
  name: r.name,
});

/** Where a line's amount came from: a tariff element (with the rules that changed it), a rule or a code. */
function sourceJson(source: LineSource | null) {
  if (!source) return null;
  switch (source.type) {
    case 'tariff':
      return {
        type: 'tariff',
        tariff_version_id: source.tariffVersionId,
        tariff_version: source.tariffVersion,
        element: source.element,
        rules: source.rules.map(ruleJson),
      };
    case 'billing_rule':
      return { type: 'billing_rule', ...ruleJson(source) };
    case 'promotion':
      return { type: 'promotion', promotional_code_id: source.promotionalCodeId, code: source.code };
  }
}

const lineJson = (l: PricedLine) => ({
  component: l.component,
  kind: l.kind,
  description: l.description,
  quantity: l.quantity,
  unit: l.unit,
  unit_price: l.unitPrice,
  vat_rate: l.vatRate,
  amount: l.amount,
  vat_amount: l.vatAmount,
  amount_incl_vat: l.amountInclVat,
  source: sourceJson(l.source),
});

/** The explanation of a price: the same JSON for the running cost, the quote and the receipt. */
export function pricedJson(p: PricedSession) {
  return {
    currency: p.currency,
    tariff_version_id: p.tariffVersionId,
    energy_kwh: p.energyKwh,
    duration_seconds: p.durationSeconds,
    charging_seconds: p.chargingSeconds,
    idle_seconds: p.idleSeconds,
    lines: p.lines.map(lineJson),
    total_excl_vat: p.totalExclVat,
    total_vat: p.totalVat,
    total: p.total,
    applied_rules: p.appliedRules.map((r) => ({ ...ruleJson(r), action: r.action, reasons: r.reasons })),
    promotion: p.promotion && {
      promotional_code_id: p.promotion.promotionalCodeId,
      code: p.promotion.code,
      applied: p.promotion.applied,
      reason: p.promotion.reason,
    },
    rejected_readings: p.rejectedReadings,
  };
}

function runningCostJson(cost: RunningCost) {
  const p = cost.priced;
  return {
    phase: cost.phase,
    as_of: cost.asOf,
    priced: p && pricedJson(p),
  };
}

interface StoredPricing {
  applied_rules: PricedSession['appliedRules'];
  promotion: PricedSession['promotion'];
  rejected_readings: PricedSession['rejectedReadings'];
  ocpi: PricedSession['ocpi'];
}

function receiptPricingJson(p: StoredPricing | null) {
  if (!p) return null;
  return {
    applied_rules: p.applied_rules.map((r) => ({ ...ruleJson(r), action: r.action, reasons: r.reasons })),
    promotion: p.promotion && {
      promotional_code_id: p.promotion.promotionalCodeId,
      code: p.promotion.code,
      applied: p.promotion.applied,
      reason: p.promotion.reason,
    },
    rejected_readings: p.rejected_readings,
    ocpi: p.ocpi,
  };
}

function exemptionSummaryJson(e: SessionView['exemption']) {
  if (!e) return null;
  return {
    id: e.id,
    status: e.status,
    amount: decimal(e.amount),
    reversal: e.reversal,
    amount_reversed: decimal(e.amount_reversed),
    credit_note: e.credit_note_id ? { id: e.credit_note_id, number: e.credit_note_number } : null,
  };
}

function receiptJson(view: SessionView['receipt'], exemption: SessionView['exemption']) {
  if (!view) return null;
  const { receipt: r, lines } = view;
  return {
    object: 'receipt',
    id: r.id,
    number: r.number,
    currency: r.currency,
    lines: lines.map((l) => ({
      component: l.component,
      kind: l.kind,
      description: l.description,
      quantity: decimal(l.quantity),
      unit: l.unit,
      unit_price: decimal(l.unit_price),
      vat_rate: decimal(l.vat_rate),
      amount: money(l.amount, r.currency),
      vat_amount: money(l.vat_amount, r.currency),
      amount_incl_vat: money(l.amount_incl_vat, r.currency),
      source: sourceJson(l.source as LineSource | null),
    })),
    total_excl_vat: money(r.total_excl_vat, r.currency),
    total_vat: money(r.total_vat, r.currency),
    total: money(r.total, r.currency),
    pricing: receiptPricingJson(r.pricing as StoredPricing | null),
    amount_paid: money(r.amount_paid, r.currency),
    amount_due: money(r.amount_due, r.currency),
    payment_status: r.payment_status,
    paid_with: r.paid_with ?? null,
    // An approved exemption credits this receipt through its credit note; the receipt itself never changes.
    exemption: exemption?.status === 'approved' ? exemptionSummaryJson(exemption) : null,
    issued_at: iso(r.issued_at),
  };
}

function paymentJson(p: SessionView['payment']) {
  if (!p) return null;
  return {
    object: 'payment',
    id: p.id,
    provider: p.provider,
    provider_payment_id: p.provider_payment_id,
    status: p.status,
    currency: p.currency,
    amount_authorized: money(p.amount_authorized, p.currency),
    amount_captured: money(p.amount_captured, p.currency),
    failure_code: p.failure_code,
    failure_message: p.failure_message,
  };
}

function sessionJson(view: SessionView) {
  const s = view.session;
  return {
    object: 'charging_session',
    id: s.id,
    status: s.status,
    status_reason: s.status_reason,
    charge_point_id: s.charge_point_id,
    charge_point_identity: s.charge_point_identity,
    connector_id: s.connector_id,
    transaction_id: s.transaction_id,
    id_tag: s.id_tag,
    user_id: s.user_id,
    tariff_version_id: s.tariff_version_id,
    currency: s.currency,
    meter_start_wh: decimal(s.meter_start_wh),
    meter_stop_wh: decimal(s.meter_stop_wh),
    energy_kwh: s.energy_wh === null ? null : new Dec(s.energy_wh).div(1000).toFixed(3),
    duration_seconds: s.duration_seconds,
    total_amount: money(s.total_amount, s.currency),
    started_at: iso(s.started_at),
    stopped_at: iso(s.stopped_at),
    stop_reason: s.stop_reason,
    exemption: exemptionSummaryJson(view.exemption),
    receipt: receiptJson(view.receipt, view.exemption),
    payment: paymentJson(view.payment),
  };
}

/**
 * The live cost comes from the session's workflow. The session record is worth answering without it, so a
 * workflow that is slow, gone or unreachable yields null (and a warning) rather than a failed request.
 */
async function liveCost(deps: ResolvedDeps, view: SessionView) {
  if (!LIVE.includes(view.session.status)) return null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), deps.runningCostTimeoutMs);
  });
  try {
    const cost = await Promise.race([deps.runningCost(view.session.workflow_id), timeout]);
    if (cost === undefined) {
      deps.log.warn('running cost unavailable', {
        sessionId: view.session.id,
        workflowId: view.session.workflow_id,
      });
      return null;
    }
    return runningCostJson(cost);
  } catch (err) {
    deps.log.warn('running cost query failed', { sessionId: view.session.id, err });
    return null;
  } finally {
    clearTimeout(timer);
  }
}

export function registerSessionRoutes(router: Router, deps: ResolvedDeps): void {
  // Lists leave out running_cost: it is a workflow query per live session; GET /sessions/:id has it.
  router.get(
    '/sessions',
    read(deps, async ({ db, org, query }) => {
      const status = queryString(query, 'status');
      if (status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(status)) {
        throw invalidParam('status', `must be one of ${SESSION_STATUSES.join(', ')}`);
      }
      // ?charge_point_id=...&status=active is what a charge point is doing now.
      const page = await listSessionViews(db, org.id, parsePage(query), {
        status: status as SessionStatus | undefined,
        chargePointId: queryString(query, 'charge_point_id'),
      });
      return { status: 200, body: listEnvelope(page, sessionJson, (v) => v.session.id) };
    }),
  );

  router.get(
    '/sessions/:id',
    read(deps, async ({ db, org, params }) => {
      const view = await getSessionView(db, org.id, params.id);
      if (!view) throw resourceMissing('session', params.id);
      const { receipt, payment, ...rest } = sessionJson(view);
      return { status: 200, body: { ...rest, running_cost: await liveCost(deps, view), receipt, payment } };
    }),
  );
}
