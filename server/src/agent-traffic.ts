/**
 * The agent API requests (change sets, drafts, MCP calls) in flight on this server, and how long it
 * has been since the last one was answered. Background streaming yields to them (issue 22): an
 * agent's change set must not slow down because a SIEM backlog is streaming beside it on the same
 * event loop and database.
 */
export interface AgentTraffic {
  /** Counts a request until the returned function is called (once; later calls do nothing). */
  begin(): () => void;
  readonly inFlight: number;
  /** Milliseconds since the last request was answered: 0 while one is in flight, Infinity before the first. */
  idleMs(): number;
}

export function createAgentTraffic(now: () => number = () => performance.now()): AgentTraffic {
  let inFlight = 0;
  let lastEndedAt = Number.NEGATIVE_INFINITY;
  return {
    begin() {
      inFlight += 1;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        inFlight -= 1;
        lastEndedAt = now();
      };
    },
    get inFlight() {
      return inFlight;
    },
    idleMs() {
      return inFlight > 0 ? 0 : now() - lastEndedAt;
    },
  };
}
