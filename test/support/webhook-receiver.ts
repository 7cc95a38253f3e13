import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventEnvelope } from '../../events/types';
import { createExampleReceiver } from '../../webhooks/example-receiver';
import { SIGNATURE_HEADER } from '../../webhooks/signature';

// A real HTTP receiver for tests: the shipped example receiver (signature check, dedupe by event id)
// behind a switch that makes it answer 500, plus a log of every delivery, duplicates included. It can be
// taken down and brought back on the same port, as a receiver that was down for a while.

export interface TestReceiver {
  url: string;
  /** Every verified delivery in arrival order, duplicates included. */
  deliveries: EventEnvelope[];
  /** Each event id once, as the receiver booked it. */
  booked: EventEnvelope[];
  /** Every request that reached the verifying receiver: path, signature header and raw body. */
  requests: { path: string; header: string; body: string }[];
  /** Paths that answer 500 instead. */
  failing: Set<string>;
  secrets: string[];
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestReceiver(): Promise<TestReceiver> {
  const r = {
    deliveries: [] as EventEnvelope[],
    booked: [] as EventEnvelope[],
    requests: [] as TestReceiver['requests'],
    failing: new Set<string>(),
    secrets: [] as string[],
  } as TestReceiver;
  // One listener for the receiver's life: its books (the dedupe set) survive an outage.
  const listener = createExampleReceiver({ secrets: r.secrets, onEvent: (e) => r.booked.push(e) });
  const server = http.createServer((req, res) => {
    if (r.failing.has(req.url ?? '/')) {
      req.resume();
      res.writeHead(500).end('receiver broken');
      return;
    }
    const end = res.end.bind(res);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    res.end = ((...args: Parameters<typeof end>) => {
      r.requests.push({
        path: req.url ?? '/',
        header: String(req.headers[SIGNATURE_HEADER.toLowerCase()]),
        body,
      });
      if (res.statusCode === 200) r.deliveries.push(JSON.parse(body) as EventEnvelope);
      return end(...args);
    }) as typeof res.end;
    listener(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  r.url = `http://127.0.0.1:${port}`;
  r.down = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  r.up = () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  r.close = async () => {
    if (server.listening) await r.down();
  };
  return r;
}
