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
  /**
   * The part of the time streaming may take while agents are active, counted by each batch's own
   * duration: a batch that took 20 ms waits 980 ms at 2%. Its duration is what it cost here (on
   * PGlite the database's work too, on this event loop), so a slow database or a loaded machine
   * slows streaming down rather than the agents.
   */
  busyShare: number;
  /** Events per request while agents are active: a short hold of the event loop, however large SIEM_EVENTS_PER_REQUEST. */
  busyEventsPerRequest: number;
}

export const AGENT_YIELD: AgentYield = { quietMs: 500, busyShare: 0.02, busyEventsPerRequest: 100 };

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
  const busyDelivery = {
    ...options.delivery,
    eventsPerRequest: Math.min(options.delivery.eventsPerRequest, agentYield.busyEventsPerRequest),
  };
  let lastBatch = { endedAt: Number.NEGATIVE_INFINITY, ms: 0 };
  return startPollingLoop({
    name: 'siem delivery',
    round: async () => {
      const started = performance.now();
      if (
        agentTraffic &&
        yieldsToAgents(
          { idleMs: agentTraffic.idleMs(), sinceLastBatchMs: started - lastBatch.endedAt, lastBatchMs: lastBatch.ms },
          agentYield,
        )
      )
        return 0;
      try {
        const delivery = agentsActive() ? busyDelivery : options.delivery;
        // A failed attempt counts as work: the destination waits out its backoff, and the next one due goes now.
        return (await deliverToDueSiemDestination(deps, delivery, { stopWhen: agentsActive })).claimed ? 1 : 0;
      } finally {
        const endedAt = performance.now();
        lastBatch = { endedAt, ms: endedAt - started };
      }
    },
    logger: options.logger,
    pollMs: options.pollMs,
  });
}

/** Whether agents count as active: a request in flight, or one answered less than `quietMs` ago. */
function agentsActiveAfter(idleMs: number, agentYield: AgentYield = AGENT_YIELD): boolean {
  return idleMs < agentYield.quietMs;
}

/**
 * Whether streaming waits this round: while agents are active it sends a small batch, then waits
 * until that batch's duration is `busyShare` of the time since it started, so a backlog still moves
 * without taking the event loop and the database from an agent's change set; once they have been
 * quiet for `quietMs` it streams at full speed.
 */
export function yieldsToAgents(
  state: { idleMs: number; sinceLastBatchMs: number; lastBatchMs: number },
  agentYield: AgentYield = AGENT_YIELD,
): boolean {
  const waitMs = (state.lastBatchMs * (1 - agentYield.busyShare)) / agentYield.busyShare;
  return agentsActiveAfter(state.idleMs, agentYield) && state.sinceLastBatchMs < waitMs;
}
