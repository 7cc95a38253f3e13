import { randomUUID } from 'crypto';
import { RawData, WebSocket } from 'ws';
import { Logger } from '../config/logger';
import { routeAction } from './actions';
import { ChargePointUnavailable, isOcppErrorCode, OcppError, OcppErrorCode } from './errors';
import {
  buildCall,
  buildCallError,
  buildCallResult,
  MessageType,
  parseFrame,
  ParsedFrame,
  UNKNOWN_MESSAGE_ID,
} from './frames';
import { validateRequest, validateResponse } from './validator';

export interface ChargePointIdentity {
  id: string;
  identity: string;
  organizationId: string;
  [k: string]: unknown;
}

export interface HandlerContext {
  chargePoint: ChargePointIdentity;
  messageId: string;
  log: Logger;
  action: string;
  /** Aborted when the handler times out, so a handler can stop waiting on Temporal or the database. */
  signal: AbortSignal;
}

// `any` on purpose: the payload has passed the action's schema, and handlers declare the concrete
// request type of their action, which a parameter typed `unknown` would not accept.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (payload: any, ctx: HandlerContext) => Promise<object>;
export type HandlerMap = Partial<Record<string, Handler>>;

export interface ConnectionOptions {
  handlers: HandlerMap;
  log: Logger;
  handlerTimeoutMs: number;
  maxQueuedCalls: number;
  /** Sustained CALLs per second a charge point may send; twice as many may come in a burst. */
  maxCallsPerSecond: number;
  now?: () => number;
}

interface PendingCall {
  action: string;
  resolve: (payload: object) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class HandlerTimeout extends Error {}

function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** One charge point's WebSocket: answers its CALLs in arrival order and correlates our CALLs. */
export class ChargePointConnection {
  readonly log: Logger;
  private alive = true;
  private callQueue: Promise<void> = Promise.resolve();
  private queuedCalls = 0;
  private outgoing: Promise<unknown> = Promise.resolve();
  private readonly pending = new Map<string, PendingCall>();

