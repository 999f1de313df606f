import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { claimRollbackRun, DEFAULT_LEASE_MS, leaseHolderName } from '../services/rollbacks/index.ts';
import { type LaneWork, startWorkspaceLanes } from './workspace-lanes.ts';

export interface RollbackWorker {
  /** Lets the rollbacks in hand finish their current step, then stops; the leases run out and another process resumes them. */
  stop(): Promise<void>;
}

/**
 * Runs rollbacks (issue 7) until stopped: claims those whose lease is free (new, resumed, or left
 * by a process that died) and works each to the end, one workspace's at a time in that workspace's
 * lane (issue 23): a rollback waiting out its portal's 429s holds up no other workspace's. Polling is
 * the only wake-up: a rollback is started by an admin, rarely, and a second's delay is nothing beside its length.
 */
export function startRollbackWorker(
  deps: ServiceDeps,
  options: { logger: Logger; pollMs?: number; leaseMs?: number },
): RollbackWorker {
  const holder = leaseHolderName();
  let stopped = false;
  const run = { holder, leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS, stopping: () => stopped };
  const lanes = startWorkspaceLanes({
    name: 'rollback',
    next: async (running, room) => {
      const claimed: LaneWork[] = [];
      const except = [...running];
      while (claimed.length < room) {
        const rollback = await claimRollbackRun(deps, { ...run, except });
        if (!rollback) break;
        except.push(rollback.workspaceId);
        // However it ended, another rollback may wait behind it: look again at once.
        claimed.push({ workspaceId: rollback.workspaceId, work: () => rollback.run().then(() => 1) });
      }
      return claimed;
    },
    logger: options.logger,
    pollMs: options.pollMs ?? 1_000,
  });
  return {
    async stop() {
      stopped = true;
      await lanes.stop();
    },
  };
}
