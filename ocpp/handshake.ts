import http from 'http';
import type { Duplex } from 'stream';

export const OCPP16_SUBPROTOCOL = 'ocpp1.6';
// OCPP 1.6 charge point identities are at most 48 characters.
export const MAX_IDENTITY_LENGTH = 48;

export type IdentityResult =
  { ok: true; identity: string } | { ok: false; status: 400 | 404; reason: string };

/** `<basePath>/<identity>`: exactly one path segment, URL-decoded, 1–48 characters. */
export function parseIdentity(url: string | undefined, basePath: string): IdentityResult {
  const pathname = (url ?? '').split('?')[0];
  const prefix = `${basePath}/`;
  if (!pathname.startsWith(prefix))
    return { ok: false, status: 404, reason: 'path is not under the OCPP route' };
  const segment = pathname.slice(prefix.length);
  if (segment.length === 0 || segment.includes('/')) {
    return { ok: false, status: 404, reason: 'path must be <route>/<charge point identity>' };
  }
  let identity: string;
  try {
    identity = decodeURIComponent(segment);
  } catch {
    return { ok: false, status: 400, reason: 'identity is not valid URL encoding' };
  }
  if (identity.length === 0 || identity.length > MAX_IDENTITY_LENGTH) {
    return { ok: false, status: 400, reason: `identity must be 1-${MAX_IDENTITY_LENGTH} characters` };
  }
  return { ok: true, identity };
}

export function offersSubprotocol(header: string | string[] | undefined, wanted: string): boolean {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values.some((value) => value.split(',').some((token) => token.trim() === wanted));
}

export type BasicCredentials =
  { kind: 'none' } | { kind: 'malformed' } | { kind: 'basic'; username: string; password: string };

/** OCPP 1.6 security profiles 1 and 2: `Authorization: Basic base64(<identity>:<AuthorizationKey>)`. */
export function parseBasicAuth(header: string | undefined): BasicCredentials {
  if (header === undefined) return { kind: 'none' };
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return { kind: 'malformed' };
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { kind: 'malformed' };
  return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Answers the upgrade request with a plain HTTP error and closes the socket, so the charge point sees
 * the status before any WebSocket exists. The body is only the status text: reasons go to our log, not
 * to whoever is probing identities.
 */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  extraHeaders: Record<string, string> = {},
): void {
  if (socket.destroyed) return;
  const text = http.STATUS_CODES[status] ?? 'Error';
  const headers = {
    Connection: 'close',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...extraHeaders,
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${head}\r\n\r\n${text}`);
}
