import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSessionBridge, SessionBridge } from '../../ocpp/billing/session-bridge';
import { createTestDatabase, TestDatabase } from './database';
import { startTemporal } from './temporal';
import { RunningWorker, startWorker } from './worker';

export interface SessionStack {
  tdb: TestDatabase;
  env: TestWorkflowEnvironment;
  running: RunningWorker;
  bridge: SessionBridge;
}

/**
 * A migrated database, the Temporal dev server, a worker and the session bridge, for the file's tests; the
 * returned object is filled in beforeAll and torn down in afterAll.
 */
export function useSessionStack(label: string, taskQueue: string): SessionStack {
  const stack = {} as SessionStack;
  beforeAll(async () => {
    stack.tdb = await createTestDatabase(label);
    stack.env = await startTemporal();
    stack.running = await startWorker(stack.env, stack.tdb.db, taskQueue);
    stack.bridge = createSessionBridge(stack.env.client, taskQueue);
  });
  afterAll(async () => {
    await stack.running?.stop();
    await stack.env?.teardown();
    await stack.tdb?.drop();
  });
  return stack;
}
