import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { runRollback, seedContacts, submitTitles } from '../support/rollbacks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, { '501': 'approver', '1001': 'rep', '601': 'auditor' });
});
afterEach(() => harness.close());

const as = (userId: string, call: Omit<Parameters<typeof callAsHubSpot>[1], 'portalId' | 'userId' | 'clientSecret'>) =>
  callAsHubSpot(harness, { ...call, portalId: ws.portalId, userId, clientSecret: ws.clientSecret });

describe('rolling back from the HubSpot app', () => {
  it("reverts one change from the card's recent changes, and reports progress until it is done", async () => {
    const [id] = seedContacts(harness, ['Engineer']);
    const submitted = await submitTitles(harness, ws.agent.token, 'enrich-1', { [id!]: 'CTO' });
    const card = await as('501', { path: `/card?objectType=contacts&recordId=${id}` });
    const change = card.body.recentChanges[0];
    expect(change).toMatchObject({ changeId: submitted.results[0]!.changeId, after: 'CTO' });

    const started = await as('501', {
      method: 'POST',
      path: '/rollbacks',
      body: { selector: { changeIds: [change.changeId] } },
    });
    expect(started).toMatchObject({ status: 202, body: { status: 'running', total: 1 } });
    await runRollback(harness, started.body.id);
    const progress = await as('501', { path: `/rollbacks/${started.body.id}` });
    expect(progress.body).toMatchObject({ status: 'completed', done: 1, counts: { reverted: 1 } });
    expect(recordValues(harness.hubspot.state, 'contacts', id!)!.jobtitle).toBe('Engineer');
  });

  it('dry-runs a batch rollback and writes nothing', async () => {
    const ids = seedContacts(harness, ['A', 'B']);
    await submitTitles(harness, ws.agent.token, 'enrich-1', { [ids[0]!]: 'CTO', [ids[1]!]: 'CEO' });
    const plan = await as('501', {
      method: 'POST',
      path: '/rollbacks',
      body: { selector: { batchId: 'enrich-1' }, dryRun: true },
    });
    expect(plan).toMatchObject({ status: 200, body: { dryRun: true, total: 2, counts: { revert: 2 } } });
    expect(recordValues(harness.hubspot.state, 'contacts', ids[0]!)!.jobtitle).toBe('CTO');
  });

  it.each([
    ['a rep', '1001'],
    ['an auditor', '601'],
  ])('refuses %s a rollback with 403 role_not_allowed', async (_who, userId) => {
    const [id] = seedContacts(harness, ['Engineer']);
    await submitTitles(harness, ws.agent.token, 'enrich-1', { [id!]: 'CTO' });
    const res = await as(userId, {
      method: 'POST',
      path: '/rollbacks',
      body: { selector: { batchId: 'enrich-1' }, dryRun: true },
    });
    expect(res).toMatchObject({ status: 403, body: { error: { details: { reason: 'role_not_allowed' } } } });
  });

  it("answers 404 for a rollback id that is not this workspace's", async () => {
    const res = await as('501', { path: '/rollbacks/not-a-uuid' });
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});
