import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { propertyHistory } from '../../server/src/sandbox/hubspot/state.ts';
import { approvals, auditEvents } from '../../server/src/store/schema.ts';
import { decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
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
    held.push({ recordId, approvalId: await proposeHeld(harness, { token: ws.agents[0]!.token, adminToken: ws.adminToken, recordId, properties: { phone: `+1 555 01${i}0` } }) });
  }
  return held;
}

describe('two decisions on one approval at the same moment', () => {
  it('applies an approval approved by two people at once exactly once; the other gets 409', async () => {
    const held = await proposeMany();
    for (const { recordId, approvalId } of held) {
      const answers = await Promise.all([
        decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' }),
        decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '502' }),
      ]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      expect(answers.find((answer) => answer.status === 409)!.body.error.details.refusal).toBe('approval_not_pending');
      expect(propertyHistory(harness.hubspot.state, 'contacts', recordId, 'phone').filter((entry) => entry.sourceType === 'API')).toHaveLength(1);
      const applied = await harness.database.db.select().from(auditEvents).where(and(eq(auditEvents.recordId, recordId), eq(auditEvents.type, 'approval.applied')));
      expect(applied).toHaveLength(1);
    }
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('lets one of an approve and a reject sent at once win; the other gets 409 and the record matches the winner', async () => {
    const held = await proposeMany();
    for (const { recordId, approvalId } of held) {
      const [approve, reject] = await Promise.all([
        decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' }),
        decide(harness, ws.adminToken, approvalId, { kind: 'reject', actingUserId: '502', reason: 'Not this number' }),
      ]);
      expect([approve!.status, reject!.status].sort()).toEqual([200, 409]);
      const [stored] = await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId));
      const written = propertyHistory(harness.hubspot.state, 'contacts', recordId, 'phone').filter((entry) => entry.sourceType === 'API');
      if (approve!.status === 200) {
        expect(stored!.status).toBe('applied');
        expect(written).toHaveLength(1);
      } else {
        expect(stored!.status).toBe('rejected');
        expect(written).toHaveLength(0);
      }
    }
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });
});
