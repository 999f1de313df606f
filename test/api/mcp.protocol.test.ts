import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAgentStatus, setKillSwitch } from '../../server/src/services/governance/index.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { seedContact } from '../support/approvals.ts';
import { allRowCounts } from '../support/row-counts.ts';

// The MCP endpoint (issue 22) as a client that gets the protocol wrong meets it.
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
beforeAll(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment', 'enrichment']);
});
afterAll(() => harness.close());

/** A POST to /mcp of `body` as it is, as the first agent unless `headers` say otherwise. */
function postMcp(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${harness.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ws.agents[0]!.token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body,
  });
}

async function mcp(message: object | object[]): Promise<{ status: number; body: any }> {
  const res = await postMcp(JSON.stringify(message));
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

  it('answers every tool call with STOP while the workspace switch suspends agent tokens, not an HTTP error', async () => {
    const engage = (engaged: boolean) =>
      setKillSwitch(harness.deps, ws.workspaceId, { scope: 'workspace', engaged, reason: 'Incident 42.' }, ADMIN);
    await engage(true);
    try {
      const init = await mcp({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'agent', version: '1' } },
      });
      expect(init).toMatchObject({ status: 200, body: { result: { serverInfo: { name: 'agent-governance' } } } });
      for (const name of ['what_may_i_change', 'propose_crm_changes']) {
        const call = await mcp({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });
        expect(call.status).toBe(200);
        expect(call.body.result.isError).toBe(true);
        expect(call.body.result.content[0].text).toMatch(/^STOP: A workspace kill switch is engaged: Incident 42/);
        expect(JSON.parse(call.body.result.content[1].text).error).toMatchObject({
          code: 'KILL_SWITCH_ENGAGED',
          stop: true,
          details: { tokensSuspended: true },
        });
      }
      // The REST API still answers 423, and a token that is no agent's is still refused before any MCP message.
      const rest = await api(harness, 'POST', '/v1/records/read', {
        token: ws.agents[0]!.token,
        body: { objectType: 'contacts', recordIds: ['1'] },
      });
      expect(rest.status).toBe(423);
      const stranger = await fetch(`${harness.url}/mcp`, {
        method: 'POST',
        headers: { authorization: 'Bearer agt_nobody', 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }),
      });
      expect(stranger.status).toBe(401);
    } finally {
      await engage(false);
    }
  });
});

describe('a JSON-RPC batch on POST /mcp', () => {
  const propose = (id: number | string, batchId: string, recordId: string) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: 'propose_crm_changes',
      arguments: {
        batchId,
        objectType: 'contacts',
        changes: [{ recordId, properties: { jobtitle: 'CTO' }, evidence: { source: 'apollo', reason: 'profile' } }],
      },
    },
  });

  it('refuses a batch whose requests share an id before running any, since one answer would be lost', async () => {
    // Both calls ran and held a change each, and the one answer said nothing of the other change set.
    const recordId = seedContact(harness);
    const before = await allRowCounts(harness.database.db);
    const crmCalls = harness.hubspot.calls.count();
    const res = await mcp([propose(1, 'twin-a', recordId), propose(1, 'twin-b', recordId)]);
    expect(res).toMatchObject({
      status: 400,
      body: {
        jsonrpc: '2.0',
        id: null,
        error: {
          code: -32600,
          message: expect.stringMatching(/2 requests of this batch have the id 1\b.*None was run/),
        },
      },
    });
    expect(await allRowCounts(harness.database.db)).toEqual(before);
    expect(harness.hubspot.calls.count()).toBe(crmCalls);
  });

  it('answers each request of a batch whose ids differ, 1 and "1" included', async () => {
    const recordId = seedContact(harness);
    const res = await mcp([propose(1, 'pair-a', recordId), propose('1', 'pair-b', recordId)]);
    expect(res.status).toBe(200);
    const answers = res.body as { id: number | string; result: { content: { text: string }[] } }[];
    expect(answers.map((answer) => answer.id).sort()).toEqual([1, '1']);
    expect(answers.map((answer) => JSON.parse(answer.result.content[1]!.text).batchId).sort()).toEqual([
      'pair-a',
      'pair-b',
    ]);
  });
});

