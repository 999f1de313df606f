import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import {
  type ProcessOptions,
  processWorkspaceEvents,
  workspacesWithWebhookEvents,
} from '../services/webhooks/index.ts';
import type { PollingLoop } from './polling-loop.ts';
import { startWorkspaceLanes } from './workspace-lanes.ts';

export type WebhookWorker = PollingLoop;

/**
 * Processes stored webhook events until stopped; the intake wakes it after storing events. A
 * failed batch rolls back and its events are taken again on the next round. Each workspace's
 * events go in its own lane, so a portal waiting out a 429 storm (a revert) holds up no other's.
 */
export function startWebhookWorker(
  deps: ServiceDeps,
  options: ProcessOptions & { logger: Logger; pollMs?: number },
): WebhookWorker {
  return startWorkspaceLanes({
    name: 'webhook processing',
    next: async (running, room) =>
      (await workspacesWithWebhookEvents(deps, { limit: room, except: running })).map((workspaceId) => ({
        workspaceId,
        work: () => processWorkspaceEvents(deps, workspaceId, options),
      })),
    logger: options.logger,
    pollMs: options.pollMs ?? 1_000,
  });
}
