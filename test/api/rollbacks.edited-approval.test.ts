import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { runRollback } from '../support/rollbacks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
});
afterEach(() => harness.close());

describe('rolling back a batch whose held value a person edited, then approved (issue 19)', () => {
  it('reverts the edited value our approval wrote instead of reporting it as a conflict by an integration', async () => {
    const id = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId: id,
      properties: { phone: '+1 555 0199' },
    });
    const decided = await decide(harness, ws.adminToken, approvalId, {
      kind: 'approve',
      actingUserId: '501',
      edits: { phone: '+1 555 0142' },
    });
    expect(decided.body.status).toBe('applied');
    const selector = { batchId: 'enrich-1' };

    const dry = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector, dryRun: true },
    });
    expect(dry.status).toBe(200);
    expect(dry.body.counts).toMatchObject({ revert: 1, conflict: 0 });

    const started = await api(harness, 'POST', '/v1/admin/rollbacks', { token: ws.adminToken, body: { selector } });
    expect(started.status).toBe(202);
    await runRollback(harness, started.body.id);
    const report = await api(harness, 'GET', `/v1/admin/rollbacks/${started.body.id}/report`, {
      token: ws.adminToken,
    });
    expect(report.body.items).toEqual([
      expect.objectContaining({ property: 'phone', outcome: 'reverted', restoreValue: '+1 555 0100', conflict: null }),
    ]);
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBe('+1 555 0100');
  });
});
