import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// The MCP endpoint (issue 22) as a client that gets the protocol wrong meets it.
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
beforeAll(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
});
afterAll(() => harness.close());

async function mcp(message: object): Promise<{ status: number; body: any }> {
  const res = await fetch(`${harness.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ws.agents[0]!.token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify(message),
  });
  return { status: res.status, body: await res.json() };
}

describe('POST /mcp', () => {
  it.each([
    ['arguments that are null', { name: 'what_may_i_change', arguments: null }],
    ['arguments that are a list', { name: 'what_may_i_change', arguments: [] }],
    ['no tool name', { arguments: {} }],
  ])('answers a tools/call with %s as invalid params (-32602), not an internal error', async (_what, params) => {
    const res = await mcp({ jsonrpc: '2.0', id: 7, method: 'tools/call', params });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 7,
      error: { code: -32602, message: expect.stringMatching(/Invalid tools\/call request: .*params/s) },
    });
  });

  it('still runs a well-formed call, arguments left out included', async () => {
    const res = await mcp({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'what_may_i_change' } });
    expect(res.body.result.isError).toBeUndefined();
    expect(JSON.parse(res.body.result.content[1].text)).toMatchObject({ role: 'enrichment' });
  });
});
