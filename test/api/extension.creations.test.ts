import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishPolicy } from '../../server/src/services/governance/index.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { ADMIN, api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, { '501': 'approver' });
  const base = EXAMPLE_POLICY as { objects: { contacts: { properties: object } } };
  await publishPolicy(
    harness.deps,
    ws.workspaceId,
    {
      ...base,
      objects: {
        ...base.objects,
        contacts: {
          properties: {
            ...base.objects.contacts.properties,
            email: { enrichment: 'auto' },
            lastname: { enrichment: 'auto' },
          },
          create: { enrichment: 'auto' },
        },
      },
    },
    ADMIN,
  );
});
afterEach(() => harness.close());

describe('the record card of a record an agent created', () => {
  it('says which agent created it, in which batch, under which policy version and why', async () => {
    const res = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agent.token,
      body: {
        batchId: 'create-1',
        objectType: 'contacts',
        changes: [
          {
            operation: 'create',
            properties: { email: 'ada@analytical.io', lastname: 'Lovelace' },
            evidence: { source: 'apollo', reason: 'On the team page', confidence: 0.9 },
          },
        ],
      },
    });
    const created = res.body.results[0];
    const card = await callAsHubSpot(harness, {
      path: `/card?objectType=contacts&recordId=${created.recordId}`,
      portalId: ws.portalId,
      userId: '501',
      clientSecret: ws.clientSecret,
    });
    expect(card.body.createdBy).toEqual({
      changeId: created.changeId,
      changeSetId: res.body.id,
      batchId: 'create-1',
      agent: { id: ws.agent.id, name: 'enricher' },
      at: res.body.createdAt,
      evidence: { source: 'apollo', reason: 'On the team page', confidence: 0.9 },
      policyVersion: res.body.policyVersion,
    });
  });
});
