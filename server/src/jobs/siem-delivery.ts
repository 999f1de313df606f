import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { deliverToDueSiemDestination, type SiemDelivery } from '../services/siem/index.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

/**
 * Streams the audit chain to the workspaces' SIEM destinations (issue 22): a batch per round while
 * any destination is behind and due, else a look every `pollMs`. Every server runs it; the leases
 * and SKIP LOCKED give each batch to one of them, and the cursors make a restart resume.
 */
export function startSiemDelivery(
  deps: ServiceDeps,
  options: { logger: Logger; pollMs: number; delivery: SiemDelivery },
): PollingLoop {
  return startPollingLoop({
    name: 'siem delivery',
    // A failed attempt counts as work: the destination waits out its backoff, and the next one due goes now.
    round: async () => ((await deliverToDueSiemDestination(deps, options.delivery)).claimed ? 1 : 0),
    logger: options.logger,
    pollMs: options.pollMs,
  });
}
