import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { deliverToDueSiemDestination, type SiemDelivery } from '../services/siem/index.ts';
import type { AgentTraffic } from '../agent-traffic.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

/** How streaming yields to agents' requests (see yieldsToAgents). */
export interface AgentYield {
  /**
   * How long after the last agent request was answered agents still count as active: an agent
   * sending change sets back to back leaves gaps of a few milliseconds between them, and a batch
   * started in one holds the event loop and the database into the next change set.
   */
  quietMs: number;
  /** While agents are active, one batch per this long at most. */
  busyIntervalMs: number;
}

export const AGENT_YIELD: AgentYield = { quietMs: 500, busyIntervalMs: 1_000 };

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
    /** The agent requests streaming yields to (see yieldsToAgents). */
    agentTraffic?: AgentTraffic;
    agentYield?: AgentYield;
  },
): PollingLoop {
  const { agentTraffic, agentYield = AGENT_YIELD } = options;
  const agentsActive = () => agentTraffic !== undefined && agentsActiveAfter(agentTraffic.idleMs(), agentYield);
  let lastBatchEndedAt = Number.NEGATIVE_INFINITY;
  return startPollingLoop({
    name: 'siem delivery',
    round: async () => {
      if (
        agentTraffic &&
        yieldsToAgents(
          { idleMs: agentTraffic.idleMs(), sinceLastBatchMs: performance.now() - lastBatchEndedAt },
          agentYield,
        )
      )
        return 0;
      try {
        // A failed attempt counts as work: the destination waits out its backoff, and the next one due goes now.
        return (await deliverToDueSiemDestination(deps, options.delivery, { stopWhen: agentsActive })).claimed ? 1 : 0;
      } finally {
        lastBatchEndedAt = performance.now();
      }
    },
    logger: options.logger,
    pollMs: options.pollMs,
  });
}

/** Whether agents count as active: a request in flight, or one answered less than `quietMs` ago. */
export function agentsActiveAfter(idleMs: number, agentYield: AgentYield = AGENT_YIELD): boolean {
  return idleMs < agentYield.quietMs;
}

/**
 * Whether streaming waits this round: while agents are active it sends one batch per
 * `busyIntervalMs`, counted from the end of the last, so a backlog still moves without taking the
 * event loop and the database from an agent's change set; once they have been quiet for `quietMs`
 * it streams at full speed.
 */
export function yieldsToAgents(
  state: { idleMs: number; sinceLastBatchMs: number },
  agentYield: AgentYield = AGENT_YIELD,
): boolean {
  return agentsActiveAfter(state.idleMs, agentYield) && state.sinceLastBatchMs < agentYield.busyIntervalMs;
}
