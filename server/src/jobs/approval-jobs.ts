import type { Logger } from '../logger.ts';
import {
  syncApprovalMirror,
  sweepExpiredDrafts,
  sweepExpiredApprovals,
  retryDueApplies,
} from '../services/held/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

export type ApprovalJobs = PollingLoop;

/**
 * The approvals' background work (issue 5), each round: expire pending approvals and drafts past
 * their expiry, write approved ones whose write failed or never ran, and bring the CRM's copy (shadow
 * values, pending counts, approval objects) up to date. The approvals are the queue, so work
 * missed while the server was down happens at the next start.
 */
export function startApprovalJobs(deps: ServiceDeps, options: { logger: Logger; pollMs?: number }): ApprovalJobs {
  const round = async () => {
    const now = deps.clock();
    const expired = (await sweepExpiredApprovals(deps, now)) + (await sweepExpiredDrafts(deps, now));
    const retried = await retryDueApplies(deps);
    const mirror = await syncApprovalMirror(deps);
    if (expired > 0) options.logger.info('approvals expired', { expired });
    for (const failure of mirror.failed) options.logger.error('approval mirror write failed; retrying later', failure);
    // Mirror failures are deferred, not due again at once, so only writes done count as work found.
    return expired + retried + mirror.written;
  };
  return startPollingLoop({ name: 'approval jobs', round, logger: options.logger, pollMs: options.pollMs ?? 2_000 });
}
