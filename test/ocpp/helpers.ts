import { WebSocket } from 'ws';
import { captureLogger, LogEntry } from '../support/capture-logger';

export { captureLogger };
export type { LogEntry };

/** A bare ws client that lets a test send any bytes and read every frame the server answers. */
export class RawClient {
  private readonly inbox: unknown[] = [];
  private readonly waiters: Array<(frame: unknown) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? data : JSON.parse(data.toString());
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.inbox.push(frame);
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  static async connect(
    url: string,
    options: { protocols?: string[]; password?: string; username?: string; autoPong?: boolean } = {},
  ): Promise<RawClient> {
    const identity = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));
    const headers: Record<string, string> = {};
    if (options.password !== undefined) {
      const user = options.username ?? identity;
      headers.authorization = 'Basic ' + Buffer.from(`${user}:${options.password}`).toString('base64');
    }
    const ws = new WebSocket(url, options.protocols ?? ['ocpp1.6'], {
      headers,
      autoPong: options.autoPong ?? true,
    });
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    ws.on('error', () => undefined);
    return client;
  }

  next(timeoutMs = 2000): Promise<unknown> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (frame: unknown) => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends raw text and returns the next frame the server sends. */
  async exchange(text: string): Promise<unknown> {
    this.ws.send(text);
    return this.next();
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    return this.closed;
  }
}

/** Resolves with the HTTP status of a refused upgrade (rejects if the upgrade succeeds). */
export function upgradeStatus(
  url: string,
  protocols: string[],
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      ws.close();
      reject(new Error('upgrade unexpectedly succeeded'));
    });
    ws.once('error', (err) => reject(err));
  });
}

export function basic(user: string, password: string): Record<string, string> {
  return { authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
