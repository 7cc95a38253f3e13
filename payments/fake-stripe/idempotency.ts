// Stripe's idempotency contract, which the whole payment design leans on: a retried activity sends the
// same key and must get the first answer back, never a second charge.

export interface StoredResponse {
  status: number;
  body: string;
}

interface Entry {
  fingerprint: string;
  response: StoredResponse;
}

export type IdempotencyLookup =
  { kind: 'new' } | { kind: 'replay'; response: StoredResponse } | { kind: 'mismatch' };

// Stripe's documented maximum key length.
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  /**
   * Keys are scoped to the API key, as on Stripe (one account's key cannot replay another's). The
   * fingerprint covers method, path and parameters, so reusing a key for a different request is an error.
   */
  lookup(apiKey: string, key: string, fingerprint: string): IdempotencyLookup {
    const entry = this.entries.get(`${apiKey}\u0000${key}`);
    if (!entry) return { kind: 'new' };
    if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return { kind: 'replay', response: entry.response };
  }

  save(apiKey: string, key: string, fingerprint: string, response: StoredResponse): void {
    this.entries.set(`${apiKey}\u0000${key}`, { fingerprint, response });
  }

  clear(): void {
    this.entries.clear();
  }
}
