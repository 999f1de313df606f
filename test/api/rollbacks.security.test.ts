import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { runRollback, seedContacts, submitTitles } from '../support/rollbacks.ts';

let harness: Harness;
let ours: Awaited<ReturnType<typeof seedWorkspace>>;
let theirs: Awaited<ReturnType<typeof seedWorkspace>>;
let ids: string[];

beforeEach(async () => {
  harness = await startHarness();
  ours = await seedWorkspace(harness, ['enrichment']);
  theirs = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, theirs.workspaceId, ADMIN);
  ids = seedContacts(harness, ['Engineer', 'Engineer']);
  await submitTitles(harness, theirs.agents[0]!.token, 'their-batch', Object.fromEntries(ids.map((id) => [id, 'CTO'])));
});
afterEach(() => harness.close());

describe('rollbacks across workspaces and tokens', () => {
  it('answers another workspace’s batch exactly as an unknown one, and writes nothing', async () => {
    const mine = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ours.adminToken,
      body: { selector: { batchId: 'their-batch' } },
    });
    const unknown = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ours.adminToken,
      body: { selector: { batchId: 'no-such-batch' } },
    });
    expect(mine.status).toBe(404);
    expect({ ...mine.body.error, requestId: undefined, details: undefined }).toEqual({
      ...unknown.body.error,
      requestId: undefined,
      details: undefined,
    });
    const byChange = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ours.adminToken,
      body: { selector: { recordIds: ids } },
    });
    expect(byChange.status).toBe(404);
    expect(ids.map((id) => recordValues(harness.hubspot.state, 'contacts', id)?.jobtitle)).toEqual(['CTO', 'CTO']);
  });

  it('hides another workspace’s rollback from reads, pause, resume and report', async () => {
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: theirs.adminToken,
      body: { selector: { batchId: 'their-batch' } },
    });
    expect(started.status).toBe(202);
    for (const [method, suffix] of [
      ['GET', ''],
      ['POST', '/pause'],
      ['POST', '/resume'],
      ['GET', '/report'],
    ] as const) {
      const res = await api(harness, method, `/v1/admin/rollbacks/${started.body.id}${suffix}`, {
        token: ours.adminToken,
      });
      expect(res.status).toBe(404);
    }
    expect(
      (await api(harness, 'GET', `/v1/admin/rollbacks/${started.body.id}`, { token: theirs.adminToken })).body.status,
    ).toBe('running');
    await runRollback(harness, started.body.id);
    expect(ids.map((id) => recordValues(harness.hubspot.state, 'contacts', id)?.jobtitle)).toEqual([
      'Engineer',
      'Engineer',
    ]);
  });

  it('keeps the name rollbacks write as: no agent made under it holds a token that acts as the rollback', async () => {
    // Made before the workspace's first rollback, it would have been taken as the rollback's own agent.
    for (const name of ['agent-governance-rollback', '  agent-governance-rollback ']) {
      const impostor = await api(harness, 'POST', '/v1/admin/agents', {
        token: theirs.adminToken,
        body: { name, role: 'enrichment' },
      });
      expect(impostor).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
      expect(impostor.body.token).toBeUndefined();
    }
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: theirs.adminToken,
      body: { selector: { batchId: 'their-batch' } },
    });
    expect(started.status).toBe(202);
    await runRollback(harness, started.body.id);
    const { agents } = (await api(harness, 'GET', '/v1/admin/agents', { token: theirs.adminToken })).body;
    expect(agents.filter((agent: { name: string }) => agent.name === 'agent-governance-rollback')).toEqual([
      expect.objectContaining({ role: 'admin', status: 'active' }),
    ]);
  });

  it('takes only an admin token: no token and an agent’s token are refused', async () => {
    const body = { selector: { batchId: 'their-batch' } };
    expect((await api(harness, 'POST', '/v1/admin/rollbacks', { body })).status).toBe(401);
    expect((await api(harness, 'POST', '/v1/admin/rollbacks', { token: theirs.agents[0]!.token, body })).status).toBe(
      401,
    );
  });

  it('writes a report cell that a spreadsheet would run as a formula with a leading quote; JSON keeps it exact', async () => {
    const formula = '=HYPERLINK("https://evil.example","open")';
    const [id] = seedContacts(harness, [formula]);
    await submitTitles(harness, theirs.agents[0]!.token, 'formulas', { [id!]: '@SUM(A1)' });
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: theirs.adminToken,
      body: { selector: { batchId: 'formulas' } },
    });
    await runRollback(harness, started.body.id);
    const report = (format: string) =>
      fetch(`${harness.url}/v1/admin/rollbacks/${started.body.id}/report?format=${format}`, {
        headers: { authorization: `Bearer ${theirs.adminToken}` },
      });

    const [, row] = (await (await report('csv')).text()).trim().split('\n');
    expect(row).toContain(
      `contacts,${id},jobtitle,'@SUM(A1),"'=HYPERLINK(""https://evil.example"",""open"")",reverted`,
    );
    const json = (await (await report('json')).json()) as { items: unknown[] };
    expect(json.items[0]).toMatchObject({ before: '@SUM(A1)', restoreValue: formula });
  });
});
