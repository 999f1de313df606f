import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { expectOneOfTwoDecisions, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

/**
 * Real concurrency: the requests go to the real server at once, over the real database (with
 * TEST_DATABASE_URL, Postgres with a pool of connections, where the row locks do the work).
 */
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '502': 'approver' });
  // Slow HubSpot down so a second decision lands while the first is still being applied.
  harness.hubspot.faults.latencyMs = 20;
});
afterEach(() => harness.close());

const ROUNDS = 5;

async function proposeMany(): Promise<{ recordId: string; approvalId: string }[]> {
  const held = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const recordId = seedContact(harness, { email: `p${i}@example.com` });
    held.push({
      recordId,
      approvalId: await proposeHeld(harness, {
        token: ws.agents[0]!.token,
        adminToken: ws.adminToken,
        recordId,
        properties: { phone: `+1 555 01${i}0` },
      }),
    });
  }
  return held;
}

describe('two decisions on one approval at the same moment', () => {
  it('applies an approval approved by two people at once exactly once; the other gets 409', async () => {
    for (const held of await proposeMany()) await expectOneOfTwoDecisions(harness, ws.adminToken, held, 'approve');
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('lets one of an approve and a reject sent at once win; the other gets 409 and the record matches the winner', async () => {
    for (const held of await proposeMany()) await expectOneOfTwoDecisions(harness, ws.adminToken, held, 'reject');
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });
});
