import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { timelineOf } from '../../server/src/sandbox/hubspot/engagement-routes.ts';
import { verifyAudit, bootstrapWorkspace, publishPolicy } from '../../server/src/services/governance/index.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { actions, approvals, auditEvents, killSwitches } from '../../server/src/store/schema.ts';
import { emailAction, submitAction, testClock } from '../support/actions.ts';
import { EVIDENCE, givePeopleRoles, seedContact } from '../support/approvals.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  // Inside the outreach policy's send window, so an email draft is held rather than refused.
  harness = await startHarness({ clock: testClock().now });
  ws = await seedWorkspace(harness, ['enrichment', 'outreach']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '777': 'auditor', '1001': 'rep' });
});
afterEach(() => harness.close());

/** One change set holding a phone number on each of `count` new contacts; returns their approval ids in record order. */
async function holdMany(count: number, owner = '1001'): Promise<{ recordIds: string[]; approvalIds: string[] }> {
  const recordIds = Array.from({ length: count }, () => seedContact(harness, { hubspot_owner_id: owner }));
  const res = await api(harness, 'POST', '/v1/changesets', {
    token: ws.agents[0]!.token,
    body: {
      batchId: 'enrich-7',
      objectType: 'contacts',
      changes: recordIds.map((recordId, i) => ({
        recordId,
        properties: { phone: `+1 555 ${String(1000 + i)}` },
        evidence: EVIDENCE,
      })),
    },
  });
  expect(res.status).toBe(201);
  const rows = await harness.database.db.select().from(approvals).where(eq(approvals.changeSetId, res.body.id));
  const byRecord = new Map(rows.map((row) => [row.recordId, row.id]));
  return { recordIds, approvalIds: recordIds.map((recordId) => byRecord.get(recordId)!) };
}

/** A held email from the outreach agent and a held note from the enrichment agent, each on its own new contact; returns the drafts' ids. */
async function holdDrafts(
  owner = '1001',
): Promise<{ email: string; note: string; emailContact: string; noteContact: string }> {
  const emailContact = seedContact(harness, { hubspot_owner_id: owner });
  const noteContact = seedContact(harness, { hubspot_owner_id: owner });
  const email = await submitAction(harness, ws.agents[1]!.token, emailAction(emailContact));
  const note = await submitAction(harness, ws.agents[0]!.token, {
    kind: 'create_note',
    objectType: 'contacts',
    recordId: noteContact,
    body: 'Asked for the pricing sheet.',
    evidence: EVIDENCE,
  });
  expect([email.body.status, note.body.status]).toEqual(['pending', 'pending']);
  return { email: email.body.id, note: note.body.id, emailContact, noteContact };
}

const manifests = () =>
  harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'approval.batch_decided')));

const decideMany = (body: unknown) =>
  api(harness, 'POST', '/v1/admin/approvals/decisions', { token: ws.adminToken, body });

