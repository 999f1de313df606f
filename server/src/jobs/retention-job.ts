import type { Logger } from '../logger.ts';
import { leaseHolderName, type ServiceDeps } from '../services/common/index.ts';
import { runDueRetention } from '../services/retention/index.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

/**
 * Removes what is past each workspace's retention periods (issue 21, point 11), once a day per
 * workspace. Every server runs it; the lease and SKIP LOCKED give each workspace's run to one of
 * them, and a run a dead server left is finished by another once its lease lapses.
 */
export function startRetentionJob(deps: ServiceDeps, options: { logger: Logger }): PollingLoop {
  const job = {
    holder: leaseHolderName(),
    leaseMs: 5 * 60_000,
    batchSize: 1_000,
    // A few seconds of deletes a round, then other workspaces (and the lease renewed) before more.
    batchesPerRound: 20,
    everyMs: 86_400_000,
  };
  return startPollingLoop({
    name: 'retention',
    round: () => runDueRetention(deps, job),
    logger: options.logger,
    pollMs: 60_000,
  });
}
