import type { Knex } from 'knex';
import type { Logger } from '../../config/logger';
import { ENTITLEMENT_CHANNEL } from '../../db/migrations/005_entitlement_notify';
import { createListener } from '../../db/notifications';
import type { IdTagInfo } from './id-tags';

// Authorize answers from memory: a charge point waits for it with a driver standing at the plug. The cache
// holds every id tag with what the answer depends on, is filled at start, and is kept current by the
// database's NOTIFY on every change (delivered at commit). Expiry and membership are compared with the
// clock at lookup, so they lapse without any notification. If the listening connection drops, the cache
// answers from the database until it has reconnected and reloaded everything.

export interface Entitlement {
  organizationId: string;
  idTag: string;
  userId: string;
  blocked: boolean;
  expiresAt: Date | null;
  userType: string;
  membershipValidUntil: Date | null;
  /** A payment method is on file, so the session can be held and charged. */
  paymentReady: boolean;
  /** Charge points where a session of this tag is still starting or active. */
  liveAt: string[];
  /** The driver owes a session's difference that could not be charged: refused until it is paid. */
  openDebt: boolean;
}

/**
 * Where a tag is presented. With `concurrency`, a tag already in a live session at another charge point is
 * answered ConcurrentTx (Authorize); the same charge point is not, so a driver can tap the card to stop.
 */
export interface TagCheck {
  organizationId: string;
  chargePointId: string;
  concurrency: boolean;
}

export interface EntitlementCache {
  /** Resolves once the first full load is done and the listener is up. */
  start(): Promise<void>;
  close(): Promise<void>;
  get(idTag: string): Promise<Entitlement | undefined>;
  idTagInfo(at: TagCheck, idTag: string, now: Date): Promise<IdTagInfo>;
  /** Entries held; for tests and metrics. */
  size(): number;
}

interface Row {
  organization_id: string;
  id_tag: string;
  user_id: string;
  status: string;
  expires_at: Date | null;
  user_type: string;
  membership_valid_until: Date | null;
  payment_method_id: string | null;
  live_at: string[] | null;
  open_debt: boolean;
}

const toEntitlement = (r: Row): Entitlement => ({
  organizationId: r.organization_id,
  idTag: r.id_tag,
  userId: r.user_id,
  blocked: r.status === 'Blocked',
  expiresAt: r.expires_at,
  userType: r.user_type,
  membershipValidUntil: r.membership_valid_until,
  paymentReady: r.payment_method_id !== null,
  liveAt: r.live_at ?? [],
  openDebt: r.open_debt,
});

function entitlementQuery(db: Knex) {
  const live = db('charging_sessions')
    .whereIn('status', ['starting', 'active'])
    .groupByRaw('lower(id_tag)')
    .select(db.raw('lower(id_tag) AS tag'), db.raw('array_agg(DISTINCT charge_point_id) AS charge_points'))
    .as('live');
  return db('id_tags')
    .join('users', 'users.id', 'id_tags.user_id')
    .leftJoin(live, 'live.tag', db.raw('lower(id_tags.id_tag)'))
    .select<Row[]>(
      'id_tags.organization_id',
      'id_tags.id_tag',
      'id_tags.user_id',
      'id_tags.status',
      'id_tags.expires_at',
      'users.user_type',
      'users.membership_valid_until',
      'users.payment_method_id',
      db.raw('live.charge_points AS live_at'),
      db.raw(
        "EXISTS (SELECT 1 FROM debts WHERE debts.user_id = users.id AND debts.status = 'open') AS open_debt",
      ),
    );
}

export function toIdTagInfo(e: Entitlement | undefined, at: TagCheck, now: Date): IdTagInfo {
  if (!e || e.organizationId !== at.organizationId) return { status: 'Invalid' };
  const expiryDate = e.expiresAt?.toISOString();
  // OCPP 1.6 has no status for "owes money"; Blocked is what a charge point shows as refused by the CSMS.
  if (e.blocked || e.openDebt) return { status: 'Blocked', expiryDate };
  if (e.expiresAt && e.expiresAt <= now) return { status: 'Expired', expiryDate };
  if (at.concurrency && e.liveAt.some((cp) => cp !== at.chargePointId)) {
    return { status: 'ConcurrentTx', expiryDate };
  }
  return { status: 'Accepted', expiryDate };
}

/** One tag straight from the database: what the cache answers while it is not loaded. */
export async function findEntitlement(db: Knex, idTag: string): Promise<Entitlement | undefined> {
  const rows = await entitlementQuery(db).whereRaw('lower(id_tags.id_tag) = lower(?)', [idTag]);
  return rows[0] && toEntitlement(rows[0]);
}

/** The same answers without a cache: every lookup reads the database (tests, tools). */
export function databaseEntitlements(db: Knex): Pick<EntitlementCache, 'idTagInfo'> {
  return { idTagInfo: async (at, idTag, now) => toIdTagInfo(await findEntitlement(db, idTag), at, now) };
}

export function createEntitlementCache(
  db: Knex,
  opts: { log: Logger; reconnectMs?: number },
): EntitlementCache {
  const { log } = opts;
  const byTag = new Map<string, Entitlement>();
  let ready = false;
  // Reloads of single keys run one after another so an older answer never overwrites a newer one.
  let reloads: Promise<void> = Promise.resolve();

  async function reloadAll(): Promise<void> {
    const rows = await entitlementQuery(db);
    byTag.clear();
    for (const r of rows) byTag.set(r.id_tag.toLowerCase(), toEntitlement(r));
  }

  async function reload(payload: string): Promise<void> {
    const [kind, key] = [payload.slice(0, payload.indexOf(':')), payload.slice(payload.indexOf(':') + 1)];
    const query = entitlementQuery(db);
    if (kind === 'tag') query.whereRaw('lower(id_tags.id_tag) = ?', [key]);
    else if (kind === 'user') query.where('id_tags.user_id', key);
    else return;
    const rows = await query;
    if (kind === 'tag' && rows.length === 0) byTag.delete(key);
    if (kind === 'user') for (const [tag, e] of byTag) if (e.userId === key) byTag.delete(tag);
    for (const r of rows) byTag.set(r.id_tag.toLowerCase(), toEntitlement(r));
  }

  const listener = createListener(db, {
    channel: ENTITLEMENT_CHANNEL,
    log,
    reconnectMs: opts.reconnectMs,
    onNotification(payload) {
      reloads = reloads
        .then(() => reload(payload))
        .catch((err: unknown) => {
          // One lost update would leave a stale answer: answer from the database until a full reload.
          log.warn('entitlement reload failed; reloading everything', { err });
          ready = false;
          return reloadAll().then(() => {
            ready = true;
          });
        })
        .catch(() => undefined);
    },
    // Listen first, then load: a change committed in between is both loaded and notified, never missed.
    async onListening() {
      await reloadAll();
      ready = true;
      log.info('entitlement cache loaded', { tags: byTag.size });
    },
    onLost() {
      if (ready) log.warn('entitlement listener lost; answering from the database until it is back');
      ready = false;
    },
  });

  async function get(idTag: string): Promise<Entitlement | undefined> {
    return ready ? byTag.get(idTag.toLowerCase()) : findEntitlement(db, idTag);
  }

  return {
    start: () => listener.start(),
    async close() {
      await listener.close();
      await reloads;
      ready = false;
    },
    get,
    async idTagInfo(at, idTag, now) {
      return toIdTagInfo(await get(idTag), at, now);
    },
    size: () => byTag.size,
  };
}
