import type { Logger } from '../logger.ts';
import { claimAndRunQuarantine, unmarkClearedReviews } from '../services/governance/index.ts';
import { leaseHolderName, type ServiceDeps } from '../services/common/index.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

/**
 * Marks quarantined records for review in the CRM (issue 21) and empties the mark of those
 * cleared: one quarantine per round, held under a lease, so any number of servers share the work
 * and one that dies mid-quarantine leaves the rest to the next.
 */
export function startQuarantineJob(deps: ServiceDeps, options: { logger: Logger; pollMs?: number }): PollingLoop {
  const holder = leaseHolderName();
  let stopping = false;
  const loop = startPollingLoop({
    name: 'quarantine',
    round: async () => {
      const ran = await claimAndRunQuarantine(deps, { holder, stopping: () => stopping });
      const unmarked = await unmarkClearedReviews(deps);
      return (ran === 'none' ? 0 : 1) + unmarked;
    },
    logger: options.logger,
    pollMs: options.pollMs ?? 2_000,
  });
  return {
    wake: () => loop.wake(),
    async stop() {
      stopping = true;
      await loop.stop();
    },
  };
}
