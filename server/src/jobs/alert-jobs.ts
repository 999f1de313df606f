import type { Logger } from '../logger.ts';
import {
  type AlertDelivery,
  type AlertEvaluation,
  deliverDueAlert,
  evaluateDueAlertRule,
} from '../services/alerts/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

/**
 * Alerts to people (issue 22, part 3): one loop evaluates the rules that have something to look
 * at and queues what they raise, the other sends the queue. Every server runs both; leases and
 * SKIP LOCKED give each rule and each delivery to one of them, and the stored cursors and outbox
 * rows make a restart resume.
 */
export function startAlertJobs(
  deps: ServiceDeps,
  options: { logger: Logger; pollMs: number; evaluation: AlertEvaluation; delivery: AlertDelivery },
): PollingLoop {
  const delivery = startPollingLoop({
    name: 'alert delivery',
    round: async () => ((await deliverDueAlert(deps, options.delivery)) ? 1 : 0),
    logger: options.logger,
    pollMs: options.pollMs,
  });
  const evaluation = startPollingLoop({
    name: 'alert rules',
    round: async () => {
      const raised = await evaluateDueAlertRule(deps, options.evaluation);
      if (raised) delivery.wake();
      return raised === undefined ? 0 : 1;
    },
    logger: options.logger,
    pollMs: options.pollMs,
  });
  return {
    wake: () => evaluation.wake(),
    stop: async () => {
      await Promise.all([evaluation.stop(), delivery.stop()]);
    },
  };
}
