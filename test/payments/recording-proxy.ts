// A pass-through HTTP proxy that keeps each request's method, path and form body, so a contract test can
// assert what the adapter actually sent (stripe-mock validates a request but does not echo it back).
import http from 'node:http';
import { type AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** The decoded form body, keys as sent (`payment_method_options[card][...]`). */
  form: Record<string, string>;
  idempotencyKey: string | undefined;
}

export interface RecordingProxy {
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const requests: ProxiedRequest[] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const key = req.headers['idempotency-key'];
      requests.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        form: Object.fromEntries(new URLSearchParams(body.toString('utf8'))),
        idempotencyKey: Array.isArray(key) ? key[0] : key,
      });
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (err) => {
        res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: err.message } }));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
