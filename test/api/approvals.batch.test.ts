import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../server/src/services/audit.ts';
import { bootstrapWorkspace } from '../../server/src/services/bootstrap.ts';
import { publishPolicy } from '../../server/src/services/policies.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { approvals, auditEvents, killSwitches } from '../../server/src/store/schema.ts';
import { EVIDENCE, givePeopleRoles, seedContact } from '../support/approvals.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '777': 'auditor', '1001': 'rep' });
});
afterEach(() => harness.close());

/** One change set holding a phone number on each of `count` new contacts; returns their approval ids in record order. */
async function holdMany(count: number, owner = '1001'): Promise<{ recordIds: string[]; approvalIds: string[] }> {
  const recordIds = Array.from({ length: count }, () => seedContact(harness, { hubspot_owner_id: owner }));
  const res = await api(harness, 'POST', '/v1/changesets', {
    token: ws.agents[0]!.token,
    body: { batchId: 'enrich-7', objectType: 'contacts', changes: recordIds.map((recordId, i) => ({ recordId, properties: { phone: `+1 555 ${String(1000 + i)}` }, evidence: EVIDENCE })) },
  });
  expect(res.status).toBe(201);
  const rows = await harness.database.db.select().from(approvals).where(eq(approvals.changeSetId, res.body.id));
  const byRecord = new Map(rows.map((row) => [row.recordId, row.id]));
  return { recordIds, approvalIds: recordIds.map((recordId) => byRecord.get(recordId)!) };
}

const decideMany = (body: unknown) => api(harness, 'POST', '/v1/admin/approvals/decisions', { token: ws.adminToken, body });

