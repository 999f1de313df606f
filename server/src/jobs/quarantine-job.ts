import type { Logger } from '../logger.ts';
import {
  claimQuarantineRun,
  unmarkClearedReviews,
  workspacesWithReviewsToClear,
} from '../services/governance/index.ts';
import { leaseHolderName, type ServiceDeps } from '../services/common/index.ts';
import type { PollingLoop } from './polling-loop.ts';
import { type LaneWork, startWorkspaceLanes } from './workspace-lanes.ts';

/**
 * Marks quarantined records for review in the CRM (issue 21) and empties the mark of those
 * cleared: each quarantine held under a lease, so any number of servers share the work and one that
 * dies mid-quarantine leaves the rest to the next. Each workspace's work runs in its own lane
 * (issue 23): one waiting out its portal's 429s holds up no other workspace's.
 */
export function startQuarantineJob(deps: ServiceDeps, options: { logger: Logger; pollMs?: number }): PollingLoop {
  const holder = leaseHolderName();
  let stopping = false;
  const lanes = startWorkspaceLanes({
    name: 'quarantine',
    next: async (running, room) => {
      const found: LaneWork[] = [];
      const except = [...running];
      while (found.length < room) {
        const quarantine = await claimQuarantineRun(deps, { holder, stopping: () => stopping, except });
        if (!quarantine) break;
        const { workspaceId } = quarantine;
        except.push(workspaceId);
        found.push({ workspaceId, work: () => quarantine.run().then(() => 1) });
      }
      const toClear = await workspacesWithReviewsToClear(deps, { except, limit: room - found.length });
      for (const workspaceId of toClear)
        found.push({ workspaceId, work: () => unmarkClearedReviews(deps, workspaceId) });
      return found;
    },
    logger: options.logger,
    pollMs: options.pollMs ?? 2_000,
  });
  return {
    wake: () => lanes.wake(),
    async stop() {
      stopping = true;
      await lanes.stop();
    },
  };
}
