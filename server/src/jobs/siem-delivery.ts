import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { deliverToDueSiemDestination, type SiemDelivery } from '../services/siem/index.ts';
import type { AgentTraffic } from '../agent-traffic.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

/**
 * Streams the audit chain to the workspaces' SIEM destinations (issue 22): a batch per round while
 * any destination is behind and due, else a look every `pollMs`. Every server runs it; the leases
 * and SKIP LOCKED give each batch to one of them, and the cursors make a restart resume.
 */
export function startSiemDelivery(
  deps: ServiceDeps,
  options: {
    logger: Logger;
    pollMs: number;
    delivery: SiemDelivery;
    /** While agent requests are in flight, one batch per `busyIntervalMs` at most (see yieldsToAgents). */
    agentTraffic?: AgentTraffic;
    busyIntervalMs?: number;
  },
): PollingLoop {
  let lastBatchAt = Number.NEGATIVE_INFINITY;
  return startPollingLoop({
    name: 'siem delivery',
    round: async () => {
      const now = performance.now();
      if (
        options.agentTraffic &&
        yieldsToAgents(options.agentTraffic.inFlight, now - lastBatchAt, options.busyIntervalMs)
      )
        return 0;
      lastBatchAt = now;
      // A failed attempt counts as work: the destination waits out its backoff, and the next one due goes now.
      return (await deliverToDueSiemDestination(deps, options.delivery)).claimed ? 1 : 0;
    },
    logger: options.logger,
    pollMs: options.pollMs,
  });
}

/**
 * Whether streaming waits this round: while agents' requests are in flight it sends one batch per
 * `busyIntervalMs` (default a second), so a backlog still moves without taking the event loop and
 * the database from an agent's change set; with none in flight it streams at full speed.
 */
export function yieldsToAgents(inFlight: number, sinceLastBatchMs: number, busyIntervalMs = 1_000): boolean {
  return inFlight > 0 && sinceLastBatchMs < busyIntervalMs;
}
