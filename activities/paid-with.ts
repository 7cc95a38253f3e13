import type { Movement } from '../db/repositories/paymentMovements';
import { Dec, formatMoney } from '../pricing/money';

// What a receipt says about how its session was paid: each payment that covered part of it (the card's
// capture and a difference charged afterwards, a wallet, a terminal) and who owes the rest.

export interface PaidWith {
  mode: string;
  payments: { method: string; amount: string; reference: string | null; brand?: string; last4?: string }[];
  /** What is still owed and by whom: the organization's invoice, the roaming partner, or the driver's debt. */
  due: { amount: string; by: 'invoice' | 'roaming_partner' | 'driver' } | null;
  roaming_party?: string;
}

// The movements that paid for the session, and how.
const METHOD_OF: Partial<Record<Movement['kind'], string>> = {
  capture: 'card',
  off_session_charge: 'card',
  wallet_settlement: 'wallet',
};

export function paidWith(
  mode: string | null,
  roamingParty: string | null,
  movements: Movement[],
  amountDue: string,
): PaidWith {
  const card = movements.find((m) => m.kind === 'authorization')?.detail?.['card'] as
    { brand: string; last4: string } | undefined;
  const payments = movements
    .filter((m) => m.status === 'succeeded' && METHOD_OF[m.kind])
    .map((m) => {
      const method = mode === 'terminal' ? 'terminal' : METHOD_OF[m.kind]!;
      return {
        method,
        amount: formatMoney(m.amount, m.currency),
        reference: m.providerReference,
        ...(method === 'card' && card ? { brand: card.brand, last4: card.last4 } : {}),
      };
    });
  const owed = new Dec(amountDue).gt(0);
  const debt = movements.some((m) => m.kind === 'debt');
  return {
    mode: mode ?? (payments.length > 0 ? 'card' : 'invoice'),
    payments,
    due: owed
      ? { amount: amountDue, by: mode === 'roaming' ? 'roaming_partner' : debt ? 'driver' : 'invoice' }
      : null,
    ...(roamingParty ? { roaming_party: roamingParty } : {}),
  };
}
