import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { api, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, { '501': 'approver' });
});
afterEach(() => harness.close());

describe('per-field provenance on the record card', () => {
  it('names, per property, the agent, evidence, policy version and approver of its current value', async () => {
    const id = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'ada@example.com' } });
    const evidence = { source: 'clearbit', confidence: 0.92, reason: 'Company site lists it' };
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agent.token,
      body: {
        batchId: 'enrich-1',
        objectType: 'contacts',
        changes: [{ recordId: id, properties: { jobtitle: 'CTO', phone: '+1 555 0199' }, evidence }],
      },
    });
    const listed = await api(harness, 'GET', `/v1/admin/approvals?record=${id}`, { token: ws.adminToken });
    const approved = await api(harness, 'POST', `/v1/admin/approvals/${listed.body.approvals[0].id}/decisions`, {
      token: ws.adminToken,
      body: { kind: 'approve', actingUserId: '501' },
    });
    expect(approved.status).toBe(200);
    expect(recordValues(harness.hubspot.state, 'contacts', id)).toMatchObject({
      phone: '+1 555 0199',
      ag_last_policy_version: String(submitted.body.policyVersion),
    });

    const card = await callAsHubSpot(harness, {
      path: `/card?objectType=contacts&recordId=${id}`,
      portalId: ws.portalId,
      userId: '501',
      clientSecret: ws.clientSecret,
    });
    const byProperty = Object.fromEntries(
      card.body.fieldProvenance.map((field: { property: string }) => [field.property, field]),
    );
    const common = {
      changeSetId: submitted.body.id,
      batchId: 'enrich-1',
      agent: { id: ws.agent.id, name: 'enricher' },
      evidence,
      policyVersion: submitted.body.policyVersion,
    };
    expect(byProperty.jobtitle).toMatchObject({ ...common, value: 'CTO', approvedBy: [] });
    expect(byProperty.phone).toMatchObject({ ...common, value: '+1 555 0199', approvedBy: ['501'] });
  });
});
