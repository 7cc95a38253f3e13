import type { Router } from 'express';
import { appendAudit } from '../../db/repositories/auditLog';
import { getDebt, listDebts, markDebtPaid, type Debt } from '../../db/repositories/debts';
import { recordMovement } from '../../db/repositories/paymentMovements';
import { fromMinorUnits, toMinorUnits } from '../../pricing/money';
import { upsertPayment } from '../../db/repositories/payments';
import {
  deleteHoldPolicy,
  type HoldPolicy,
  listHoldPolicies,
  putHoldPolicy,
} from '../../db/repositories/holdPolicies';
import { sessionMovements, type Movement } from '../../db/repositories/paymentMovements';
import { isCurrency, minorUnitDigits } from '../../pricing/currency';
import { Dec } from '../../pricing/money';
import { OPERATORS } from '../auth';
import { cardToCharge, chargeCard } from '../card-charges';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, missingParam, resourceMissing } from '../errors';
import { act, read, write } from '../handler';
import { iso, money } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { optionalEnum, optionalString, parseDecimal, readBody, requiredString } from '../validation';

// Hold policies (how much a session holds and what happens at the limit), a session's payment timeline and
// drivers' debts. Operators (owner, admin) set policies; every member reads.

const policyJson = (p: HoldPolicy) => ({
  object: 'hold_policy',
  id: p.id,
  charge_point_id: p.chargePointId,
  site_id: p.siteId,
  power_class: p.powerClass,
  user_type: p.userType,
  amount: money(p.amount, p.currency),
  currency: p.currency,
  increment_at_percent: p.incrementAtPercent,
  on_limit: p.onLimit,
  created_at: iso(p.createdAt),
  updated_at: iso(p.updatedAt),
});

const movementJson = (m: Movement) => ({
  object: 'payment_movement',
  id: m.id,
  kind: m.kind,
  status: m.status,
  amount: money(m.amount, m.currency),
  amount_minor: m.amountMinor,
  currency: m.currency,
  payment_id: m.paymentId,
  provider_reference: m.providerReference,
  idempotency_key: m.idempotencyKey,
  detail: m.detail,
  created_at: iso(m.createdAt),
});

export const debtJson = (d: Debt) => ({
  object: 'debt',
  id: d.id,
  user_id: d.userId,
  session_id: d.sessionId,
  amount: money(d.amount, d.currency),
  currency: d.currency,
  status: d.status,
  reason: d.reason,
  paid_with: d.paidWith,
  created_at: iso(d.createdAt),
  paid_at: iso(d.paidAt),
});