describe('a request to /mcp refused before the MCP server reads it', () => {
  const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
  const nested = (depth: number): object => (depth === 0 ? {} : { a: nested(depth - 1) });
  // Each was answered in the REST API's error body, which no MCP client reads as a JSON-RPC answer.
  const cases: {
    name: string;
    raw: string;
    headers?: Record<string, string>;
    status: number;
    rpc: number;
    code: string;
    message: RegExp;
  }[] = [
    {
      name: 'a body that is not JSON',
      raw: '{"jsonrpc": "2.0", "id": 1, "method": "ping"',
      status: 400,
      rpc: -32700,
      code: 'MALFORMED_JSON',
      message: /^The request body is not valid JSON\.$/,
    },
    {
      name: 'a JSON text that is neither an object nor a list',
      raw: '42',
      status: 400,
      rpc: -32700,
      code: 'MALFORMED_JSON',
      message: /must be a JSON object or array/,
    },
    {
      name: 'a body over the size limit',
      raw: JSON.stringify({ ...ping, params: { pad: 'x'.repeat(3 * 1024 * 1024) } }),
      status: 413,
      rpc: -32000,
      code: 'BODY_TOO_LARGE',
      message: /larger than this server accepts/,
    },
    {
      name: 'a body nested deeper than 32 levels',
      raw: JSON.stringify({ ...ping, params: nested(40) }),
      status: 400,
      rpc: -32600,
      code: 'VALIDATION_FAILED',
      message: /^The request body is invalid: params(\.a)+ /,
    },
    {
      name: 'a NUL in a string',
      raw: JSON.stringify({ ...ping, params: { note: 'a\u0000b' } }),
      status: 400,
      rpc: -32600,
      code: 'VALIDATION_FAILED',
      message: /params\.note .*NUL/,
    },
    {
      name: 'a lone surrogate in a string',
      raw: '{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"note": "\\ud800"}}',
      status: 400,
      rpc: -32600,
      code: 'VALIDATION_FAILED',
      message: /params\.note .*surrogate/,
    },
    {
      name: 'a key given twice',
      raw: '{"jsonrpc": "2.0", "id": 1, "id": 2, "method": "ping"}',
      status: 400,
      rpc: -32600,
      code: 'VALIDATION_FAILED',
      message: /holds the key "id" twice/,
    },
    {
      name: 'a body sent as a form',
      raw: JSON.stringify(ping),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 415,
      rpc: -32000,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: /Content-Type: application\/json/,
    },
    {
      name: 'a body in charset iso-8859-1',
      raw: JSON.stringify(ping),
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
      status: 400,
      rpc: -32600,
      code: 'VALIDATION_FAILED',
      message: /must be UTF-8; it came as charset iso-8859-1/,
    },
    {
      name: 'a Content-Encoding the server does not read',
      raw: JSON.stringify(ping),
      headers: { 'content-encoding': 'compress' },
      status: 400,
      rpc: -32600,
      code: 'VALIDATION_FAILED',
      message: /Content-Encoding this server does not read/,
    },
    {
      name: 'a token that is no agent’s',
      raw: JSON.stringify(ping),
      headers: { authorization: 'Bearer agt_nobody' },
      status: 401,
      rpc: -32000,
      code: 'UNAUTHENTICATED',
      message: /not a valid agent token/,
    },
  ];

  it.each(cases)('answers $name with HTTP $status and JSON-RPC error $rpc carrying $code', async (c) => {
    const res = await postMcp(c.raw, c.headers);
    expect(res.status).toBe(c.status);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: c.rpc,
        message: expect.stringMatching(c.message),
        data: expect.objectContaining({ code: c.code, requestId: res.headers.get('x-request-id') }),
      },
    });
  });

  it('answers a paused agent’s request with HTTP 403 and JSON-RPC error -32000 carrying AGENT_NOT_ACTIVE', async () => {
    const paused = ws.agents[1]!;
    await setAgentStatus(harness.deps, ws.workspaceId, paused.id, 'paused', ADMIN);
    const res = await postMcp(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), {
      authorization: `Bearer ${paused.token}`,
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: expect.stringContaining('paused'), data: { code: 'AGENT_NOT_ACTIVE' } },
    });
  });
});
