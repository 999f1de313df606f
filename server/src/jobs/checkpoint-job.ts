import type { Logger } from '../logger.ts';
import { publishDueCheckpoints, type CheckpointPublishing } from '../services/governance/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

/** How often a server looks for a due checkpoint; a checkpoint every N events is at most this late. */
const MAX_POLL_MS = 5_000;

/** Publishes signed audit checkpoints (issue 17); safe on any number of servers sharing one database. */
export function startCheckpointJob(
  deps: ServiceDeps,
  options: { logger: Logger; publishing: CheckpointPublishing },
): PollingLoop {
  return startPollingLoop({
    name: 'audit checkpoints',
    round: () => publishDueCheckpoints(deps, options.publishing),
    logger: options.logger,
    pollMs: Math.min(options.publishing.everyMs, MAX_POLL_MS),
  });
}
