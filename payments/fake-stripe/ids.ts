import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Stripe ids are a type prefix plus an opaque alphanumeric tail; code that parses the prefix
// (logs, ops tooling) should see the same shape here as in production.
export function stripeId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let tail = '';
  for (const byte of bytes) tail += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${tail}`;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** Unix seconds. Stores read time through one so tests can place objects at a chosen `created`. */
export type Clock = () => number;
