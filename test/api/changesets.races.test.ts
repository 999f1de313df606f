import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { verifyAudit, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { insertChanges, insertChangeSet } from '../../server/src/store/change-store.ts';
import { approvalItems, approvals, changes } from '../../server/src/store/schema.ts';
import { decide, givePeopleRoles } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

/**
 * Issue 17, defect 3: decisions that depend on a record's current value are taken against the
 * value the CRM will hold, not one a concurrent submission is about to change. Separate requests
 * at once against the real server; HubSpot is slowed down so every read lands before any write.
 */
const AGENTS = 10;
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(
    harness,
    Array.from({ length: AGENTS }, () => 'enrichment' as const),
  );
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  harness.hubspot.faults.latencyMs = 30;
});
afterAll(() => harness.close());

const EVIDENCE = { source: 'clearbit', url: 'https://example.com/about', confidence: 0.95, reason: 'Company site' };

function fillCompany(token: string, recordId: string, company: string) {
  return api(harness, 'POST', '/v1/changesets', {
    token,
    body: {
      batchId: `fill-${company}`,
      objectType: 'contacts',
      changes: [{ recordId, properties: { company }, evidence: EVIDENCE }],
    },
  });
}

describe('ten agents filling the same empty company at once', () => {
  it('applies exactly one and holds the rest for approval, each against the value the first wrote', async () => {
    const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'race@example.com' } });
    const responses = await Promise.all(
      ws.agents.map((agent, i) => fillCompany(agent.token, recordId, `Company ${i}`)),
    );
    expect(responses.map((res) => res.status)).toEqual(Array(AGENTS).fill(201));

    const decisions = responses.map(
      (res) =>
        res.body.results[0] as { decision: string; reasons: string[]; before: string | null; proposed: string | null },
    );
    const applied = decisions.filter((d) => d.decision === 'applied');
    const held = decisions.filter((d) => d.decision === 'pending_approval');
    expect(applied).toHaveLength(1);
    expect(held).toHaveLength(AGENTS - 1);
    const winner = applied[0]!.proposed;
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)?.company).toBe(winner);
    for (const decision of held) expect(decision.reasons).toContain('overwrites_non_empty_value');

    // Each held write names the winner's value as the one it would replace, so approving it later is not stale.
    const items = await harness.deps.db
      .select({ before: approvalItems.beforeValue })
      .from(approvalItems)
      .innerJoin(approvals, eq(approvals.id, approvalItems.approvalId))
      .where(and(eq(approvals.workspaceId, ws.workspaceId), eq(approvals.recordId, recordId)));
    expect(items.map((item) => item.before)).toEqual(Array(AGENTS - 1).fill(winner));
    expect((await verifyAudit(harness.deps, ws.workspaceId)).ok).toBe(true);
  });

  it('does not hold writes to different records submitted at the same moment', async () => {
    const recordIds = ws.agents.map((_, i) =>
      seedRecord(harness.hubspot.state, 'contacts', { properties: { email: `apart${i}@example.com` } }),
    );
    const responses = await Promise.all(
      ws.agents.map((agent, i) => fillCompany(agent.token, recordIds[i]!, `Apart ${i}`)),
    );
    expect(responses.map((res) => res.body.results[0].decision)).toEqual(Array(AGENTS).fill('applied'));
    expect(recordIds.map((id) => recordValues(harness.hubspot.state, 'contacts', id)?.company)).toEqual(
      recordIds.map((_, i) => `Apart ${i}`),
    );
  });

  it('writes again a value a concurrent write proposes too, rather than trusting a write still in flight', async () => {
    const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'same@example.com' } });
    const responses = await Promise.all(
      ws.agents.slice(0, 3).map((agent) => fillCompany(agent.token, recordId, 'Same Co')),
    );
    expect(responses.map((res) => res.body.results[0].decision)).toEqual(['applied', 'applied', 'applied']);
    const rows = await harness.deps.db
      .select()
      .from(changes)
      .where(and(eq(changes.workspaceId, ws.workspaceId), eq(changes.recordId, recordId)));
    expect(rows.every((row) => row.decision === 'applied')).toBe(true);
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)?.company).toBe('Same Co');
  });
});

/** A write decided and sent but not settled, as a crash mid-write leaves it until recovery. */
async function leaveApplying(recordId: string, property: string, value: string): Promise<void> {
  const changeSetId = randomUUID();
  await harness.deps.db.transaction(async (tx) => {
    await insertChangeSet(tx, {
      id: changeSetId,
      workspaceId: ws.workspaceId,
      agentId: ws.agents[AGENTS - 1]!.id,
      batchId: 'interrupted',
      objectType: 'contacts',
      policyVersion: ws.policyVersion,
      delegationId: null,
      status: 'applying',
      createdAt: new Date(),
    });
    await insertChanges(tx, [
      {
        id: randomUUID(),
        workspaceId: ws.workspaceId,
        changeSetId,
        ordinal: 0,
        recordId,
        property,
        beforeValue: null,
        proposedValue: value,
        tier: 'auto',
        decision: 'applying',
        reasons: ['tier_auto'],
      },
    ]);
  });
}

describe('a write of ours still applying on the record', () => {
  it('holds a fill of the empty field it is writing, against the value it is writing', async () => {
    const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'inflight@example.com' } });
    await leaveApplying(recordId, 'company', 'Interrupted Co');
    const res = await fillCompany(ws.agents[0]!.token, recordId, 'Later Co');
    expect(res.body.results[0]).toMatchObject({
      decision: 'pending_approval',
      before: 'Interrupted Co',
      reasons: expect.arrayContaining(['overwrites_non_empty_value']),
    });
  });

  it('marks stale an approved write of a field it is changing, and writes nothing', async () => {
    const recordId = seedRecord(harness.hubspot.state, 'contacts', {
      properties: { email: 'approved@example.com', company: 'Old Co', hubspot_owner_id: '1001' },
    });
    const held = await fillCompany(ws.agents[1]!.token, recordId, 'Proposed Co');
    expect(held.body.results[0].decision).toBe('pending_approval');
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    const list = await api(harness, 'GET', `/v1/admin/approvals?record=${recordId}&status=pending`, {
      token: ws.adminToken,
    });
    await leaveApplying(recordId, 'company', 'Interrupted Co');

    const approved = await decide(harness, ws.adminToken, list.body.approvals[0].id, {
      kind: 'approve',
      actingUserId: '501',
    });
    expect(approved.status).toBe(200);
    const [stored] = await harness.deps.db.select().from(approvals).where(eq(approvals.id, list.body.approvals[0].id));
    expect(stored).toMatchObject({ status: 'stale' });
    expect(stored!.message).toContain('Another write is changing company');
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)?.company).toBe('Old Co');
  });
});
