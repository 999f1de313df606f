import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activePolicy, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

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

  it('decides under a version a database owner edited, not under what was parsed before the edit', async () => {
    expect((await submitJobTitle('CTO')).body.results[0]).toMatchObject({ property: 'jobtitle', decision: 'applied' });

    await harness.deps.db.execute(
      sql`update policy_versions
          set document = jsonb_set(document, '{objects,contacts,properties,jobtitle,enrichment}', '"deny"')
          where workspace_id = ${ws.workspaceId} and version = ${ws.policyVersion}`,
    );

    expect((await submitJobTitle('CEO')).body.results[0]).toMatchObject({
      property: 'jobtitle',
      decision: 'denied',
      tier: 'deny',
    });
  });
});
