// A real HTTP endpoint for the fake's webhooks: records every delivery as received (raw body and signature
// header, which is what verification needs) and answers with scripted statuses.
import http from 'node:http';
import { type AddressInfo } from 'node:net';

export interface Received {
  body: string;
  signature: string | undefined;
  contentType: string | undefined;
  /** The parsed body's id and type, for assertions. */
  id: string;
  type: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The statuses the next deliveries are answered with, in order; 200 once they are used up. */
  answerWith(...statuses: number[]): void;
  /** Holds every answer until the returned function is called. */
  hold(): () => void;
  /** Resolves once `count` deliveries have arrived. */
  waitFor(count: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const statuses: number[] = [];
  let gate: Promise<void> | undefined;
  const waiters: Array<{ count: number; resolve: () => void }> = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const parsed = JSON.parse(body) as { id: string; type: string };
      received.push({
        body,
        signature: req.headers['stripe-signature'] as string | undefined,
        contentType: req.headers['content-type'],
        id: parsed.id,
        type: parsed.type,
      });
      for (const w of waiters.filter((w) => received.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const status = statuses.shift() ?? 200;
      void (gate ?? Promise.resolve()).then(() => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end('{}');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/stripe/webhook`,
    received,
    answerWith: (...s) => statuses.push(...s),
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    waitFor(count) {
      if (received.length >= count) return Promise.resolve(received.slice());
      return new Promise((resolve) => waiters.push({ count, resolve: () => resolve(received.slice()) }));
    },
    close() {
      return new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
