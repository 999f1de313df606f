import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapWorkspace, setAgentStatus } from '../../server/src/services/governance/index.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { submissionRowCounts } from '../support/row-counts.ts';
import { callMcpTool } from '../support/mcp.ts';

let harness: Harness;
let a: Awaited<ReturnType<typeof seedWorkspace>>;
let b: Awaited<ReturnType<typeof seedWorkspace>>;
let contactId: string;

beforeAll(async () => {
  harness = await startHarness();
  a = await seedWorkspace(harness, ['enrichment', 'enrichment', 'enrichment']);
  b = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, a.workspaceId, ADMIN);
  contactId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'a@example.com' } });
});
afterAll(() => harness.close());

const body = () => ({
  batchId: 'sec',
  objectType: 'contacts',
  changes: [{ recordId: contactId, properties: { jobtitle: 'CTO' }, evidence: { source: 's', reason: 'r' } }],
});

describe('agent authentication', () => {
  it.each<{ name: string; headers: Record<string, string> }>([
    { name: 'no Authorization header', headers: {} },
    { name: 'a token that was never issued', headers: { authorization: 'Bearer agt_not-a-real-token' } },
    { name: 'a Basic credential', headers: { authorization: 'Basic dXNlcjpwYXNz' } },
  ])('refuses $name with 401 UNAUTHENTICATED and stores nothing', async ({ headers }) => {
    const before = await submissionRowCounts(harness.database.db);
    const res = await api(harness, 'POST', '/v1/changesets', { body: body(), headers });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
    expect(await submissionRowCounts(harness.database.db)).toEqual(before);
  });

  it('refuses a paused agent, lets it act again once resumed, and refuses a revoked one for good', async () => {
    const agent = a.agents[1]!;
    await setAgentStatus(harness.deps, a.workspaceId, agent.id, 'paused', ADMIN);
    const paused = await api(harness, 'POST', '/v1/changesets', { token: agent.token, body: body() });
    expect(paused.status).toBe(403);
    expect(paused.body.error).toMatchObject({ code: 'AGENT_NOT_ACTIVE', details: { status: 'paused' } });
    await setAgentStatus(harness.deps, a.workspaceId, agent.id, 'active', ADMIN);
    expect((await api(harness, 'POST', '/v1/changesets', { token: agent.token, body: body() })).status).toBe(201);
    await setAgentStatus(harness.deps, a.workspaceId, agent.id, 'revoked', ADMIN);
    expect((await api(harness, 'POST', '/v1/changesets', { token: agent.token, body: body() })).body.error.code).toBe(
      'AGENT_NOT_ACTIVE',
    );
    await expect(setAgentStatus(harness.deps, a.workspaceId, agent.id, 'active', ADMIN)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('an agent token is not an admin token', async () => {
    const res = await api(harness, 'GET', '/v1/admin/agents', { token: a.agents[0]!.token });
    expect(res.status).toBe(401);
  });
});

describe('tenant isolation', () => {
  it('an agent of workspace A cannot read a change set of workspace B', async () => {
    const created = await api(harness, 'POST', '/v1/changesets', { token: a.agents[0]!.token, body: body() });
    expect(created.status).toBe(201);
    const res = await api(harness, 'GET', `/v1/changesets/${created.body.id}`, { token: b.agents[0]!.token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('the admin of workspace B cannot pause, list or audit workspace A’s agents', async () => {
    const pause = await api(harness, 'POST', `/v1/admin/agents/${a.agents[0]!.id}/pause`, { token: b.adminToken });
    expect(pause.status).toBe(404);
    const list = await api(harness, 'GET', '/v1/admin/agents', { token: b.adminToken });
    expect(list.body.agents.map((agent: { id: string }) => agent.id)).toEqual([b.agents[0]!.id]);
    const exported = await fetch(`${harness.url}/v1/admin/audit/export?agent=${a.agents[0]!.id}`, {
      headers: { authorization: `Bearer ${b.adminToken}` },
    });
    expect((await exported.text()).trim()).toBe('');
  });

  it('an Idempotency-Key is scoped to its agent: the same key in another workspace is a new submission', async () => {
    const first = await api(harness, 'POST', '/v1/changesets', {
      token: a.agents[0]!.token,
      body: body(),
      headers: { 'idempotency-key': 'shared-key' },
    });
    const other = await api(harness, 'POST', '/v1/changesets', {
      token: b.agents[0]!.token,
      body: body(),
      headers: { 'idempotency-key': 'shared-key' },
    });
    expect(first.status).toBe(201);
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
  });
});

// Least privilege (deny by default): an agent reads back only what it submitted.
describe('agent isolation', () => {
  async function mcp(token: string, name: string, args: object) {
    const { isError, texts } = await callMcpTool(harness, token, name, args);
    return { isError, text: texts.join('\n') };
  }
  const unknownId = '0193d0a4-0000-7000-8000-000000000000';
  const withoutId = (text: string, id: string) => text.replaceAll(id, 'ID');

  it('another agent of the workspace gets the 404 an unknown id gets, over REST, and none of the values', async () => {
    const [owner, other] = [a.agents[0]!, a.agents[2]!];
    const created = await api(harness, 'POST', '/v1/changesets', { token: owner.token, body: body() });
    expect(created.status).toBe(201);
    expect((await api(harness, 'GET', `/v1/changesets/${created.body.id}`, { token: owner.token })).status).toBe(200);

    const theirs = await api(harness, 'GET', `/v1/changesets/${created.body.id}`, { token: other.token });
    const unknown = await api(harness, 'GET', `/v1/changesets/${unknownId}`, { token: other.token });
    expect(theirs.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(theirs.body.error.code).toBe('NOT_FOUND');
    // Alike but for the id asked about and the request's own id.
    const { requestId: _theirs, ...theirError } = theirs.body.error;
    const { requestId: _unknown, ...unknownError } = unknown.body.error;
    expect(withoutId(JSON.stringify(theirError), created.body.id)).toBe(
      withoutId(JSON.stringify(unknownError), unknownId),
    );
    expect(JSON.stringify(theirs.body)).not.toContain('CTO');
  });

  it('another agent of the workspace gets the refusal an unknown id gets from get_change_set', async () => {
    const [owner, other] = [a.agents[0]!, a.agents[2]!];
    const created = await mcp(owner.token, 'propose_crm_changes', body());
    expect(created.isError).toBe(false);
    const id = created.text.match(/Change set (\S+) /)![1]!;
    expect((await mcp(owner.token, 'get_change_set', { changeSetId: id })).isError).toBe(false);

    const theirs = await mcp(other.token, 'get_change_set', { changeSetId: id });
    const unknown = await mcp(other.token, 'get_change_set', { changeSetId: unknownId });
    expect(theirs.isError).toBe(true);
    expect(theirs.text).toContain('"code":"NOT_FOUND"');
    expect(withoutId(theirs.text, id)).toBe(withoutId(unknown.text, unknownId));
    expect(theirs.text).not.toContain('CTO');
  });
});
