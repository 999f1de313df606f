import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { claimInterruptedChangeSet } from '../services/change-sets/index.ts';
import type { PollingLoop } from './polling-loop.ts';
import { startWorkspaceLanes } from './workspace-lanes.ts';

/**
 * Finishes change sets whose writer died mid-write (issue 17): at start, then every `pollMs`,
 * while any lease has lapsed. Every server runs it; the lease and SKIP LOCKED give each change set
 * to one of them. Each workspace's recovery runs in its own lane (issue 23): one waiting out its
 * portal's 429s holds up no other workspace's.
 */
export function startChangeSetRecovery(deps: ServiceDeps, options: { logger: Logger; pollMs: number }): PollingLoop {
  return startWorkspaceLanes({
    name: 'change set recovery',
    next: async (running) => {
      const claimed = await claimInterruptedChangeSet(deps, running);
      if (!claimed) return [];
      const work = async () => {
        const result = await claimed.recover();
        options.logger.info('interrupted change set recovered', { result });
        return 1;
      };
      return [{ workspaceId: claimed.workspaceId, work }];
    },
    logger: options.logger,
    pollMs: options.pollMs,
  });
}
