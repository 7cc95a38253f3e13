import http from 'node:http';
import type { EventEnvelope } from '../events/types';
import { SIGNATURE_HEADER, SignatureVerificationError, verifySignature } from './signature';

// What an accounting integration does with a delivery, as a small example to copy: verify the signature
// over the raw body (refusing old timestamps, i.e. replays), then book each event id once. Delivery is at
// least once, so the same event can arrive again; the id makes that harmless.

export interface ExampleReceiverOptions {
  /** Every secret that may sign (two while a rotation overlaps). */
  secrets: string[];
  toleranceSeconds?: number;
  /** Called once per event id, after the signature verified. */
  onEvent?(event: EventEnvelope): void;
  log?(line: string): void;
}

const MAX_BODY = 1024 * 1024;

export function createExampleReceiver(opts: ExampleReceiverOptions): http.RequestListener {
  const seen = new Set<string>();
  const log = opts.log ?? (() => undefined);
  return (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const answer = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || size > MAX_BODY) return answer(400, { error: 'expected a POSTed event' });
      const body = Buffer.concat(chunks).toString('utf8');
      const header = req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined;
      const verified = opts.secrets.some((secret) => {
        try {
          verifySignature(body, header, secret, { toleranceSeconds: opts.toleranceSeconds });
          return true;
        } catch (err) {
          if (err instanceof SignatureVerificationError) return false;
          throw err;
        }
      });
      if (!verified) {
        log(`refused a delivery: signature does not verify`);
        return answer(400, { error: 'signature does not verify' });
      }
      let event: EventEnvelope;
      try {
        event = JSON.parse(body) as EventEnvelope;
      } catch {
        return answer(400, { error: 'body is not JSON' });
      }
      if (seen.has(event.id)) {
        log(`duplicate ${event.id} ${event.type}: already booked`);
        return answer(200, { received: true, duplicate: true });
      }
      seen.add(event.id);
      log(
        `received ${event.id} ${event.type} ${event.data.object_type} ${event.data.object_id} (signature verified)`,
      );
      opts.onEvent?.(event);
      answer(200, { received: true });
    });
  };
}
