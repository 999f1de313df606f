import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { associationsOf } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { verifyAudit } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { testClock } from '../support/actions.ts';
import { givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { holdEntriesPolicy, proposeContact, proposeLink } from '../support/held-entries.ts';

/*
 * Issue 21: a batch decision takes held creations and associations beside held field changes and
 * drafts, each decided by its own route's rules and reported on its own in the answer.
 */

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let token: string;

async function start(tier: 'approval' | 'two_person') {
  harness = await startHarness({ clock: testClock().now });
  ws = await seedWorkspace(harness, ['prospecting', 'enrichment']);
  token = ws.agents[0]!.token;
  await holdEntriesPolicy(harness, ws.workspaceId, tier);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '502': 'approver', '1001': 'rep' });
}
afterEach(() => harness.close());

const decideMany = (body: unknown) =>
  api(harness, 'POST', '/v1/admin/approvals/decisions', { token: ws.adminToken, body });
const eventsOf = (type: string) =>
  harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, type)));

/** A held phone write on a contact the rep 1001 owns, a held contact to create and a held link. */
async function holdMixed() {
  const record = seedContact(harness, { hubspot_owner_id: '1001' });
  const fieldChange = await proposeHeld(harness, {
    token: ws.agents[1]!.token,
    adminToken: ws.adminToken,
    recordId: record,
    properties: { phone: '+1 555 0199' },
  });
  const created = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
  const link = await proposeLink(harness, token);
  return { record, fieldChange, creation: created.result.changeId as string, link };
}

describe('POST /v1/admin/approvals/decisions with held creations and associations', () => {
  beforeEach(() => start('approval'));

  it('approves them with a held field change in one batch: each is applied, reported with its kind, and named in the manifest', async () => {
    const held = await holdMixed();
    const ids = [held.fieldChange, held.creation, held.link.result.changeId];

    const res = await decideMany({ kind: 'approve', actingUserId: '501', approvalIds: ids, note: 'Reviewed' });

    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { approvalId: held.fieldChange, kind: 'field_change', status: 'applied' },
      { approvalId: held.creation, kind: 'creation', status: 'applied' },
      { approvalId: held.link.result.changeId, kind: 'association', status: 'applied' },
    ]);
    expect(res.body.summary).toEqual({ decided: 3, refused: 0, applied: 3 });
    expect(associationsOf(harness.hubspot.state, 'contacts', held.link.contact)).toEqual([`0-2:${held.link.company}`]);
    const creation = await api(harness, 'GET', `/v1/admin/approvals/${held.creation}`, { token: ws.adminToken });
    expect(recordValues(harness.hubspot.state, 'contacts', creation.body.recordId)).toMatchObject({
      email: 'grace@navy.example',
    });

    const [manifest] = await eventsOf('approval.batch_decided');
    expect(manifest!.data).toMatchObject({
      batchDecisionId: res.body.batchDecisionId,
      fieldChanges: [held.fieldChange],
      drafts: [],
      creations: [held.creation],
      associations: [held.link.result.changeId],
      decided: ids,
      refused: [],
    });
    for (const type of ['record.create_approved', 'record.associate_approved'])
      expect((await eventsOf(type)).map((event) => event.data)).toEqual([
        expect.objectContaining({ batchDecisionId: res.body.batchDecisionId, approvedBy: ['501'], complete: true }),
      ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('refuses a rep the creation and the association one by one (they own neither) and decides their own record’s field change', async () => {
    const held = await holdMixed();
    const ids = [held.fieldChange, held.creation, held.link.result.changeId];

    const res = await decideMany({ kind: 'approve', actingUserId: '1001', approvalIds: ids });

    expect(res.body.results).toEqual([
      { approvalId: held.fieldChange, kind: 'field_change', status: 'applied' },
      {
        approvalId: held.creation,
        kind: 'creation',
        status: 'pending',
        refusal: { code: 'not_record_owner', message: expect.any(String) },
      },
      {
        approvalId: held.link.result.changeId,
        kind: 'association',
        status: 'pending',
        refusal: { code: 'not_record_owner', message: expect.any(String) },
      },
    ]);
    expect(res.body.summary).toEqual({ decided: 1, refused: 2, applied: 1 });
    expect(associationsOf(harness.hubspot.state, 'contacts', held.link.contact)).toEqual([]);
  });

  it('rejects them with the batch’s reason: refused for good, nothing made in the CRM', async () => {
    const held = await holdMixed();
    const res = await decideMany({
      kind: 'reject',
      actingUserId: '501',
      approvalIds: [held.creation, held.link.result.changeId],
      reason: 'Not a lead we want',
    });
    expect(res.body.results).toEqual([
      { approvalId: held.creation, kind: 'creation', status: 'rejected' },
      { approvalId: held.link.result.changeId, kind: 'association', status: 'rejected' },
    ]);
    const listed = (await api(harness, 'GET', '/v1/admin/approvals?status=rejected', { token: ws.adminToken })).body
      .approvals;
    expect(listed.map((approval: { message: string }) => approval.message)).toEqual([
      expect.stringContaining('Not a lead we want'),
      expect.stringContaining('Not a lead we want'),
    ]);
    expect(associationsOf(harness.hubspot.state, 'contacts', held.link.contact)).toEqual([]);
  });
});

describe('a two-person batch decision on held creations and associations', () => {
  beforeEach(() => start('two_person'));

  it('needs two different people: the first approval leaves them pending, the same person again is refused, a second person applies them', async () => {
    const created = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
    const link = await proposeLink(harness, token);
    const ids = [created.result.changeId, link.result.changeId];

    const first = await decideMany({ kind: 'approve', actingUserId: '501', approvalIds: ids });
    expect(first.body.results.map((result: { status: string }) => result.status)).toEqual(['pending', 'pending']);
    expect(first.body.summary).toEqual({ decided: 2, refused: 0, applied: 0 });

    const again = await decideMany({ kind: 'approve', actingUserId: '501', approvalIds: ids });
    expect(again.body.results.map((result: { refusal?: { code: string } }) => result.refusal?.code)).toEqual([
      'already_approved_by_this_person',
      'already_approved_by_this_person',
    ]);
    expect(associationsOf(harness.hubspot.state, 'contacts', link.contact)).toEqual([]);

    const second = await decideMany({ kind: 'approve', actingUserId: '502', approvalIds: ids });
    expect(second.body.results).toEqual([
      { approvalId: created.result.changeId, kind: 'creation', status: 'applied' },
      { approvalId: link.result.changeId, kind: 'association', status: 'applied' },
    ]);
    expect(associationsOf(harness.hubspot.state, 'contacts', link.contact)).toEqual([`0-2:${link.company}`]);
    const listed = (await api(harness, 'GET', '/v1/admin/approvals?status=applied', { token: ws.adminToken })).body
      .approvals;
    expect(listed.map((approval: { approvedBy: string[] }) => approval.approvedBy)).toEqual([
      ['501', '502'],
      ['501', '502'],
    ]);
  });
});