describe('POST /v1/admin/approvals/decisions', () => {
  it('writes two approved proposals for one record one after the other, oldest first, so the later one lands and neither goes stale over our own write', async () => {
    const recordId = seedContact(harness, { hubspot_owner_id: '1001' });
    const propose = async (phone: string) => {
      const res = await api(harness, 'POST', '/v1/changesets', {
        token: ws.agents[0]!.token,
        body: {
          batchId: 'enrich-8',
          objectType: 'contacts',
          changes: [{ recordId, properties: { phone }, evidence: EVIDENCE }],
        },
      });
      return (await harness.database.db.select().from(approvals).where(eq(approvals.changeSetId, res.body.id)))[0]!.id;
    };
    const older = await propose('+1 555 0101');
    const newer = await propose('+1 555 0102');
    harness.hubspot.faults.latencyMs = 30; // time for two racing writes to overlap
    harness.hubspot.calls.clear();

    const res = await decideMany({ kind: 'approve', actingUserId: '501', approvalIds: [newer, older] });
    expect(res.body.summary).toEqual({ decided: 2, refused: 0, applied: 2 });
    const routes = harness.hubspot.calls.entries
      .map((entry) => entry.route)
      .filter((route) => route.includes('/batch/'));
    expect(routes).toEqual([
      'POST /crm/v3/objects/{type}/batch/read',
      'POST /crm/v3/objects/{type}/batch/update',
      'POST /crm/v3/objects/{type}/batch/read',
      'POST /crm/v3/objects/{type}/batch/update',
    ]);
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0102');
  });

  it('approves many at once: each transitions and is written, one manifest event, writes batched per 100 records', async () => {
    const { recordIds, approvalIds } = await holdMany(150);
    harness.hubspot.calls.clear();
    const res = await decideMany({
      kind: 'approve',
      actingUserId: '501',
      approvalIds,
      note: 'Reviewed the whole batch',
    });

    expect(res.status).toBe(200);
    expect(res.body.summary).toEqual({ decided: 150, refused: 0, applied: 150 });
    expect(res.body.results.every((result: { status: string }) => result.status === 'applied')).toBe(true);
    expect(recordValues(harness.hubspot.state, 'contacts', recordIds[149]!)!.phone).toBe('+1 555 1149');
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update' })).toBe(2);
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/read' })).toBe(2);

    const manifest = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'approval.batch_decided')));
    expect(manifest).toHaveLength(1);
    expect(manifest[0]!.data).toMatchObject({
      batchDecisionId: res.body.batchDecisionId,
      kind: 'approve',
      approvalIds,
      decided: approvalIds,
      refused: [],
      note: 'Reviewed the whole batch',
    });
    const perApproval = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'approval.decided')));
    expect(perApproval).toHaveLength(150);
    expect(
      perApproval.every(
        (event) => (event.data as { batchDecisionId?: string }).batchDecisionId === res.body.batchDecisionId,
      ),
    ).toBe(true);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('reports refusals per approval without failing the others: already decided, another workspace or unknown, not the rep’s record', async () => {
    const mine = await holdMany(2);
    const notOwned = await holdMany(1, '1002');
    await decideMany({ kind: 'reject', actingUserId: '501', approvalIds: [mine.approvalIds[0]], reason: 'Wrong' });
    const unknown = '01900000-0000-7000-8000-000000000000';

    const res = await decideMany({
      kind: 'approve',
      actingUserId: '1001',
      approvalIds: [...mine.approvalIds, notOwned.approvalIds[0], unknown],
    });
    expect(res.status).toBe(200);
    expect(res.body.summary).toEqual({ decided: 1, refused: 3, applied: 1 });
    expect(res.body.results).toEqual([
      {
        approvalId: mine.approvalIds[0],
        kind: 'field_change',
        status: 'rejected',
        refusal: { code: 'approval_not_pending', message: expect.any(String) },
      },
      { approvalId: mine.approvalIds[1], kind: 'field_change', status: 'applied' },
      {
        approvalId: notOwned.approvalIds[0],
        kind: 'field_change',
        status: 'pending',
        refusal: { code: 'not_record_owner', message: expect.any(String) },
      },
      { approvalId: unknown, kind: null, status: null, refusal: { code: 'not_found', message: expect.any(String) } },
    ]);
  });

  it('refuses a batch that names only unknown or another workspace’s ids with 404, appending no event (issue 17)', async () => {
    const theirs = await holdMany(1);
    const other = await seedWorkspace(harness);
    const eventsOf = async (workspaceId: string) =>
      (await harness.database.db.select().from(auditEvents).where(eq(auditEvents.workspaceId, workspaceId))).length;
    const before = await eventsOf(other.workspaceId);

    const res = await api(harness, 'POST', '/v1/admin/approvals/decisions', {
      token: other.adminToken,
      body: {
        kind: 'approve',
        actingUserId: '501',
        approvalIds: [theirs.approvalIds[0], '01900000-0000-7000-8000-000000000000'],
      },
    });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/none of the 2 approvals/i),
    });
    expect(await eventsOf(other.workspaceId)).toBe(before);
    const [stored] = await harness.database.db.select().from(approvals).where(eq(approvals.id, theirs.approvalIds[0]!));
    expect(stored!.status).toBe('pending');
  });

  it('rejects many with one reason, writing nothing to the records', async () => {
    const { recordIds, approvalIds } = await holdMany(3);
    const res = await decideMany({ kind: 'reject', actingUserId: '501', approvalIds, reason: 'Bad source' });
    expect(res.body.summary).toEqual({ decided: 3, refused: 0, applied: 0 });
    const rows = await harness.database.db.select().from(approvals).where(eq(approvals.workspaceId, ws.workspaceId));
    expect(rows.map((row) => [row.status, row.message])).toEqual(
      Array.from({ length: 3 }, () => ['rejected', 'Bad source']),
    );
    expect(recordValues(harness.hubspot.state, 'contacts', recordIds[0]!)!.phone).toBeUndefined();
  });

  it('refuses a malformed batch with 400 and decides nothing: duplicates, too many, a reject without reason', async () => {
    const { approvalIds } = await holdMany(1);
    const twice = await decideMany({
      kind: 'approve',
      actingUserId: '501',
      approvalIds: [approvalIds[0], approvalIds[0]],
    });
    expect(twice).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const tooMany = await decideMany({
      kind: 'approve',
      actingUserId: '501',
      approvalIds: Array.from({ length: 1_001 }, () => approvalIds[0]),
    });
    expect(tooMany.status).toBe(400);
    expect((await decideMany({ kind: 'reject', actingUserId: '501', approvalIds })).status).toBe(400);
    expect((await harness.database.db.select().from(approvals))[0]!.status).toBe('pending');
  });

  it('lets an auditor decide none of them', async () => {
    const { approvalIds } = await holdMany(2);
    const res = await decideMany({ kind: 'approve', actingUserId: '777', approvalIds });
    expect(res.body.summary).toEqual({ decided: 0, refused: 2, applied: 0 });
    expect(res.body.results.map((result: { refusal: { code: string } }) => result.refusal.code)).toEqual([
      'role_cannot_decide',
      'role_cannot_decide',
    ]);
  });
});