describe('POST /v1/admin/approvals/decisions', () => {
  it('approves many at once: each transitions and is written, one manifest event, writes batched per 100 records', async () => {
    const { recordIds, approvalIds } = await holdMany(150);
    harness.hubspot.calls.clear();
    const res = await decideMany({ kind: 'approve', actingUserId: '501', approvalIds, note: 'Reviewed the whole batch' });

    expect(res.status).toBe(200);
    expect(res.body.summary).toEqual({ decided: 150, refused: 0, applied: 150 });
    expect(res.body.results.every((result: { status: string }) => result.status === 'applied')).toBe(true);
    expect(recordValues(harness.hubspot.state, 'contacts', recordIds[149]!)!.phone).toBe('+1 555 1149');
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update' })).toBe(2);
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/read' })).toBe(2);

    const manifest = await harness.database.db.select().from(auditEvents).where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'approval.batch_decided')));
    expect(manifest).toHaveLength(1);
    expect(manifest[0]!.data).toMatchObject({ batchDecisionId: res.body.batchDecisionId, kind: 'approve', approvalIds, decided: approvalIds, refused: [], note: 'Reviewed the whole batch' });
    const perApproval = await harness.database.db.select().from(auditEvents).where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'approval.decided')));
    expect(perApproval).toHaveLength(150);
    expect(perApproval.every((event) => (event.data as { batchDecisionId?: string }).batchDecisionId === res.body.batchDecisionId)).toBe(true);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('reports refusals per approval without failing the others: already decided, another workspace or unknown, not the rep’s record', async () => {
    const mine = await holdMany(2);
    const notOwned = await holdMany(1, '1002');
    await decideMany({ kind: 'reject', actingUserId: '501', approvalIds: [mine.approvalIds[0]], reason: 'Wrong' });
    const unknown = '01900000-0000-7000-8000-000000000000';

    const res = await decideMany({ kind: 'approve', actingUserId: '1001', approvalIds: [...mine.approvalIds, notOwned.approvalIds[0], unknown] });
    expect(res.status).toBe(200);
    expect(res.body.summary).toEqual({ decided: 1, refused: 3, applied: 1 });
    expect(res.body.results).toEqual([
      { approvalId: mine.approvalIds[0], status: 'rejected', refusal: { code: 'approval_not_pending', message: expect.any(String) } },
      { approvalId: mine.approvalIds[1], status: 'applied' },
      { approvalId: notOwned.approvalIds[0], status: 'pending', refusal: { code: 'not_record_owner', message: expect.any(String) } },
      { approvalId: unknown, status: null, refusal: { code: 'not_found', message: expect.any(String) } },
    ]);
  });

  it('rejects many with one reason, writing nothing to the records', async () => {
    const { recordIds, approvalIds } = await holdMany(3);
    const res = await decideMany({ kind: 'reject', actingUserId: '501', approvalIds, reason: 'Bad source' });
    expect(res.body.summary).toEqual({ decided: 3, refused: 0, applied: 0 });
    const rows = await harness.database.db.select().from(approvals).where(eq(approvals.workspaceId, ws.workspaceId));
    expect(rows.map((row) => [row.status, row.message])).toEqual(Array.from({ length: 3 }, () => ['rejected', 'Bad source']));
    expect(recordValues(harness.hubspot.state, 'contacts', recordIds[0]!)!.phone).toBeUndefined();
  });

  it('refuses a malformed batch with 400 and decides nothing: duplicates, too many, a reject without reason', async () => {
    const { approvalIds } = await holdMany(1);
    const twice = await decideMany({ kind: 'approve', actingUserId: '501', approvalIds: [approvalIds[0], approvalIds[0]] });
    expect(twice).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const tooMany = await decideMany({ kind: 'approve', actingUserId: '501', approvalIds: Array.from({ length: 1_001 }, () => approvalIds[0]) });
    expect(tooMany.status).toBe(400);
    expect((await decideMany({ kind: 'reject', actingUserId: '501', approvalIds })).status).toBe(400);
    expect((await harness.database.db.select().from(approvals))[0]!.status).toBe('pending');
  });

  it('lets an auditor decide none of them', async () => {
    const { approvalIds } = await holdMany(2);
    const res = await decideMany({ kind: 'approve', actingUserId: '777', approvalIds });
    expect(res.body.summary).toEqual({ decided: 0, refused: 2, applied: 0 });
    expect(res.body.results.map((result: { refusal: { code: string } }) => result.refusal.code)).toEqual(['role_cannot_decide', 'role_cannot_decide']);
  });
});

describe('the rejection-rate kill trigger', () => {
  it('stops the agent when people reject more than the share of its decided proposals in one batch', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, { ...(EXAMPLE_POLICY as object), monitoring: { killTriggers: { rejectionRate: { threshold: 0.5, minDecided: 4 } } } }, ADMIN);
    const { approvalIds } = await holdMany(6);
    await decideMany({ kind: 'approve', actingUserId: '501', approvalIds: approvalIds.slice(0, 1) });
    await decideMany({ kind: 'reject', actingUserId: '501', approvalIds: approvalIds.slice(1, 3), reason: 'Wrong numbers' });
    expect(await harness.database.db.select().from(killSwitches).where(eq(killSwitches.workspaceId, ws.workspaceId))).toEqual([]); // 3 decided: too few to judge
    await decideMany({ kind: 'reject', actingUserId: '501', approvalIds: approvalIds.slice(3, 4), reason: 'Wrong numbers' });
    const [engaged] = await harness.database.db.select().from(killSwitches).where(eq(killSwitches.workspaceId, ws.workspaceId));
    expect(engaged).toMatchObject({ scope: 'agent', target: ws.agents[0]!.id, engaged: true, reason: expect.stringContaining('3 of 4 decided proposals') });
    const submit = await api(harness, 'POST', '/v1/changesets', { token: ws.agents[0]!.token, body: { batchId: 'next', objectType: 'contacts', changes: [{ recordId: seedContact(harness), properties: { phone: '+1 555 0000' }, evidence: EVIDENCE }] } });
    expect(submit.status).toBe(423);
  });
});
