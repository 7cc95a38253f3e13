import type { Knex } from 'knex';
import type { Logger } from '../../config/logger';
import { COMMAND_CHANNEL } from '../../db/migrations/007_charge_point_commands';
import {
  claimNextCommand,
  expireOverdueCommands,
  settleCommand,
} from '../../db/repositories/chargePointCommands';
import { createListener } from '../../db/notifications';
import { ChargePointUnavailable, OcppError } from '../errors';

// Sends the queued central-system calls (db/repositories/chargePointCommands.ts) of the charge points this
// bridge holds: at once when a command is announced, and on a sweep that catches commands queued while a
// charge point was away or announced while this bridge was not listening. A claim is a lease, so two
// bridges never send the same command, and a bridge that dies mid-call leaves it for another attempt.

export interface RelayLink {
  identities(): string[];
  isConnected(identity: string): boolean;
  sendCall(identity: string, action: string, payload: object, timeoutMs?: number): Promise<object>;
}

export interface CommandRelay {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Sends what is pending for these charge points (all connected ones by default); for the sweep and tests. */
  drain(identities?: string[]): Promise<void>;
}

export function createCommandRelay(
  db: Knex,
  link: RelayLink,
  opts: { log: Logger; sweepMs?: number; callTimeoutMs?: number; maxAttempts?: number },
): CommandRelay {
  const { log } = opts;
  const callTimeoutMs = opts.callTimeoutMs ?? 30_000;
  const maxAttempts = opts.maxAttempts ?? 3;
  // The lease outlives the call, so nobody else takes a command while it is on the wire.
  const leaseMs = callTimeoutMs + 30_000;
  let sweep: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function sendOne(identities: string[]): Promise<boolean> {
    const command = await claimNextCommand(db, identities, leaseMs);
    if (!command) return false;
    const fields = { commandId: command.id, identity: command.identity, action: command.action };
    try {
      const response = await link.sendCall(command.identity, command.action, command.payload, callTimeoutMs);
      await settleCommand(db, command.id, { status: 'answered', response });
      log.info('queued command answered', { ...fields, status: (response as { status?: unknown }).status });
    } catch (err) {
      // The OCPP code leads, so whoever reads the row can tell the charge point's refusal from the rest.
      const error =
        err instanceof OcppError
          ? `${err.code}: ${err.message}`
          : err instanceof Error
            ? err.message
            : String(err);
      const retry = err instanceof ChargePointUnavailable && command.attempts < maxAttempts;
      await settleCommand(db, command.id, retry ? { status: 'pending', error } : { status: 'failed', error });
      log.warn('queued command not answered', {
        ...fields,
        error,
        retry,
        ocppCode: err instanceof OcppError ? err.code : undefined,
      });
      // Offline now: the next sweep tries again; other charge points should not wait behind this one.
      if (retry) return false;
    }
    return true;
  }

  // One drain at a time in this process; the claim keeps other processes apart.
  function drain(identities = link.identities()): Promise<void> {
    running = running
      .then(async () => {
        const connected = identities.filter((id) => link.isConnected(id));
        if (connected.length === 0) return;
        await expireOverdueCommands(db);
        while (await sendOne(connected));
      })
      .catch((err: unknown) => log.error('command relay failed', { err }));
    return running;
  }

  const listener = createListener(db, {
    channel: COMMAND_CHANNEL,
    log,
    onNotification: (identity) => {
      if (link.isConnected(identity)) void drain([identity]);
    },
    onListening: () => drain(),
  });

  return {
    async start() {
      await listener.start();
      sweep = setInterval(() => void drain(), opts.sweepMs ?? 5000);
    },
    async close() {
      if (sweep) clearInterval(sweep);
      await listener.close();
      await running;
    },
    drain,
  };
}
