// Reading what a client sent: the body (bounded), single-valued headers, the API key and path ids. Each
// failure is a FakeStripeError in Stripe's shape, so a bad request gets an answer and never crashes the fake.
import { type IncomingMessage } from 'node:http';
import { FakeStripeError, invalidParam, noSuchObject } from './stripe-error';

const MAX_BODY_BYTES = 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.pause();
        reject(
          new FakeStripeError(413, { type: 'invalid_request_error', message: 'Request body too large.' }),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // A client that hangs up mid-body is answered like any bad request (the write is then skipped).
    req.on('error', () => reject(invalidParam('The request body could not be read.')));
  });
}

export function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The media type alone, lower-cased: `application/json; charset=utf-8` is `application/json`. */
export function contentType(req: IncomingMessage): string {
  return (singleHeader(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/** Only the key's prefix goes into messages and logs: even a test key should not be echoed whole. */
function redactKey(key: string): string {
  return key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(4)}${key.slice(-4)}` : '****';
}

export function authenticate(req: IncomingMessage): string {
  const header = singleHeader(req, 'authorization');
  if (!header) {
    throw new FakeStripeError(
      401,
      {
        type: 'invalid_request_error',
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      },
      false,
    );
  }
  const match = /^Bearer\s+(sk_\S+)$/.exec(header);
  if (!match) {
    const given = header.replace(/^Bearer\s+/i, '');
    throw new FakeStripeError(
      401,
      { type: 'invalid_request_error', message: `Invalid API Key provided: ${redactKey(given)}` },
      false,
    );
  }
  return match[1];
}

/** The path's object id; `kind` and `param` name the object in the 404 for an undecodable one. */
export function decodeId(segment: string, kind: string, param: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw noSuchObject(kind, segment.slice(0, 100), param);
  }
}
