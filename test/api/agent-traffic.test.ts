import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentTraffic, createAgentTraffic } from '../../server/src/agent-traffic.ts';
import { AGENT_YIELD, yieldsToAgents } from '../../server/src/jobs/siem-delivery.ts';
import { seedContact } from '../support/approvals.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Issue 22: SIEM streaming yields to agents' requests, so a change set is not slowed by a backlog
// streaming beside it; the server counts the agent API requests in flight to know when.
const counted = createAgentTraffic();
let begun = 0;
/** The server's own counter, also telling how many requests it has counted in all. */
const traffic: AgentTraffic = {
  begin: () => {
    begun += 1;
    return counted.begin();
  },
  get inFlight() {
    return counted.inFlight;
  },
  idleMs: () => counted.idleMs(),
};
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  harness = await startHarness({ agentTraffic: traffic });
  ws = await seedWorkspace(harness);
});
afterAll(() => harness.close());

describe('agent traffic and the streaming that yields to it', () => {
  it('counts change sets and MCP calls, not admin calls, each until it is answered', async () => {
    const recordId = seedContact(harness);
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      body: {
        batchId: 'traffic',
        objectType: 'contacts',
        changes: [
          { recordId, properties: { jobtitle: 'CTO' }, evidence: { source: 'apollo', reason: 'profile says so' } },
        ],
      },
    });
    expect(submitted.status).toBe(201);
    expect({ begun, inFlight: traffic.inFlight }).toEqual({ begun: 1, inFlight: 0 });
    await api(harness, 'POST', '/mcp', { token: ws.agents[0]!.token, body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
    await api(harness, 'GET', '/v1/admin/agents', { token: ws.adminToken });
    expect({ begun, inFlight: traffic.inFlight }).toEqual({ begun: 2, inFlight: 0 });
  });

  it('yields while a request is in flight and for a quiet period after the last one, taking 2% of the time meanwhile', () => {
    const waits = (idleMs: number, sinceLastBatchMs: number, lastBatchMs = 20) =>
      yieldsToAgents({ idleMs, sinceLastBatchMs, lastBatchMs });
    expect(waits(Number.POSITIVE_INFINITY, 0)).toBe(false);
    expect(waits(0, 10)).toBe(true);
    // The gap between an agent's back-to-back change sets is no quiet period: no full speed in it.
    expect(waits(20, 10)).toBe(true);
    // A batch of 20 ms waits 980 ms; one of 100 ms (a slow database, a loaded machine) waits 4.9 s.
    expect([waits(20, 970), waits(20, 990)]).toEqual([true, false]);
    expect([waits(20, 4_800, 100), waits(20, 5_000, 100)]).toEqual([true, false]);
    expect(waits(AGENT_YIELD.quietMs, 10)).toBe(false);
    expect(
      yieldsToAgents({ idleMs: 100, sinceLastBatchMs: 300, lastBatchMs: 100 }, { ...AGENT_YIELD, busyShare: 0.25 }),
    ).toBe(false);
  });

  it('tells how long since the last request was answered, zero while one is in flight', () => {
    let now = 1_000;
    const gauge = createAgentTraffic(() => now);
    expect(gauge.idleMs()).toBe(Number.POSITIVE_INFINITY);
    const first = gauge.begin();
    const second = gauge.begin();
    now += 400;
    first();
    expect(gauge.idleMs()).toBe(0);
    now += 100;
    second();
    now += 250;
    expect(gauge.idleMs()).toBe(250);
  });

  it('ends a count once, however often its end is called', () => {
    const gauge = createAgentTraffic();
    const end = gauge.begin();
    gauge.begin();
    end();
    end();
    expect(gauge.inFlight).toBe(1);
  });
});
