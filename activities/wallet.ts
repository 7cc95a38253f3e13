import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import {
  availableFor,
  expireGrants,
  extendReservation,
  release,
  reserve,
  settle,
  type Settlement,
  WalletError,
} from '../db/repositories/wallets';
import type { PaymentProvider } from '../payments/port';

// A session paid from the driver's prepaid wallet (docs/payments.md, "Wallets"): the expected cost is reserved
// at the start, more is reserved while the running cost grows, and the price is settled at the end. Each call
// is idempotent by the session (and the extension's step), so a retried activity moves money once. Refusals
// that retrying cannot fix (no such user, another currency, no reservation) fail non-retryably as WalletError.

export interface ReserveWalletInput {
  sessionId: string;
  organizationId: string;
  userId: string;
  /** The session's (tariff's) currency; the wallet must be in it. */
  currency: string;
  /** The expected cost to hold. */
  amount: string;
}

export interface WalletReservation {
  /** What the session holds in total now ("0" when the wallet had nothing available). */
  reserved: string;
  /** What the wallet still has available for more reservations after this one. */
  available: string;
}

async function nonRetryable<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WalletError)
      throw ApplicationFailure.nonRetryable(err.message, 'WalletError', err.code);
    throw err;
  }
}

export function createWalletActivities({ db }: { db: Knex; payments?: PaymentProvider }) {
  const availableOf = async (userId: string) => (await availableFor(db, userId)).available;
  const userOfSession = async (sessionId: string): Promise<string> => {
    const row = await db('wallet_entries as e')
      .join('wallets as w', 'w.id', 'e.wallet_id')
      .where('e.session_id', sessionId)
      .first('w.user_id');
    if (!row) {
      throw ApplicationFailure.nonRetryable(
        `session ${sessionId} has no wallet reservation`,
        'WalletError',
        'reservation_missing',
      );
    }
    return row.user_id;
  };

  return {
    /** Holds up to `amount` of the wallet for a session that starts (opening an empty wallet if none). */
    async reserveWallet(input: ReserveWalletInput): Promise<WalletReservation> {
      const reserved = await nonRetryable(() => reserve(db, input));
      return { reserved, available: await availableOf(input.userId) };
    },

    /**
     * Holds `amount` more for a running session when the running cost nears what it holds; `step` numbers
     * the extensions of the session (1, 2, ...) so a retry reserves once. Answers the new total: when it did
     * not grow and the running cost reaches it, the session has to stop.
     */
    async extendWalletReservation(input: {
      sessionId: string;
      amount: string;
      step: number;
    }): Promise<WalletReservation> {
      const reserved = await nonRetryable(() => extendReservation(db, input));
      return { reserved, available: await availableOf(await userOfSession(input.sessionId)) };
    },

    /**
     * Takes the session's price: min(cost, reserved + available), releasing the rest of the reservation.
     * `shortfall` is what the wallet could not cover (the driver owes it). Idempotent per session.
     */
    async settleWallet(input: { sessionId: string; cost: string; currency?: string }): Promise<Settlement> {
      if (input.currency !== undefined) {
        const row = await db('wallet_entries as e')
          .join('wallets as w', 'w.id', 'e.wallet_id')
          .where('e.session_id', input.sessionId)
          .first('w.currency');
        if (row && row.currency !== input.currency.toUpperCase()) {
          throw ApplicationFailure.nonRetryable(
            `the wallet is in ${row.currency}, the session's price in ${input.currency}`,
            'WalletError',
            'currency_mismatch',
          );
        }
      }
      return nonRetryable(() => settle(db, input));
    },

    /** Gives back all a session holds (it never started, or ended without a price). */
    async releaseWallet(input: { sessionId: string }): Promise<{ released: string }> {
      return { released: await nonRetryable(() => release(db, input.sessionId)) };
    },

    /** What the user's wallet can still reserve ("0" and currency null without a wallet). */
    async walletAvailable(input: {
      userId: string;
    }): Promise<{ available: string; currency: string | null }> {
      return availableFor(db, input.userId);
    },

    /** Expires granted credit past its expiry, in every wallet (for a schedule). */
    async expireWalletGrants(input: { now?: string } = {}): Promise<{ wallets: number; credits: number }> {
      return expireGrants(db, input.now ? new Date(input.now) : new Date());
    },
  };
}

export type WalletActivities = ReturnType<typeof createWalletActivities>;
