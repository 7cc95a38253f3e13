// The Stripe API paths the fake serves, mapped to its stores. Handlers are synchronous: a request executes
// completely before the next one starts, which is what makes the fake's state and event order deterministic.
import { type EventStore } from './events';
import { type FormObject } from './form-body';
import { type Ledger } from './ledger';
import { type PaymentIntentStore } from './payment-intents';
import { type RefundStore } from './refunds';
import { type TransferStore } from './transfers';

export type RouteHandler = (params: FormObject, id: string) => object;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: RouteHandler;
  /** The object the path's id names, as Stripe spells it in a 404, and the path parameter's name. */
  object?: { kind: string; param: string };
}

export interface Stores {
  intents: PaymentIntentStore;
  refunds: RefundStore;
  transfers: TransferStore;
  ledger: Ledger;
  events: EventStore;
}

const intentObject = { kind: 'payment_intent', param: 'intent' };

/** GET /v1/<name> and GET /v1/<name>/{id}. */
function readable(
  name: string,
  object: { kind: string; param: string },
  list: RouteHandler,
  retrieve: RouteHandler,
): Route[] {
  return [
    { method: 'GET', pattern: new RegExp(`^/v1/${name}$`), handler: list },
    { method: 'GET', pattern: new RegExp(`^/v1/${name}/([^/]+)$`), handler: retrieve, object },
  ];
}

export function stripeRoutes(s: Stores): Route[] {
  return [
    { method: 'POST', pattern: /^\/v1\/payment_intents$/, handler: (p) => s.intents.create(p) },
    ...readable(
      'payment_intents',
      intentObject,
      (p) => s.intents.list(p),
      (p, id) => s.intents.retrieve(id, p),
    ),
    {
      method: 'POST',
      pattern: /^\/v1\/payment_intents\/([^/]+)\/capture$/,
      handler: (p, id) => s.intents.capture(id, p),
      object: intentObject,
    },
    {
      method: 'POST',
      pattern: /^\/v1\/payment_intents\/([^/]+)\/increment_authorization$/,
      handler: (p, id) => s.intents.increment(id, p),
      object: intentObject,
    },
    {
      method: 'POST',
      pattern: /^\/v1\/payment_intents\/([^/]+)\/cancel$/,
      handler: (p, id) => s.intents.cancel(id, p),
      object: intentObject,
    },
    { method: 'POST', pattern: /^\/v1\/refunds$/, handler: (p) => s.refunds.create(p) },
    ...readable(
      'refunds',
      { kind: 'refund', param: 'refund' },
      (p) => s.refunds.list(p),
      (p, id) => s.refunds.retrieve(id, p),
    ),
    { method: 'POST', pattern: /^\/v1\/transfers$/, handler: (p) => s.transfers.create(p) },
    {
      method: 'GET',
      pattern: /^\/v1\/transfers\/([^/]+)$/,
      handler: (p, id) => s.transfers.retrieve(id, p),
      object: { kind: 'transfer', param: 'transfer' },
    },
    ...readable(
      'charges',
      { kind: 'charge', param: 'charge' },
      (p) => s.ledger.charges.list(p),
      (p, id) => s.ledger.charges.retrieve(id, p),
    ),
    ...readable(
      'disputes',
      { kind: 'dispute', param: 'dispute' },
      (p) => s.ledger.disputes.list(p),
      (p, id) => s.ledger.disputes.retrieve(id, p),
    ),
    ...readable(
      'balance_transactions',
      { kind: 'balance_transaction', param: 'id' },
      (p) => s.ledger.balance.list(p),
      (p, id) => s.ledger.balance.retrieve(id, p),
    ),
    ...readable(
      'events',
      { kind: 'event', param: 'id' },
      (p) => s.events.list(p),
      (p, id) => s.events.retrieve(id, p),
    ),
  ];
}
