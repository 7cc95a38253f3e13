import type { Knex } from 'knex';

// How a user pays (users.payment_mode, migration 019). null keeps the behaviour from before payment modes:
// their card when they have a saved payment method, otherwise the organization's invoice.

export type UserPaymentMode = 'card' | 'wallet' | 'invoice' | 'roaming';
export const USER_PAYMENT_MODES: readonly UserPaymentMode[] = ['card', 'wallet', 'invoice', 'roaming'];

export interface PaymentModeView {
  userId: string;
  /** As set; null when never set (or cleared). */
  mode: UserPaymentMode | null;
  /** What applies: the mode, or for null the card when the user has one, else the invoice. */
  effective: UserPaymentMode;
}

interface Row {
  id: string;
  payment_mode: UserPaymentMode | null;
  payment_method_id: string | null;
}

const view = (r: Row): PaymentModeView => ({
  userId: r.id,
  mode: r.payment_mode,
  effective: r.payment_mode ?? (r.payment_method_id ? 'card' : 'invoice'),
});

export async function getPaymentMode(
  db: Knex,
  organizationId: string,
  userId: string,
): Promise<PaymentModeView | undefined> {
  const row: Row | undefined = await db('users')
    .where({ organization_id: organizationId, id: userId })
    .first('id', 'payment_mode', 'payment_method_id');
  return row && view(row);
}

/** Sets (null: clears) the user's payment mode; undefined when the user is not the organization's. */
export async function setPaymentMode(
  db: Knex,
  organizationId: string,
  userId: string,
  mode: UserPaymentMode | null,
): Promise<PaymentModeView | undefined> {
  const [row] = await db('users')
    .where({ organization_id: organizationId, id: userId })
    .update({ payment_mode: mode })
    .returning(['id', 'payment_mode', 'payment_method_id']);
  return row && view(row as Row);
}
