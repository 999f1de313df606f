import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activePolicy, bootstrapWorkspace, publishPolicy } from '../../server/src/services/governance/index.ts';
import { recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
});
afterEach(() => harness.close());

const submitJobTitle = (title: string) =>
  api(harness, 'POST', '/v1/changesets', {
    token: ws.agents[0]!.token,
    body: {
      batchId: `titles-${title}`,
      objectType: 'contacts',
      changes: [
        {
          recordId: seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'ada@example.com' } }),
          properties: { jobtitle: title },
          evidence: { source: 'clearbit', confidence: 0.9, reason: 'Company site' },
        },
      ],
    },
  });

describe('a stored policy version, parsed once and read many times', () => {
  it('serves every request the one parsed policy, frozen, so what is compiled per policy is compiled once', async () => {
    const first = await activePolicy(harness.deps.db, ws.workspaceId);
    const again = await activePolicy(harness.deps.db, ws.workspaceId);
    expect(again.policy).toBe(first.policy);
    expect(Object.isFrozen(first.policy.objects)).toBe(true);
    expect(() => {
      (first.policy.approvals as { expiryHours: number }).expiryHours = 1;
    }).toThrow(TypeError);
  });

  it('refuses to decide under a version a database owner loosened, writing nothing, until the policy is published again', async () => {
    // The example policy holds an agent's phone number for a person's approval.
    const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { phone: '+1 555 0100' } });
    const submitPhone = () =>
      api(harness, 'POST', '/v1/changesets', {
        token: ws.agents[0]!.token,
        body: {
          batchId: 'phones',
          objectType: 'contacts',
          changes: [
            {
              recordId,
              properties: { phone: '+1 555 0666' },
              evidence: { source: 'clearbit', confidence: 0.9, reason: 'Company site' },
            },
          ],
        },
      });
    expect((await submitJobTitle('CTO')).body.results[0]).toMatchObject({ decision: 'applied' }); // parsed and kept

    await harness.deps.db.execute(
      sql`update policy_versions
          set document = jsonb_set(document, '{objects,contacts,properties,phone,enrichment}', '"auto"')
          where workspace_id = ${ws.workspaceId} and version = ${ws.policyVersion}`,
    );

    const refused = await submitPhone();
    expect(refused.status).toBe(500);
    expect(refused.body.error).toEqual({
      code: 'INTERNAL',
      message: `Stored policy version ${ws.policyVersion} is not the document its policy.published audit event holds: it was changed in the database, so nothing is decided under it. Publish the policy again.`,
      requestId: expect.any(String),
    });
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0100');

    await publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, ADMIN);
    expect((await submitPhone()).body.results[0]).toMatchObject({ property: 'phone', decision: 'pending_approval' });
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0100');
  });
});
