import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { sweepExpiredApprovals } from '../services/expire-approvals.ts';

export interface ApprovalExpiryJob {
  /** Waits for a sweep in progress, then stops; nothing is lost, the next start sweeps again. */
  stop(): Promise<void>;
}

/**
 * Sweeps expired approvals every `everyMs` (issue 5). Durable in the sense that matters: the
 * approvals themselves are the queue, so a sweep missed while the server was down happens at
 * the next start. Any number of servers may run it; locked rows are skipped.
 */
export function startApprovalExpiryJob(deps: ServiceDeps, options: { logger: Logger; everyMs?: number }): ApprovalExpiryJob {
  let running: Promise<void> = Promise.resolve();
  const sweep = () => {
    running = sweepExpiredApprovals(deps, deps.clock())
      .then((expired) => {
        if (expired > 0) options.logger.info('approvals expired', { expired });
      })
      .catch((error: unknown) => options.logger.error('approval expiry sweep failed', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
  };
  sweep();
  const timer = setInterval(sweep, options.everyMs ?? 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