  constructor(
    readonly ws: WebSocket,
    readonly chargePoint: ChargePointIdentity,
    private readonly opts: ConnectionOptions,
  ) {
    this.log = opts.log.child({ chargePointId: chargePoint.id, identity: chargePoint.identity });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    // ws closes the socket itself after an error (1009 for an oversized frame, 1002 for a protocol
    // error); without a listener the error event would crash the process.
    ws.on('error', (err) => this.log.warn('charge point socket error', { err }));
    ws.on('close', () =>
      this.failPending(new ChargePointUnavailable('offline', `Connection to ${chargePoint.identity} closed`)),
    );
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Called by the server's keep-alive timer: a connection that missed the last pong is dead. */
  checkAlive(): void {
    if (!this.alive) {
      this.log.warn('charge point missed a pong; dropping the connection');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch (err) {
      this.log.warn('ping failed', { err });
    }
  }

  close(code: number, reason: string): void {
    try {
      this.ws.close(code, reason);
    } catch (err) {
      this.log.warn('close failed; terminating', { err });
      this.ws.terminate();
    }
  }

  /**
   * Sends a central-system CALL and resolves with the charge point's validated CALLRESULT payload.
   * Rejects with OcppError for a CALLERROR or an invalid answer, with ChargePointUnavailable when the
   * charge point is not connected, disconnects or does not answer in time.
   * OCPP-J 1.6 allows one outstanding CALL per direction, so our calls on one connection go one by one.
   */
  sendCall(action: string, payload: object, timeoutMs: number): Promise<object> {
    const run = () => this.callNow(action, payload, timeoutMs);
    const result = this.outgoing.then(run, run);
    this.outgoing = result.catch(() => undefined);
    return result;
  }

  private callNow(action: string, payload: object, timeoutMs: number): Promise<object> {
    const check = validateRequest(action, payload);
    if (!check.ok) {
      return Promise.reject(
        new OcppError(check.code, `Refusing to send an invalid ${action}: ${check.description}`),
      );
    }
    if (!this.isOpen) {
      return Promise.reject(
        new ChargePointUnavailable('offline', `Connection to ${this.chargePoint.identity} is not open`),
      );
    }
    const messageId = randomUUID();
    return new Promise<object>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        const message = `${action} to ${this.chargePoint.identity} timed out after ${timeoutMs} ms`;
        reject(new ChargePointUnavailable('timeout', message));
      }, timeoutMs);
      this.pending.set(messageId, { action, resolve, reject, timer });
      this.ws.send(buildCall(messageId, action, payload), (err) => {
        if (err) this.settle(messageId, (call) => call.reject(err));
      });
    });
  }

  private settle(messageId: string, outcome: (call: PendingCall) => void): boolean {
    const call = this.pending.get(messageId);
    if (!call) return false;
    this.pending.delete(messageId);
    clearTimeout(call.timer);
    outcome(call);
    return true;
  }

  private failPending(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, (call) => call.reject(err));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    try {
      if (isBinary) {
        this.sendError(
          UNKNOWN_MESSAGE_ID,
          'FormationViolation',
          'Binary frames are not supported; OCPP-J uses text',
        );
        return;
      }
      this.dispatch(parseFrame(rawToText(data)));
    } catch (err) {
      this.log.error('failed to handle a frame', { err });
    }
  }

  private dispatch(frame: ParsedFrame): void {
    switch (frame.kind) {
      case 'call':
        this.enqueue(frame);
        return;
      case 'result':
        if (!this.settle(frame.messageId, (call) => this.resolveResult(call, frame.payload))) {
          this.log.warn('CALLRESULT for no pending call; ignored', { messageId: frame.messageId });
        }
        return;
      case 'error': {
        const code = isOcppErrorCode(frame.code) ? frame.code : 'GenericError';
        const err = new OcppError(code, frame.description, { ...frame.details, receivedCode: frame.code });
        if (!this.settle(frame.messageId, (call) => call.reject(err))) {
          this.log.warn('CALLERROR for no pending call; ignored', {
            messageId: frame.messageId,
            code: frame.code,
            description: frame.description,
          });
        }
        return;
      }
      case 'invalid': {
        const isResponse =
          frame.messageTypeId === MessageType.CALLRESULT || frame.messageTypeId === MessageType.CALLERROR;
        if (!isResponse) {
          this.log.info('invalid frame', {
            messageId: frame.messageId,
            code: frame.code,
            reason: frame.description,
          });
          this.sendError(frame.messageId, frame.code, frame.description);
          return;
        }
        // Never answer a response with a CALLERROR; fail the matching call of ours instead, if any.
        const err = new OcppError(frame.code, `Charge point sent a malformed response: ${frame.description}`);
        if (!this.settle(frame.messageId, (call) => call.reject(err))) {
          this.log.warn('malformed response frame; ignored', {
            messageId: frame.messageId,
            reason: frame.description,
          });
        }
        return;
      }
    }
  }

  private resolveResult(call: PendingCall, payload: object): void {
    const check = validateResponse(call.action, payload);
    if (check.ok) call.resolve(payload);
    else call.reject(new OcppError(check.code, `Invalid ${call.action} response: ${check.description}`));
  }

  // OCPP-J 1.6 expects one CALL at a time; a charge point that pipelines still gets its answers in
  // order, and a bounded queue keeps a flooding one from growing our memory without limit.
  private enqueue(frame: Extract<ParsedFrame, { kind: 'call' }>): void {
    if (!this.takeToken()) {
      this.log.warn('call rate exceeded; refusing', { action: frame.action, messageId: frame.messageId });
      // A refused transaction message stays in the charge point's queue and is sent again later.
      const limit = this.opts.maxCallsPerSecond;
      this.sendError(
        frame.messageId,
        'GenericError',
        `Too many calls: at most ${limit} per second; retry later`,
      );
      return;
    }
    if (this.queuedCalls >= this.opts.maxQueuedCalls) {
      this.log.warn('too many queued calls; refusing', { action: frame.action, messageId: frame.messageId });
      this.sendError(frame.messageId, 'GenericError', 'Too many calls in flight; send one CALL at a time');
      return;
    }
    this.queuedCalls += 1;
    const done = () => {
      this.queuedCalls -= 1;
    };
    this.callQueue = this.callQueue
      .then(() => this.processCall(frame))
      .catch((err) => this.log.error('call processing failed', { err }))
      .then(done);
  }

  // Token bucket: refills at maxCallsPerSecond up to a burst of twice that.
  private tokens = NaN;
  private refilledAt = 0;

  private takeToken(): boolean {
    const now = (this.opts.now ?? Date.now)();
    const burst = this.opts.maxCallsPerSecond * 2;
    if (Number.isNaN(this.tokens)) this.tokens = burst;
    this.tokens = Math.min(
      burst,
      this.tokens + ((now - this.refilledAt) / 1000) * this.opts.maxCallsPerSecond,
    );
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private async processCall(frame: Extract<ParsedFrame, { kind: 'call' }>): Promise<void> {
    const { messageId, action, payload } = frame;
    // The charge point has gone (or been replaced); it will resend whatever was not answered.
    if (!this.isOpen) return;
    const route = routeAction(action, this.opts.handlers);
    if (!route.ok) {
      this.log.info('call refused', { action: action.slice(0, 64), messageId, code: route.code });
      this.sendError(messageId, route.code, route.description);
      return;
    }
    const request = validateRequest(action, payload);
    if (!request.ok) {
      this.log.info('invalid call', { action, messageId, code: request.code, reason: request.description });
      this.sendError(messageId, request.code, request.description);
      return;
    }

    const log = this.log.child({ action, messageId });
    const started = Date.now();
    let result: unknown;
    try {
      result = await this.runHandler(route.handler, payload, {
        chargePoint: this.chargePoint,
        messageId,
        log,
        action,
      });
    } catch (err) {
      this.answerHandlerError(messageId, action, err, log);
      return;
    }

    // A handler bug must not put a frame on the wire that the charge point would reject.
    const response = validateResponse(action, result);
    if (!response.ok) {
      log.error('handler returned an invalid response', {
        code: response.code,
        reason: response.description,
      });
      this.sendError(messageId, 'InternalError', `Central system failed to build a valid ${action} response`);
      return;
    }
    // One line per message, with the transaction it belongs to, so ops can follow a session through the log.
    const transactionId =
      (payload as { transactionId?: unknown }).transactionId ??
      (result as { transactionId?: unknown }).transactionId;
    log.info('call answered', {
      ms: Date.now() - started,
      ...(transactionId !== undefined && { transactionId }),
    });
    this.send(buildCallResult(messageId, result as object));
  }

  private async runHandler(
    handler: Handler,
    payload: object,
    ctx: Omit<HandlerContext, 'signal'>,
  ): Promise<unknown> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new HandlerTimeout(`${ctx.action} handler timed out after ${this.opts.handlerTimeoutMs} ms`));
      }, this.opts.handlerTimeoutMs);
    });
    try {
      // Promise.resolve().then: a handler that throws synchronously is caught like one that rejects.
      const work = Promise.resolve().then(() => handler(payload, { ...ctx, signal: controller.signal }));
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private answerHandlerError(messageId: string, action: string, err: unknown, log: Logger): void {
    if (err instanceof OcppError && isOcppErrorCode(err.code)) {
      log.info('handler answered with a CALLERROR', { code: err.code, reason: err.message });
      this.sendError(messageId, err.code, err.message, err.details);
      return;
    }
    if (err instanceof HandlerTimeout) {
      log.error('handler timed out', { ms: this.opts.handlerTimeoutMs });
    } else {
      log.error('handler failed', { err, stack: err instanceof Error ? err.stack : undefined });
    }
    // No message or stack on the wire: it could carry SQL, hostnames or customer data.
    this.sendError(messageId, 'InternalError', `Central system failed to process ${action}; retry later`);
  }

  private sendError(messageId: string, code: OcppErrorCode, description: string, details: object = {}): void {
    let frame: string;
    try {
      frame = buildCallError(messageId, code, description, details);
    } catch (err) {
      // Details a handler attached may not serialise (BigInt, cycles); the code and text still matter.
      this.log.warn('CALLERROR details not serialisable; sending without them', { err });
      frame = buildCallError(messageId, code, description, {});
    }
    this.send(frame);
  }

  private send(frame: string): void {
    if (!this.isOpen) {
      this.log.info('connection no longer open; answer dropped');
      return;
    }
    this.ws.send(frame, (err) => {
      if (err) this.log.warn('send failed', { err });
    });
  }
}
