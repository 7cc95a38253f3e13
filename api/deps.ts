import type { Knex } from 'knex';
import type { Logger } from '../config/logger';
import type { RunningCost } from '../workflows/charging-session/messages';

export interface AppDeps {
  db: Knex;
  /** Asks the session's workflow for its running cost; undefined when the workflow does not know it. */
  runningCost: (workflowId: string) => Promise<RunningCost | undefined>;
  log?: Logger;
  /** How long a session read waits for the running cost before answering without it (default 2000). */
  runningCostTimeoutMs?: number;
}

export interface ResolvedDeps {
  db: Knex;
  runningCost: (workflowId: string) => Promise<RunningCost | undefined>;
  log: Logger;
  runningCostTimeoutMs: number;
}
