// Stripe events, held in memory: what happened, in the shape Stripe sends to webhook endpoints and lists
// under /v1/events, with how each delivery went so tests can assert on it.
import { type FormObject } from './form-body';
import { type Clock, stripeId } from './ids';
import { expansions, LIST_PARAMS, listPage, type ListPage } from './lists';
import { optionalBoolean, optionalString, optionalStringList, rejectUnknown } from './params';
import { noSuchObject } from './stripe-error';

export type FakeEventType =
  | 'payment_intent.amount_capturable_updated'
  | 'payment_intent.succeeded'
  | 'payment_intent.payment_failed'
  | 'payment_intent.canceled'
  | 'charge.refunded'
  | 'charge.dispute.created'
  | 'charge.dispute.closed';

export interface EventRequest {
  /** The API request that caused the event; null for the fake's control routes (like Dashboard actions). */
  id: string | null;
  idempotency_key: string | null;
}

export interface FakeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: object };
  livemode: false;
  /** Endpoints that have not acknowledged the event yet. */
  pending_webhooks: number;
  request: EventRequest;
  type: FakeEventType;
}

export interface WebhookDelivery {
  /** `not_sent` when no endpoint was configured as the event happened (a resend can still send it). */
  state: 'not_sent' | 'pending' | 'delivered' | 'failed';
  /** HTTP attempts so far, resends included. */
  attempts: number;
  /** How many times the event was acknowledged with a 2xx: above 1 after a resend. */
  deliveries: number;
  lastStatus: number | null;
  lastError: string | null;
}

export interface FakeEventRecord {
  event: FakeEvent;
  delivery: WebhookDelivery;
}

const listParams = new Set([...LIST_PARAMS, 'type', 'types', 'delivery_success']);
const retrieveParams = new Set(['expand']);

export class EventStore {
  private readonly records = new Map<string, FakeEventRecord>();

  constructor(
    private readonly clock: Clock,
    private readonly apiVersion: string,
  ) {}

  create(type: FakeEventType, object: object, request: EventRequest, endpoints: number): FakeEventRecord {
    const event: FakeEvent = {
      id: stripeId('evt'),
      object: 'event',
      api_version: this.apiVersion,
      created: this.clock(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: endpoints,
      request,
      type,
    };
    const record: FakeEventRecord = {
      event,
      delivery: {
        state: endpoints > 0 ? 'pending' : 'not_sent',
        attempts: 0,
        deliveries: 0,
        lastStatus: null,
        lastError: null,
      },
    };
    this.records.set(event.id, record);
    return record;
  }

  /** The stored record itself, for the webhook sender to update. */
  record(id: string): FakeEventRecord | undefined {
    return this.records.get(id);
  }

  /** Copies, oldest first. */
  all(): FakeEventRecord[] {
    return [...this.records.values()].map((r) => structuredClone(r));
  }

  clear(): void {
    this.records.clear();
  }

  list(params: FormObject): ListPage<FakeEvent> {
    rejectUnknown(params, listParams);
    expansions(params, []);
    const type = optionalString(params, 'type');
    const types = optionalStringList(params, 'types');
    const delivered = optionalBoolean(params, 'delivery_success');
    const events = [...this.records.values()].map((r) => r.event);
    const succeeded = (e: FakeEvent) => this.records.get(e.id)?.delivery.state === 'delivered';
    const page = listPage(events, params, {
      url: '/v1/events',
      kind: 'event',
      filter: (e) =>
        (!type || matchesType(e.type, type)) &&
        (!types || types.some((t) => matchesType(e.type, t))) &&
        (delivered === undefined || succeeded(e) === delivered),
    });
    return { ...page, data: page.data.map((e) => structuredClone(e)) };
  }

  retrieve(id: string, params: FormObject): FakeEvent {
    rejectUnknown(params, retrieveParams);
    const record = this.records.get(id);
    if (!record) throw noSuchObject('event', id, 'id');
    return structuredClone(record.event);
  }
}

/** Stripe's `type` filter takes `*` as a wildcard, e.g. `charge.dispute.*`. */
function matchesType(type: string, pattern: string): boolean {
  if (!pattern.includes('*')) return type === pattern;
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(type);
}
