import type { EventEnvelope } from '../events/types';
import { SIGNATURE_HEADER, signatureHeader } from './signature';

// One HTTP attempt. Success is any 2xx; everything else (another status, a refused connection, a timeout)
// is a failure to retry. The body is the event, signed over exactly the bytes sent.

export interface SendResult {
  succeeded: boolean;
  responseCode: number | null;
  latencyMs: number;
  error: string | null;
  at: Date;
}

export const USER_AGENT = 'EV-Billing-Webhooks/1.0';

export async function sendEvent(
  url: string,
  event: EventEnvelope | Record<string, unknown>,
  secrets: readonly string[],
  timeoutMs: number,
): Promise<SendResult> {
  const body = JSON.stringify(event);
  const at = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': USER_AGENT,
        [SIGNATURE_HEADER]: signatureHeader(body, secrets, Math.floor(at.getTime() / 1000)),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Drain the body so the connection can be reused; the receiver's words are not kept.
    await response.arrayBuffer().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return {
      succeeded: ok,
      responseCode: response.status,
      latencyMs: elapsed(),
      error: ok ? null : `HTTP ${response.status}`,
      at,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const reason =
      e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { succeeded: false, responseCode: null, latencyMs: elapsed(), error: reason, at };
  }
}
