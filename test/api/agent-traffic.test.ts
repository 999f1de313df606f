import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentTraffic, createAgentTraffic } from '../../server/src/agent-traffic.ts';
import { yieldsToAgents } from '../../server/src/jobs/siem-delivery.ts';
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

  it('streams at full speed with no agent in flight, and one batch a second while agents work', () => {
    expect(yieldsToAgents(0, 0)).toBe(false);
    expect(yieldsToAgents(2, 10)).toBe(true);
    expect(yieldsToAgents(2, 1_000)).toBe(false);
    expect(yieldsToAgents(1, 300, 250)).toBe(false);
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
