import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace, publishPolicy } from '../../server/src/services/governance/index.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { runRollback, seedContacts, submitTitles } from '../support/rollbacks.ts';

/** Issue 17, defect 5: a batch's own later decisions, and decisions that wrote nothing, are never conflicts for it. */
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let enricher: string;
let ids: string[];

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment', 'enrichment']);
  await publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, ADMIN);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  enricher = ws.agents[0]!.token;
  ids = seedContacts(harness, ['Engineer', 'Engineer', 'Engineer', 'Engineer']);
  await submitTitles(harness, enricher, 'b1', Object.fromEntries(ids.map((id) => [id, 'CTO'])));
});
afterEach(() => harness.close());

const title = (id: string) => recordValues(harness.hubspot.state, 'contacts', id)?.jobtitle;
const dryRun = () =>
  api(harness, 'POST', '/v1/admin/rollbacks', {
    token: ws.adminToken,
    body: { selector: { batchId: 'b1' }, dryRun: true },
  });

describe('rolling back a batch that agents resubmitted in part', () => {
  it('counts no conflict when the same batch resubmitted the same values, which wrote nothing', async () => {
    const again = await submitTitles(harness, enricher, 'b1', { [ids[0]!]: 'CTO', [ids[1]!]: 'CTO' });
    expect(again.results.map((r) => r.decision)).toEqual(['applied', 'applied']);

    const res = await dryRun();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 4, counts: { revert: 4, conflict: 0, alreadyReverted: 0 } });
  });

  it('counts no conflict when another agent proposed the value the field already held', async () => {
    await submitTitles(harness, ws.agents[1]!.token, 'b2', { [ids[2]!]: 'CTO' });

    const res = await dryRun();
    expect(res.body).toMatchObject({ total: 4, counts: { revert: 4, conflict: 0 } });
  });

  it('still reports a conflict when another agent wrote a new value since', async () => {
    await submitTitles(harness, ws.agents[1]!.token, 'b2', { [ids[3]!]: 'CEO' });

    const res = await dryRun();
    expect(res.body).toMatchObject({ counts: { revert: 3, conflict: 1 } });
    expect(res.body.sample.find((item: { outcome: string }) => item.outcome === 'conflict')).toMatchObject({
      recordId: ids[3],
      conflict: { cause: 'changed_since', origin: 'agent', who: 'enrichment-agent-2' },
    });
  });

  it('rolls the whole batch back, resubmissions included, and restores every value', async () => {
    await submitTitles(harness, enricher, 'b1', { [ids[0]!]: 'CTO', [ids[1]!]: 'VP' });

    expect((await dryRun()).body).toMatchObject({ counts: { revert: 4, conflict: 0 } });
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'b1' } },
    });
    expect(started.status).toBe(202);
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    const view = await api(harness, 'GET', `/v1/admin/rollbacks/${started.body.id}`, { token: ws.adminToken });
    expect(view.body).toMatchObject({ counts: { reverted: 4, conflict: 0 } });
    expect(ids.map(title)).toEqual(['Engineer', 'Engineer', 'Engineer', 'Engineer']);
  });
});
