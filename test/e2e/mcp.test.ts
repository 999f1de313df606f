import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ACCESS_TOKEN } from '../../server/src/sandbox/hubspot/state.ts';
import { SANDBOX_PORTAL_ID } from '../../server/src/sandbox/start-sandbox.ts';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from './support/processes.ts';
import { emptyDataFolder, migratedDataFolder } from '../support/data-folders.ts';

const run = promisify(execFile);
const TOOLS = [
  'create_note',
  'create_task',
  'draft_email',
  'get_change_set',
  'get_draft',
  'get_record_proposals',
  'propose_crm_changes',
  'report_action_outcome',
  'what_may_i_change',
];
const EVIDENCE = { source: 'clearbit', url: 'https://example.com/p', confidence: 0.95, reason: 'Provider match' };

/** The tool result as the model reads it: its sentence, its JSON, and whether it is a refusal. */
function read(result: Awaited<ReturnType<Client['callTool']>>): { sentence: string; value: any; isError: boolean } {
  const content = (result as CallToolResult).content;
  const texts = content.map((part) => (part.type === 'text' ? part.text : ''));
  return { sentence: texts[0] ?? '', value: JSON.parse(texts[1] ?? 'null'), isError: result.isError === true };
}

// The server and the sandbox in their own processes, and the MCP SDK's own client, as an agent framework runs it.
describe('the MCP server for agents', () => {
  const sandboxData = emptyDataFolder('ag-e2e-mcp-sandbox-');
  const serverData = migratedDataFolder('ag-e2e-mcp-server-');
  let sandbox: NodeProcess;
  let server: NodeProcess;
  let serverUrl: string;
  let tokens: { adminToken: string; agentToken: string; agentId: string };
  let client: Client;

  async function connect(token: string): Promise<Client> {
    const connected = new Client({ name: 'e2e-agent', version: '1.0.0' });
    await connected.connect(
      new StreamableHTTPClientTransport(new URL(`${serverUrl}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return connected;
  }

  beforeAll(async () => {
    sandbox = startNodeProcess('server/src/sandbox/main.ts', {
      DATA_DIR: sandboxData.dir,
      SANDBOX_PORT: '0',
      SANDBOX_WEBHOOK_URL: undefined,
      SANDBOX_WEBHOOK_SECRET: undefined,
    });
    const sandboxUrl = await urlFromLog(sandbox, 'sandbox listening');
    const env = serverEnv(serverData.dir, { HUBSPOT_API_BASE_URL: sandboxUrl });
    const setup = await run(
      process.execPath,
      [path.resolve('test/e2e/support/setup-workspace.ts'), SANDBOX_PORTAL_ID, FAKE_ACCESS_TOKEN],
      { env: { ...process.env, ...env } as Record<string, string> },
    );
    tokens = JSON.parse(setup.stdout);
    server = startNodeProcess('server/src/main.ts', env);
    serverUrl = await urlFromLog(server, 'listening');
    client = await connect(tokens.agentToken);
    // Three processes start cold, each opening PGlite from a data folder: allow for a loaded machine.
  }, 180_000);
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await sandbox?.stop();
    sandboxData.remove();
    serverData.remove();
  });

  it('lists every tool with an object input schema generated from the REST API’s zod schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(TOOLS);
    const propose = tools.find((tool) => tool.name === 'propose_crm_changes')!;
    expect(propose.inputSchema).toMatchObject({
      type: 'object',
      required: ['batchId', 'objectType', 'changes'],
      additionalProperties: false,
      $defs: { Evidence: { required: ['source', 'reason'] } },
    });
    const email = tools.find((tool) => tool.name === 'draft_email')!;
    expect(email.inputSchema.properties).not.toHaveProperty('kind');
    expect(email.inputSchema.required).toEqual(expect.arrayContaining(['objectType', 'recordId', 'to', 'subject']));
    for (const tool of tools) expect(tool.description?.length).toBeGreaterThan(80);
  });

  it('decides each field of a proposed change set: a held write waits for a person, a denied one says why', async () => {
    const proposed = read(
      await client.callTool({
        name: 'propose_crm_changes',
        arguments: {
          batchId: 'mcp-1',
          objectType: 'contacts',
          changes: [
            { recordId: '1150', properties: { phone: '+1 555 0150', hs_email_optout: 'true' }, evidence: EVIDENCE },
          ],
        },
      }),
    );
    expect(proposed.isError).toBe(false);
    const byProperty = Object.fromEntries(proposed.value.results.map((r: any) => [r.property, r]));
    expect(byProperty.phone).toMatchObject({
      decision: 'pending_approval',
      reasons: expect.arrayContaining(['tier_approval']),
    });
    expect(byProperty.hs_email_optout).toMatchObject({ decision: 'denied', reasons: ['tier_deny'] });
    expect(proposed.sentence).toContain('1 held for a person');

    const again = read(
      await client.callTool({ name: 'get_change_set', arguments: { changeSetId: proposed.value.id } }),
    );
    expect(again.value.results).toEqual(proposed.value.results);

    const waiting = read(
      await client.callTool({ name: 'get_record_proposals', arguments: { objectType: 'contacts', recordId: '1150' } }),
    );
    expect(waiting.value.proposals).toEqual([
      expect.objectContaining({
        yours: true,
        batchId: 'mcp-1',
        properties: [expect.objectContaining({ property: 'phone', proposed: '+1 555 0150' })],
      }),
    ]);
  });

  it('answers a change set of which nothing may pass as a refusal with its reason codes', async () => {
    const refused = read(
      await client.callTool({
        name: 'propose_crm_changes',
        arguments: {
          batchId: 'mcp-2',
          objectType: 'contacts',
          changes: [{ recordId: '1151', properties: { hs_email_optout: 'true' }, evidence: EVIDENCE }],
        },
      }),
    );
    expect(refused.isError).toBe(true);
    expect(refused.sentence).toContain('Refused for: tier_deny');
  });

  it('tells the agent what its role may change, its caps left today and its windows', async () => {
    const { value, isError } = read(await client.callTool({ name: 'what_may_i_change', arguments: {} }));
    expect(isError).toBe(false);
    expect(value).toMatchObject({ role: 'enrichment', policyVersion: 1, killSwitches: [] });
    expect(value.objects.contacts.auto).toContain('jobtitle');
    expect(value.objects.contacts.approval).toContain('phone');
    expect(value.objects.contacts.deny).toContain('hs_email_optout');
    expect(value.objects.deals.deny).toContain('dealstage');
    expect(value.actions).toEqual({ send_email: 'deny', create_task: 'deny', create_note: 'approval' });
    expect(value.caps).toMatchObject({ writesPerAgentPerDay: 50_000 });
    expect(value.writesToday.left).toBe(50_000 - value.writesToday.used);
    expect(value.windows).toEqual([]);
  });

  it('holds a note and reads it back, refuses a task and an email the role may not draft, and an outcome on a note', async () => {
    const note = read(
      await client.callTool({
        name: 'create_note',
        arguments: { objectType: 'contacts', recordId: '1152', body: 'Met at the fair.', evidence: EVIDENCE },
      }),
    );
    expect(note).toMatchObject({ isError: false, value: { kind: 'create_note', status: 'pending' } });

    const task = read(
      await client.callTool({
        name: 'create_task',
        arguments: { objectType: 'contacts', recordId: '1152', subject: 'Call back', evidence: EVIDENCE },
      }),
    );
    expect(task).toMatchObject({ isError: true, value: { kind: 'create_task', status: 'refused' } });

    const email = read(
      await client.callTool({
        name: 'draft_email',
        arguments: {
          objectType: 'contacts',
          recordId: '1152',
          to: 'ada@example.com',
          subject: 'Hello',
          body: 'Hi Ada',
          evidence: EVIDENCE,
        },
      }),
    );
    expect(email).toMatchObject({ isError: true, value: { kind: 'send_email', status: 'refused' } });

    const readBack = read(await client.callTool({ name: 'get_draft', arguments: { actionId: note.value.id } }));
    expect(readBack).toMatchObject({ isError: false, value: { id: note.value.id, status: 'pending' } });

    const outcome = read(
      await client.callTool({
        name: 'report_action_outcome',
        arguments: { actionId: note.value.id, outcome: 'replied' },
      }),
    );
    expect(outcome).toMatchObject({ isError: true, value: { error: { code: 'CONFLICT' } } });
  });

  it('refuses an over-size argument as a tool result naming it, and stores nothing', async () => {
    const big = read(
      await client.callTool({
        name: 'create_note',
        arguments: { objectType: 'contacts', recordId: '1153', body: 'x'.repeat(65_537), evidence: EVIDENCE },
      }),
    );
    expect(big.isError).toBe(true);
    expect(big.value.error.code).toBe('VALIDATION_FAILED');
    expect(big.sentence).toContain('body');
    const listed = await http('GET', `${serverUrl}/v1/admin/actions?record=1153`, { token: tokens.adminToken });
    expect(listed.body.actions).toEqual([]);
  });

  it('says stop, as a tool result, while a kill switch stops the agent', async () => {
    const engage = (engaged: boolean) =>
      http('PUT', `${serverUrl}/v1/admin/kill-switches`, {
        token: tokens.adminToken,
        body: { scope: 'agent', target: tokens.agentId, engaged, reason: 'MCP drill' },
      });
    expect((await engage(true)).status).toBe(200);
    try {
      const stopped = read(
        await client.callTool({
          name: 'propose_crm_changes',
          arguments: {
            batchId: 'mcp-3',
            objectType: 'contacts',
            changes: [{ recordId: '1154', properties: { jobtitle: 'CTO' }, evidence: EVIDENCE }],
          },
        }),
      );
      expect(stopped.isError).toBe(true);
      expect(stopped.sentence).toMatch(/^STOP: An? agent kill switch is engaged: MCP drill/);
      expect(stopped.value.error).toMatchObject({ code: 'KILL_SWITCH_ENGAGED', stop: true });
      const view = read(await client.callTool({ name: 'what_may_i_change', arguments: {} }));
      expect(view.value.killSwitches).toEqual([
        expect.objectContaining({
          scope: 'agent',
          reason: 'MCP drill',
          stops: expect.arrayContaining(['field_write']),
        }),
      ]);
    } finally {
      await engage(false);
    }
  });

  it('runs the example agent loop of examples/mcp-agent.ts to its decisions', async () => {
    const { stdout } = await run(process.execPath, [path.resolve('examples/mcp-agent.ts'), serverUrl], {
      env: { ...process.env, AGENT_TOKEN: tokens.agentToken },
    });
    expect(stdout).toContain('what_may_i_change: Policy version 1 for role enrichment');
    expect(stdout).toMatch(/propose_crm_changes: Change set .* held for a person's approval/);
    expect(stdout).toMatch(/1101\.phone: pending_approval/);
  });

  it('refuses a paused agent’s calls as the REST API does, and serves it again once resumed', async () => {
    const agentAction = (action: string) =>
      http('POST', `${serverUrl}/v1/admin/agents/${tokens.agentId}/${action}`, { token: tokens.adminToken });
    expect((await agentAction('pause')).status).toBe(200);
    try {
      await expect(client.callTool({ name: 'what_may_i_change', arguments: {} })).rejects.toMatchObject({
        code: 403,
        message: expect.stringContaining('AGENT_NOT_ACTIVE'),
      });
    } finally {
      await agentAction('resume');
    }
    expect(read(await client.callTool({ name: 'what_may_i_change', arguments: {} })).isError).toBe(false);
  });

  it('answers GET and DELETE on /mcp with 405: the server is stateless', async () => {
    for (const method of ['GET', 'DELETE'])
      expect(await http(method, `${serverUrl}/mcp`, { token: tokens.agentToken })).toMatchObject({
        status: 405,
        body: { jsonrpc: '2.0', error: { code: -32000 } },
      });
  });

  it('refuses a bad token before any MCP message, as the REST API does', async () => {
    await expect(connect('agt_not-a-token')).rejects.toMatchObject({
      code: 401,
      message: expect.stringContaining('The bearer token is not a valid agent token.'),
    });
  });

  it('serves the same tools on stdio through npx agent-governance mcp', async () => {
    const tokenFile = path.join(serverData.dir, 'agent.token');
    fs.writeFileSync(tokenFile, `${tokens.agentToken}\n`, { mode: 0o600 });
    const stdio = new Client({ name: 'e2e-stdio-agent', version: '1.0.0' });
    await stdio.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [path.resolve('server/src/cli/main.ts'), 'mcp', '--token-file', tokenFile, '--server-url', serverUrl],
        env: { ...process.env, DATA_DIR: serverData.dir } as Record<string, string>,
        stderr: 'pipe',
      }),
    );
    try {
      expect((await stdio.listTools()).tools.map((tool) => tool.name).sort()).toEqual(TOOLS);
      const { value } = read(await stdio.callTool({ name: 'what_may_i_change', arguments: {} }));
      expect(value.role).toBe('enrichment');
    } finally {
      await stdio.close();
    }

    fs.writeFileSync(tokenFile, 'agt_not-a-token\n');
    const refused = new Client({ name: 'e2e-stdio-agent', version: '1.0.0' });
    await expect(
      refused.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [path.resolve('server/src/cli/main.ts'), 'mcp', '--token-file', tokenFile, '--server-url', serverUrl],
          env: { ...process.env, DATA_DIR: serverData.dir } as Record<string, string>,
          stderr: 'pipe',
        }),
      ),
    ).rejects.toThrow(/HTTP 401.*not a valid agent token/);
    await refused.close();
  });
});
