import type { Logger } from '../logger.ts';
import {
  retryDueApplies,
  sweepExpiredApprovals,
  sweepExpiredDrafts,
  sweepExpiredEntries,
  syncWorkspaceMirror,
  workspacesWithApprovalWork,
} from '../services/held/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';
import { startWorkspaceLanes } from './workspace-lanes.ts';

export type ApprovalJobs = PollingLoop;

/**
 * The approvals' background work (issue 5): expire pending approvals, drafts, creations and associations past their expiry,
 * write approved ones whose write failed or never ran, and bring the CRM's copy (shadow values,
 * pending counts, approval objects) up to date. The approvals are the queue, so work missed while
 * the server was down happens at the next start. The CRM work goes in one lane per workspace
 * (issue 23): a portal waiting out a 429 storm holds up only its own writes and copies.
 */
export function startApprovalJobs(deps: ServiceDeps, options: { logger: Logger; pollMs?: number }): ApprovalJobs {
  const pollMs = options.pollMs ?? 2_000;
  const expiry = startPollingLoop({
    name: 'approval expiry',
    round: async () => {
      const now = deps.clock();
      const expired =
        (await sweepExpiredApprovals(deps, now)) +
        (await sweepExpiredDrafts(deps, now)) +
        (await sweepExpiredEntries(deps, now));
      if (expired > 0) options.logger.info('approvals expired', { expired });
      return expired;
    },
    logger: options.logger,
    pollMs,
  });
  const writes = startWorkspaceLanes({
    name: 'approval jobs',
    next: async (running, room) =>
      (await workspacesWithApprovalWork(deps, { except: running, limit: room })).map((workspaceId) => ({
        workspaceId,
        work: async () => {
          const retried = await retryDueApplies(deps, { workspaceId });
          const mirror = await syncWorkspaceMirror(deps, workspaceId);
          for (const failure of mirror.failed) {
            options.logger.error('approval mirror write failed; retrying later', failure);
          }
          // Mirror failures are deferred, not due again at once, so only writes done count as work found.
          return retried + mirror.written;
        },
      })),
    logger: options.logger,
    pollMs,
  });
  return {
    wake() {
      expiry.wake();
      writes.wake();
    },
    async stop() {
      await Promise.all([expiry.stop(), writes.stop()]);
    },
  };
}
