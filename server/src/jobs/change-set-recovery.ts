import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { recoverInterruptedChangeSet } from '../services/change-sets/index.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

/**
 * Finishes change sets whose writer died mid-write (issue 17): at start, then every `pollMs`,
 * one change set per round while any lease has lapsed. Every server runs it; the lease and
 * SKIP LOCKED give each change set to one of them.
 */
export function startChangeSetRecovery(deps: ServiceDeps, options: { logger: Logger; pollMs: number }): PollingLoop {
  const round = async () => {
    const result = await recoverInterruptedChangeSet(deps);
    if (result !== 'none') options.logger.info('interrupted change set recovered', { result });
    return result === 'none' ? 0 : 1;
  };
  return startPollingLoop({ name: 'change set recovery', round, logger: options.logger, pollMs: options.pollMs });
}
