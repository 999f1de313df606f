import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import {
  type ProcessOptions,
  processWorkspaceEvents,
  SPLIT_BATCH,
  splitStoredDeliveries,
  workspacesWithWebhookEvents,
} from '../services/webhooks/index.ts';
import type { PollingLoop } from './polling-loop.ts';
import { startWorkspaceLanes } from './workspace-lanes.ts';

export type WebhookWorker = PollingLoop;

/**
 * Splits the deliveries intake stored into events and processes them until stopped; the intake
 * wakes it after storing a delivery. A failed batch rolls back and its events are taken again on the next round. Each workspace's
 * events go in its own lane, so a portal waiting out a 429 storm (a revert) holds up no other's.
 */
export function startWebhookWorker(
  deps: ServiceDeps,
  options: ProcessOptions & { logger: Logger; pollMs?: number },
): WebhookWorker {
  const worker = startWorkspaceLanes({
    name: 'webhook processing',
    next: async (running, room) => {
      // A full batch split means more deliveries wait: the next round comes at once.
      // A row set aside is logged by id and SQLSTATE: Postgres's reason may quote the row's values.
      const split = await splitStoredDeliveries(deps, (setAside) =>
        options.logger.error('webhook delivery set aside: it cannot be split', setAside),
      );
      if (split === SPLIT_BATCH) worker.wake();
      return (await workspacesWithWebhookEvents(deps, { limit: room, except: running })).map((workspaceId) => ({
        workspaceId,
        work: () => processWorkspaceEvents(deps, workspaceId, options),
      }));
    },
    logger: options.logger,
    pollMs: options.pollMs ?? 1_000,
  });
  return worker;
}
