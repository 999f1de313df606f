import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointKeyFromSeed, type AuditCheckpoint } from '../../server/src/domain/audit-checkpoint.ts';
import { publishDueCheckpoints, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { ADMIN, EXAMPLE_POLICY, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness);
});
afterAll(() => harness.close());

describe('the admin API', () => {
  it('publishes a policy as a new immutable version and lists the history', async () => {
    const published = await api(harness, 'POST', '/v1/admin/policies', { token: ws.adminToken, body: EXAMPLE_POLICY });
    expect(published.status).toBe(201);
    expect(published.body).toEqual({ version: ws.policyVersion + 1 });
    const history = await api(harness, 'GET', '/v1/admin/policies', { token: ws.adminToken });
    expect(history.body.versions.map((v: { version: number }) => v.version)).toEqual([
      ws.policyVersion + 1,
      ws.policyVersion,
    ]);
    const active = await api(harness, 'GET', '/v1/admin/policies/active', { token: ws.adminToken });
    expect(active.body.version).toBe(ws.policyVersion + 1);
  });

  it('refuses an invalid policy with POLICY_INVALID naming the problem, and publishes nothing', async () => {
    const bad = structuredClone(EXAMPLE_POLICY) as { objects: { contacts: { properties: Record<string, unknown> } } };
    bad.objects.contacts.properties.jobtitle = { enrichment: 'sometimes' };
    const res = await api(harness, 'POST', '/v1/admin/policies', { token: ws.adminToken, body: bad });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('POLICY_INVALID');
    expect(res.body.error.message).toContain('objects.contacts.properties.jobtitle');
    const history = await api(harness, 'GET', '/v1/admin/policies', { token: ws.adminToken });
    expect(history.body.versions).toHaveLength(2);
  });

  it('creates an agent whose token is shown once and works at once, then pauses it', async () => {
    const created = await api(harness, 'POST', '/v1/admin/agents', {
      token: ws.adminToken,
      body: { name: 'router', role: 'routing' },
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^agt_/);
    const listed = await api(harness, 'GET', '/v1/admin/agents', { token: ws.adminToken });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    const paused = await api(harness, 'POST', `/v1/admin/agents/${created.body.id}/pause`, { token: ws.adminToken });
    expect(paused.body.status).toBe('paused');
    // Each status change is its own documented path (issue 18): any other is no route at all.
    const bogus = await api(harness, 'POST', `/v1/admin/agents/${created.body.id}/explode`, { token: ws.adminToken });
    expect([bogus.status, bogus.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('engages and releases kill switches, refusing a bad scope or target', async () => {
    const engaged = await api(harness, 'PUT', '/v1/admin/kill-switches', {
      token: ws.adminToken,
      body: { scope: 'action', target: 'send_email', engaged: true, reason: 'deliverability incident' },
    });
    expect(engaged.body).toMatchObject({ scope: 'action', target: 'send_email', engaged: true });
    const list = await api(harness, 'GET', '/v1/admin/kill-switches', { token: ws.adminToken });
    expect(list.body.killSwitches).toEqual([expect.objectContaining({ target: 'send_email', engaged: true })]);
    const badTarget = await api(harness, 'PUT', '/v1/admin/kill-switches', {
      token: ws.adminToken,
      body: { scope: 'agent', target: '00000000-0000-4000-8000-000000000000', engaged: true, reason: 'x' },
    });
    expect(badTarget.status).toBe(404);
    const noReason = await api(harness, 'PUT', '/v1/admin/kill-switches', {
      token: ws.adminToken,
      body: { scope: 'workspace', engaged: true },
    });
    expect(noReason.status).toBe(400);
  });

  it('bootstraps HubSpot properties once: a second run creates nothing', async () => {
    const first = await api(harness, 'POST', '/v1/admin/bootstrap', { token: ws.adminToken });
    expect(first.body.objects[0]).toMatchObject({
      objectType: 'contacts',
      groupCreated: true,
      created: expect.arrayContaining(['ag_last_change_id', 'ag_last_agent']),
    });
    const second = await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
    expect(second.objects.every((object) => !object.groupCreated && object.created.length === 0)).toBe(true);
  });

  it('verifies the audit chain and streams it as CSV with filters', async () => {
    const verify = await api(harness, 'GET', '/v1/admin/audit/verify', { token: ws.adminToken });
    expect(verify.body).toEqual({ ok: true, events: expect.any(Number) });
    const csv = await fetch(`${harness.url}/v1/admin/audit/export?format=csv&agent=${ws.agents[0]!.id}`, {
      headers: { authorization: `Bearer ${ws.adminToken}` },
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toMatch(/^seq,occurredAt,type/);
    expect(lines.slice(1).every((line) => line.includes(ws.agents[0]!.id))).toBe(true);
    // Each row names its workspace, as NDJSON and the SIEM do, so several workspaces' exports can be put together.
    expect(lines[0]!.split(',').at(-1)).toBe('workspaceId');
    expect(lines.slice(1).every((line) => line.endsWith(`,${ws.workspaceId}`))).toBe(true);
    const badQuery = await api(harness, 'GET', '/v1/admin/audit/export?format=xml', { token: ws.adminToken });
    expect(badQuery.status).toBe(400);
  });

  it('checks the chain against signed checkpoints posted to verify, and refuses lines that are not checkpoints (issue 17)', async () => {
    const key = checkpointKeyFromSeed(randomBytes(32));
    const lines: AuditCheckpoint[] = [];
    await publishDueCheckpoints(harness.deps, {
      key,
      everyEvents: 1,
      everyMs: 1,
      publish: async (checkpoint) => void lines.push(checkpoint),
    });
    const checkpoints = lines.filter((line) => line.workspaceId === ws.workspaceId);
    expect(checkpoints).toHaveLength(1);

    const verify = (body: unknown) => api(harness, 'POST', '/v1/admin/audit/verify', { token: ws.adminToken, body });
    const held = await verify({ checkpoints, publicKeys: [key.publicKey] });
    expect(held.body).toEqual({
      ok: true,
      events: expect.any(Number),
      checkpoints: { checked: 1, latestSeq: checkpoints[0]!.seq },
    });
    const forged = await verify({
      checkpoints: [{ ...checkpoints[0]!, hash: 'f'.repeat(64) }],
      publicKeys: [key.publicKey],
    });
    expect(forged.body).toMatchObject({
      ok: false,
      checkpoints: { firstBadCheckpoint: { seq: checkpoints[0]!.seq, problem: 'bad_signature' } },
    });

    // This test server was given no checkpoint key of its own, so it trusts only the keys it is told.
    expect((await verify({ checkpoints })).body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/publicKeys/),
    });
    expect((await verify({ checkpoints: [{ seq: 1 }], publicKeys: [key.publicKey] })).status).toBe(400);
  });
});
