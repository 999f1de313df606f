/**
 * The agent API requests (change sets, drafts, MCP calls) in flight on this server. Background
 * streaming yields to them (issue 22): an agent's change set must not slow down because a SIEM
 * backlog is streaming beside it on the same event loop and database.
 */
export interface AgentTraffic {
  /** Counts a request until the returned function is called (once; later calls do nothing). */
  begin(): () => void;
  readonly inFlight: number;
}

export function createAgentTraffic(): AgentTraffic {
  let inFlight = 0;
  return {
    begin() {
      inFlight += 1;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        inFlight -= 1;
      };
    },
    get inFlight() {
      return inFlight;
    },
  };
}