describe('POST /v1/admin/approvals/decisions with held drafts', () => {
  it('approves field changes and drafts in one batch: one manifest names both kinds, the email is released to the agent, the note is created', async () => {
    const { approvalIds, recordIds } = await holdMany(2);
    const drafts = await holdDrafts();
    const ids = [approvalIds[0]!, drafts.email, approvalIds[1]!, drafts.note];
    const res = await decideMany({
      kind: 'approve',
      actingUserId: '501',
      approvalIds: ids,
      note: 'Reviewed with the team',
    });

    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { approvalId: approvalIds[0], kind: 'field_change', status: 'applied' },
      // Released: the agent sends it and reports the outcome.
      { approvalId: drafts.email, kind: 'draft', status: 'approved' },
      { approvalId: approvalIds[1], kind: 'field_change', status: 'applied' },
      { approvalId: drafts.note, kind: 'draft', status: 'applied' },
    ]);
    expect(res.body.summary).toEqual({ decided: 4, refused: 0, applied: 3 });
    expect(recordValues(harness.hubspot.state, 'contacts', recordIds[1]!)!.phone).toBe('+1 555 1001');
    expect(
      timelineOf(harness.hubspot.state, 'contacts', drafts.noteContact).map(
        (engagement) => engagement.properties['hs_note_body'],
      ),
    ).toEqual(['Asked for the pricing sheet.']);

    const outreachToken = ws.agents[1]!.token;
    const read = await api(harness, 'GET', `/v1/actions/${drafts.email}`, { token: outreachToken });
    expect(read.body).toMatchObject({
      status: 'released',
      approvedBy: ['501'],
      released: { to: 'ada@example.com', subject: 'Pricing sheet' },
      releaseToken: expect.stringMatching(/^rel_/),
    });
    const verified = await api(harness, 'POST', `/v1/actions/${drafts.email}/verify`, {
      token: outreachToken,
      body: { releaseToken: read.body.releaseToken },
    });
    expect(verified.body).toMatchObject({ valid: true, actionId: drafts.email, approvedBy: ['501'] });

    const [manifest, ...more] = await manifests();
    expect(more).toEqual([]);
    expect(manifest!.data).toEqual({
      batchDecisionId: res.body.batchDecisionId,
      kind: 'approve',
      approvalIds: ids,
      fieldChanges: [approvalIds[0], approvalIds[1]],
      drafts: [drafts.email, drafts.note],
      creations: [],
      associations: [],
      decided: ids,
      refused: [],
      note: 'Reviewed with the team',
    });
    const approved = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'action.approved')));
    expect(approved.map((event) => (event.data as { batchDecisionId?: string }).batchDecisionId)).toEqual([
      res.body.batchDecisionId,
      res.body.batchDecisionId,
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it("refuses a rep the drafts on records they do not own, one by one, and rejects their own with the batch's reason", async () => {
    const mine = await holdDrafts('1001');
    const theirs = await holdDrafts('1002');
    const res = await decideMany({
      kind: 'reject',
      actingUserId: '1001',
      approvalIds: [mine.email, theirs.email, mine.note, theirs.note],
      reason: 'Not this quarter',
    });

    expect(res.body.results).toEqual([
      { approvalId: mine.email, kind: 'draft', status: 'rejected' },
      {
        approvalId: theirs.email,
        kind: 'draft',
        status: 'pending',
        refusal: { code: 'not_record_owner', message: expect.any(String) },
      },
      { approvalId: mine.note, kind: 'draft', status: 'rejected' },
      {
        approvalId: theirs.note,
        kind: 'draft',
        status: 'pending',
        refusal: { code: 'not_record_owner', message: expect.any(String) },
      },
    ]);
    expect(res.body.summary).toEqual({ decided: 2, refused: 2, applied: 0 });
    const rows = await harness.database.db.select().from(actions).where(eq(actions.workspaceId, ws.workspaceId));
    expect(new Map(rows.map((row) => [row.id, [row.status, row.message]]))).toEqual(
      new Map([
        [mine.email, ['rejected', 'Not this quarter']],
        [mine.note, ['rejected', 'Not this quarter']],
        [theirs.email, ['pending', null]],
        [theirs.note, ['pending', null]],
      ]),
    );
    expect(timelineOf(harness.hubspot.state, 'contacts', theirs.noteContact)).toEqual([]);
    const [manifest] = await manifests();
    expect(manifest!.data).toMatchObject({
      fieldChanges: [],
      drafts: [mine.email, theirs.email, mine.note, theirs.note],
      decided: [mine.email, mine.note],
      refused: [theirs.email, theirs.note],
    });
  });

  it('decides a draft named by two batches at once exactly once: the other reports it no longer pending', async () => {
    const { approvalIds } = await holdMany(1);
    const drafts = await holdDrafts();
    // Opposite orders: the locks are taken in one order whatever the request's, so neither waits on the other forever.
    const [first, second] = await Promise.all([
      decideMany({ kind: 'approve', actingUserId: '501', approvalIds: [approvalIds[0], drafts.note] }),
      decideMany({
        kind: 'reject',
        actingUserId: '501',
        approvalIds: [drafts.note, approvalIds[0]],
        reason: 'Duplicate',
      }),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.body.summary.decided + second.body.summary.decided).toBe(2);
    expect(first.body.summary.refused + second.body.summary.refused).toBe(2);
    const refusals = [...first.body.results, ...second.body.results].filter(
      (result: { refusal?: unknown }) => result.refusal,
    );
    expect(refusals.map((result: { refusal: { code: string } }) => result.refusal.code)).toEqual([
      'approval_not_pending',
      'approval_not_pending',
    ]);
    const note = (await harness.database.db.select().from(actions).where(eq(actions.id, drafts.note)))[0]!;
    expect(['completed', 'rejected']).toContain(note.status);
    expect(timelineOf(harness.hubspot.state, 'contacts', drafts.noteContact)).toHaveLength(
      note.status === 'completed' ? 1 : 0,
    );
  });

  it('counts drafts within the 1,000 limit', async () => {
    const drafts = await holdDrafts();
    const tooMany = Array.from(
      { length: 999 },
      (_, index) => `01900000-0000-7000-8000-${String(index).padStart(12, '0')}`,
    );
    const res = await decideMany({
      kind: 'approve',
      actingUserId: '501',
      approvalIds: [...tooMany, drafts.email, drafts.note],
    });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect((await harness.database.db.select().from(actions).where(eq(actions.id, drafts.email)))[0]!.status).toBe(
      'pending',
    );
  });
});

describe('the rejection-rate kill trigger', () => {
  it('stops the agent when people reject more than the share of its decided proposals in one batch', async () => {
    await publishPolicy(
      harness.deps,
      ws.workspaceId,
      {
        ...(EXAMPLE_POLICY as object),
        monitoring: { killTriggers: { rejectionRate: { threshold: 0.5, minDecided: 4 } } },
      },
      ADMIN,
    );
    const { approvalIds } = await holdMany(6);
    await decideMany({ kind: 'approve', actingUserId: '501', approvalIds: approvalIds.slice(0, 1) });
    await decideMany({
      kind: 'reject',
      actingUserId: '501',
      approvalIds: approvalIds.slice(1, 3),
      reason: 'Wrong numbers',
    });
    expect(
      await harness.database.db.select().from(killSwitches).where(eq(killSwitches.workspaceId, ws.workspaceId)),
    ).toEqual([]); // 3 decided: too few to judge
    await decideMany({
      kind: 'reject',
      actingUserId: '501',
      approvalIds: approvalIds.slice(3, 4),
      reason: 'Wrong numbers',
    });
    const [engaged] = await harness.database.db
      .select()
      .from(killSwitches)
      .where(eq(killSwitches.workspaceId, ws.workspaceId));
    expect(engaged).toMatchObject({
      scope: 'agent',
      target: ws.agents[0]!.id,
      engaged: true,
      reason: expect.stringContaining('3 of 4 decided proposals'),
    });
    const submit = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      body: {
        batchId: 'next',
        objectType: 'contacts',
        changes: [{ recordId: seedContact(harness), properties: { phone: '+1 555 0000' }, evidence: EVIDENCE }],
      },
    });
    expect(submit.status).toBe(423);
  });
});
