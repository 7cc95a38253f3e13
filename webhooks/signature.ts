import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Deliveries carry `EV-Billing-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`: HMAC-SHA256 with the
// endpoint's secret over `<t>.<raw body>`, one v1 per live secret while a rotation overlaps. Signing the
// timestamp lets a receiver refuse a replayed request older than its tolerance.

export const SIGNATURE_HEADER = 'EV-Billing-Signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

export function signatureHeader(body: string, secrets: readonly string[], timestamp: number): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${hmac(s, timestamp, body)}`)].join(',');
}

export class SignatureVerificationError extends Error {
  override readonly name = 'SignatureVerificationError';
}

/**
 * What a receiver runs before trusting a delivery. Throws SignatureVerificationError when the header is
 * missing or malformed, no v1 matches, or the timestamp is outside the tolerance (a replay).
 */
export function verifySignature(
  body: string,
  header: string | undefined,
  secret: string,
  opts: { toleranceSeconds?: number; now?: number } = {},
): { timestamp: number } {
  if (!header) throw new SignatureVerificationError(`missing ${SIGNATURE_HEADER} header`);
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.split('=', 2);
    if (key === 't' && /^\d+$/.test(value ?? '')) timestamp = Number(value);
    else if (key === 'v1' && value) signatures.push(value);
  }
  if (timestamp === undefined) throw new SignatureVerificationError('signature header has no timestamp');
  if (signatures.length === 0) throw new SignatureVerificationError('signature header has no v1 signature');
  const expected = Buffer.from(hmac(secret, timestamp, body), 'hex');
  const matches = signatures.some((s) => {
    const given = Buffer.from(s, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new SignatureVerificationError('no signature matches the secret');
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) {
    throw new SignatureVerificationError(
      `timestamp is ${now - timestamp}s old, over the ${tolerance}s tolerance`,
    );
  }
  return { timestamp };
}
