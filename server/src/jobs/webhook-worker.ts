import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { processWebhookEvents, type ProcessOptions } from '../services/webhooks/index.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

export type WebhookWorker = PollingLoop;

/**
 * Processes stored webhook events until stopped; the intake wakes it after storing events. A
 * failed batch rolls back and its events are taken again on the next round.
 */
export function startWebhookWorker(
  deps: ServiceDeps,
  options: ProcessOptions & { logger: Logger; pollMs?: number },
): WebhookWorker {
  return startPollingLoop({
    name: 'webhook processing',
    round: () => processWebhookEvents(deps, options),
    logger: options.logger,
    pollMs: options.pollMs ?? 1_000,
  });
}