export function registerPaymentRoutes(router: Router, deps: ResolvedDeps): void {
  router.get(
    '/hold-policies',
    read(deps, async ({ db, org }) => {
      const policies = await listHoldPolicies(db, org.id);
      return {
        status: 200,
        body: { object: 'list', data: policies.map(policyJson), has_more: false, next_cursor: null },
      };
    }),
  );

  // One policy per scope: PUT sets the scope's policy, replacing the one it had.
  router.put(
    '/hold-policies',
    write(
      deps,
      async ({ db, org, principal, body: raw }) => {
        const body = readBody(raw, [
          'charge_point_id',
          'site_id',
          'power_class',
          'user_type',
          'amount',
          'currency',
          'increment_at_percent',
          'on_limit',
        ]);
        const chargePointId = optionalString(body, 'charge_point_id', { max: 64 }) ?? null;
        const siteId = optionalString(body, 'site_id', { max: 64 }) ?? null;
        const powerClass = optionalEnum(body, 'power_class', ['AC', 'DC'] as const) ?? null;
        const userType = optionalString(body, 'user_type', { max: 100 }) ?? null;
        if ([chargePointId, siteId, powerClass].filter((v) => v !== null).length > 1) {
          throw invalidParam(
            'charge_point_id',
            'give at most one of charge_point_id, site_id and power_class',
          );
        }
        const currency = requiredString(body, 'currency', { max: 3 }).toUpperCase();
        if (!isCurrency(currency))
          throw invalidParam('currency', 'must be an ISO 4217 currency code, e.g. EUR');
        if (body.amount === undefined || body.amount === null) throw missingParam('amount');
        const amount = parseDecimal(body.amount, 'amount', {
          maxDecimals: minorUnitDigits(currency),
          maxIntegerDigits: 6,
          positive: true,
        });
        if (new Dec(amount).lte(0)) throw invalidParam('amount', 'must be greater than 0');
        const percent =
          body.increment_at_percent === undefined || body.increment_at_percent === null
            ? '80'
            : parseDecimal(body.increment_at_percent, 'increment_at_percent', {
                maxDecimals: 2,
                maxIntegerDigits: 3,
              });
        if (new Dec(percent).lte(0) || new Dec(percent).gt(100)) {
          throw invalidParam('increment_at_percent', 'must be greater than 0 and at most 100');
        }
        const onLimit = optionalEnum(body, 'on_limit', ['stop', 'charge_after'] as const) ?? 'charge_after';
        if (
          chargePointId &&
          !(await db('charge_points').where({ organization_id: org.id, id: chargePointId }).first('id'))
        ) {
          throw resourceMissing('charge_point', chargePointId, 'charge_point_id');
        }
        if (siteId && !(await db('sites').where({ organization_id: org.id, id: siteId }).first('id'))) {
          throw resourceMissing('site', siteId, 'site_id');
        }
        if (
          userType &&
          !(await db('user_types').where({ organization_id: org.id, name: userType }).first('name'))
        ) {
          throw resourceMissing('user_type', userType, 'user_type');
        }
        const { policy, previous } = await putHoldPolicy(
          db,
          org.id,
          { chargePointId, siteId, powerClass, userType },
          { amount, currency, incrementAtPercent: percent, onLimit },
        );
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'hold_policy.set',
          objectType: 'hold_policy',
          objectId: policy.id,
          before: previous && policyJson(previous),
          after: policyJson(policy),
        });
        return { status: 200, body: policyJson(policy) };
      },
      OPERATORS,
    ),
  );

  router.delete(
    '/hold-policies/:id',
    write(
      deps,
      async ({ db, org, principal, params }) => {
        const deleted = await deleteHoldPolicy(db, org.id, params.id);
        if (!deleted) throw resourceMissing('hold_policy', params.id);
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'hold_policy.deleted',
          objectType: 'hold_policy',
          objectId: deleted.id,
          before: policyJson(deleted),
        });
        return { status: 200, body: { ...policyJson(deleted), deleted: true } };
      },
      OPERATORS,
    ),
  );

  router.get(
    '/sessions/:id/payment-timeline',
    read(deps, async ({ db, org, params }) => {
      const session = await db('charging_sessions')
        .where({ organization_id: org.id, id: params.id })
        .first('id');
      if (!session) throw resourceMissing('session', params.id);
      const movements = await sessionMovements(db, org.id, params.id);
      return {
        status: 200,
        body: { object: 'list', data: movements.map(movementJson), has_more: false, next_cursor: null },
      };
    }),
  );

  router.get(
    '/debts',
    read(deps, async ({ db, org, query }) => {
      const status = queryString(query, 'status');
      if (status !== undefined && status !== 'open' && status !== 'paid')
        throw invalidParam('status', 'must be open or paid');
      const page = await listDebts(
        db,
        org.id,
        { userId: queryString(query, 'user_id'), status },
        parsePage(query),
      );
      return { status: 200, body: listEnvelope(page, debtJson, (d) => d.id) };
    }),
  );

  router.get(
    '/debts/:id',
    read(deps, async ({ db, org, params }) => {
      const debt = await getDebt(db, org.id, params.id);
      if (!debt) throw resourceMissing('debt', params.id);
      return { status: 200, body: debtJson(debt) };
    }),
  );

  // The driver settles a debt with a card they give now; once paid, their next Authorize is accepted again.
  router.post(
    '/debts/:id/pay',
    act(
      deps,
      async ({ db, org, principal, params, body: raw }) => {
        const body = readBody(raw ?? {}, ['payment_method_id']);
        const debt = await getDebt(db, org.id, params.id);
        if (!debt) throw resourceMissing('debt', params.id);
        if (debt.status !== 'open') {
          throw new ApiError(
            409,
            'invalid_request_error',
            'debt_not_open',
            `Debt ${debt.id} is already ${debt.status}.`,
          );
        }
        const user = await db('users').where({ organization_id: org.id, id: debt.userId }).first();
        const paymentMethodId = cardToCharge(body, user?.payment_method_id);
        const key = `debt:${debt.id}:pay:${paymentMethodId}`;
        const amount = money(debt.amount, debt.currency)!;
        const charged = await chargeCard(deps, db, {
          organizationId: org.id,
          sessionId: debt.sessionId,
          userId: debt.userId,
          customerId: user?.payment_customer_id ?? null,
          paymentMethodId,
          amount,
          currency: debt.currency,
          idempotencyKey: key,
          kind: 'debt_payment',
          description: `Debt ${debt.id} for session ${debt.sessionId}`,
          metadata: { debt_id: debt.id, session_id: debt.sessionId, organization_id: org.id },
        });
        await recordMovement(db, {
          organizationId: org.id,
          sessionId: debt.sessionId,
          userId: debt.userId,
          kind: 'debt_payment',
          status: 'succeeded',
          amount,
          amountMinor: toMinorUnits(debt.amount, debt.currency),
          currency: debt.currency,
          providerReference: charged.paymentId,
          idempotencyKey: key,
        });
        const paid = await db.transaction(async (trx) => {
          const updated = await markDebtPaid(trx, debt.id, charged.paymentId);
          await appendAudit(trx, {
            organizationId: org.id,
            actor: { type: 'member', id: principal.memberId },
            action: 'debt.paid',
            objectType: 'debt',
            objectId: debt.id,
            before: debtJson(debt),
            after: updated && debtJson(updated),
          });
          return updated;
        });
        return { status: 200, body: debtJson(paid ?? debt) };
      },
      OPERATORS,
    ),
  );

  // A contactless terminal authorized the driver's card for this session; the session captures it at its end
  // through the same port. The authorization must be a hold in the session's currency, not yet captured.
  router.post(
    '/sessions/:id/terminal-payment',
    act(
      deps,
      async ({ db, org, params, body: raw }) => {
        const body = readBody(raw, ['authorization_reference']);
        const reference = requiredString(body, 'authorization_reference', {
          max: 255,
          pattern: /^pi_[A-Za-z0-9_]+$/,
          patternMessage: 'must be the payment id the terminal answered (pi_...)',
        });
        const session = await db('charging_sessions')
          .where({ organization_id: org.id, id: params.id })
          .first();
        if (!session) throw resourceMissing('session', params.id);
        if (session.payment_mode !== 'terminal' || !['starting', 'active'].includes(session.status)) {
          throw new ApiError(
            409,
            'invalid_request_error',
            'session_not_awaiting_terminal',
            `Session ${session.id} is not a running terminal-paid session.`,
          );
        }
        const { payments, sessions } = deps;
        if (!payments || !sessions)
          throw new ApiError(503, 'api_error', 'payments_unavailable', 'Payments are not configured here.');
        const held = (await payments.capabilities(reference)).payment;
        if (!held || held.status !== 'authorized' || held.currency.toUpperCase() !== session.currency) {
          throw invalidParam('authorization_reference', `must be an uncaptured hold in ${session.currency}`);
        }
        const amountAuthorized = money(
          fromMinorUnits(held.amountCapturableMinor, session.currency).toFixed(),
          session.currency,
        )!;
        const payment = await upsertPayment(db, {
          organizationId: org.id,
          sessionId: session.id,
          provider: payments.name,
          providerPaymentId: reference,
          status: 'authorized',
          currency: session.currency,
          amountAuthorized,
        });
        await recordMovement(db, {
          organizationId: org.id,
          sessionId: session.id,
          paymentId: payment.id,
          kind: 'authorization',
          status: 'succeeded',
          amount: amountAuthorized,
          amountMinor: held.amountCapturableMinor,
          currency: session.currency,
          providerReference: reference,
          idempotencyKey: `terminal:${session.id}:${reference}`,
          detail: { method: 'terminal' },
        });
        if (
          !(await sessions.linkTerminalPayment(session.workflow_id, {
            paymentId: reference,
            amountAuthorized,
            currency: session.currency,
          }))
        ) {
          throw new ApiError(
            409,
            'invalid_request_error',
            'session_not_running',
            `Session ${session.id} has ended.`,
          );
        }
        return {
          status: 200,
          body: {
            object: 'terminal_payment',
            session_id: session.id,
            authorization_reference: reference,
            amount_authorized: amountAuthorized,
          },
        };
      },
      OPERATORS,
    ),
  );

  // What the driver pays with: the saved card (its brand and last four digits as the provider last
  // reported them on an authorization), and whether it can be charged off-session (a saved customer).
  router.get(
    '/users/:id/payment-methods',
    read(deps, async ({ db, org, params }) => {
      const user = await db('users').where({ organization_id: org.id, id: params.id }).first();
      if (!user) throw resourceMissing('user', params.id);
      const data = [];
      if (user.payment_method_id) {
        const seen = await db('payment_movements as m')
          .join('charging_sessions as s', 's.id', 'm.session_id')
          .where({ 's.user_id': user.id, 'm.kind': 'authorization', 'm.status': 'succeeded' })
          .whereRaw("m.detail -> 'card' IS NOT NULL")
          .orderBy('m.seq', 'desc')
          .first('m.detail');
        const card = (seen?.detail as { card?: { brand: string; last4: string } } | undefined)?.card;
        data.push({
          object: 'payment_method',
          id: user.payment_method_id,
          type: 'card',
          default: true,
          brand: card?.brand ?? null,
          last4: card?.last4 ?? null,
          off_session: user.payment_customer_id !== null,
        });
      }
      return { status: 200, body: { object: 'list', data, has_more: false, next_cursor: null } };
    }),
  );
}
