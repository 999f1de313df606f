import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { associationsOf } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { manifestRows } from '../../shared/views/batch-manifest.ts';
import { testClock } from '../support/actions.ts';
import { givePeopleRoles } from '../support/approvals.ts';
import { consoleCall, signInAs } from '../support/console.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { holdEntriesPolicy, proposeContact, proposeLink } from '../support/held-entries.ts';

let harness: Harness;
let clock: ReturnType<typeof testClock>;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['prospecting']);
  await holdEntriesPolicy(harness, ws.workspaceId, 'two_person');
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '502': 'revops_admin', '1001': 'rep' });
});
afterEach(() => harness.close());

const inbox = async (cookie: string, query = '') =>
  (await (await consoleCall(harness, cookie, 'GET', `/console/api/inbox${query}`)).json()) as any;
const decide = async (cookie: string, kind: 'creations' | 'associations', id: string, body: object) => {
  const answer = await consoleCall(harness, cookie, 'POST', `/console/api/${kind}/${id}/decisions`, body);
  return { status: answer.status, body: (await answer.json()) as any };
};

describe('held creations and associations in the console inbox', () => {
  it('When an agent’s link and new contact wait, then the inbox shows them with who may decide, filtered as the rest', async () => {
    const token = ws.agents[0]!.token;
    const link = await proposeLink(harness, token);
    const created = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
    const approver = await signInAs(harness, ws.workspaceId, '501');

    const seen = await inbox(approver);
    expect(seen.heldEntries).toEqual([
      expect.objectContaining({
        approval: expect.objectContaining({
          kind: 'creation',
          id: created.result.changeId,
          properties: { email: 'grace@navy.example', lastname: 'Hopper' },
          tier: 'two_person',
          status: 'pending',
        }),
        agent: { id: ws.agents[0]!.id, name: expect.any(String) },
        decidable: { ok: true },
      }),
      expect.objectContaining({
        approval: expect.objectContaining({
          kind: 'association',
          id: link.result.changeId,
          recordId: link.contact,
          toObjectType: 'companies',
          toRecordId: link.company,
        }),
        decidable: { ok: true },
      }),
    ]);
    const rep = await signInAs(harness, ws.workspaceId, '1001');
    expect((await inbox(rep)).heldEntries.map((entry: any) => entry.decidable)).toEqual([
      { ok: false, code: 'not_record_owner' },
      { ok: false, code: 'not_record_owner' },
    ]);
    const byBatch = await inbox(approver, '?batch=link-1');
    expect(byBatch.heldEntries.map((entry: any) => entry.approval.id)).toEqual([link.result.changeId]);
    expect((await inbox(approver, `?record=${link.company}`)).heldEntries).toHaveLength(1);
    expect((await inbox(approver, '?property=phone')).heldEntries).toEqual([]);
    expect((await inbox(approver, '?olderThanMinutes=60')).heldEntries).toEqual([]);
  });

  it('When two people approve a two-person link from the inbox, then it is linked after the second; a rejection with a reason refuses a creation; a rep is refused', async () => {
    const token = ws.agents[0]!.token;
    const link = await proposeLink(harness, token);
    const created = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
    const approver = await signInAs(harness, ws.workspaceId, '501');
    const admin = await signInAs(harness, ws.workspaceId, '502');
    const rep = await signInAs(harness, ws.workspaceId, '1001');

    const refused = await decide(rep, 'associations', link.result.changeId, { kind: 'approve' });
    expect(refused).toMatchObject({ status: 403, body: { error: { details: { refusal: 'not_record_owner' } } } });

    const first = await decide(approver, 'associations', link.result.changeId, { kind: 'approve' });
    expect(first).toMatchObject({ status: 200, body: { decision: 'pending_approval' } });
    expect(associationsOf(harness.hubspot.state, 'contacts', link.contact)).toEqual([]);
    const waiting = (await inbox(approver)).heldEntries.find((entry: any) => entry.approval.kind === 'association');
    expect(waiting).toMatchObject({
      approval: { approvedBy: ['501'] },
      decidable: { ok: false, code: 'already_approved_by_this_person' },
    });
    const second = await decide(admin, 'associations', link.result.changeId, { kind: 'approve' });
    expect(second).toMatchObject({ status: 200, body: { decision: 'applied' } });
    expect(associationsOf(harness.hubspot.state, 'contacts', link.contact)).toEqual([`0-2:${link.company}`]);

    expect((await decide(approver, 'creations', created.result.changeId, { kind: 'reject' })).status).toBe(400);
    const rejected = await decide(approver, 'creations', created.result.changeId, {
      kind: 'reject',
      reason: 'Already a customer contact',
    });
    expect(rejected).toMatchObject({ status: 200, body: { decision: 'denied' } });
    expect((await inbox(approver)).heldEntries).toEqual([]);

    const events = await harness.database.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.type, 'record.associate_approved'));
    expect(events.map((event) => event.actor)).toEqual([
      expect.objectContaining({ crmUserId: '501', via: 'console' }),
      expect.objectContaining({ crmUserId: '502', via: 'console' }),
    ]);
  });

  it('When a person picks a new contact and a link for a batch decision, then the manifest names both and the batch decides each by its own rules', async () => {
    const token = ws.agents[0]!.token;
    const link = await proposeLink(harness, token);
    const created = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
    const approver = await signInAs(harness, ws.workspaceId, '501');
    const admin = await signInAs(harness, ws.workspaceId, '502');
    const rep = await signInAs(harness, ws.workspaceId, '1001');
    const batch = async (cookie: string, body: object) =>
      (await (
        await consoleCall(harness, cookie, 'POST', '/console/api/approvals/batch-decisions', body)
      ).json()) as any;

    const seen = await inbox(approver);
    const agent = seen.heldEntries[0].agent.name;
    // The lines the inbox's manifest shows before the person confirms, from what the inbox listed.
    expect(manifestRows([], seen.heldEntries)).toEqual([
      {
        key: created.result.changeId,
        record: 'contacts (new)',
        change: 'new record',
        value: 'Create a contact: email grace@navy.example, lastname Hopper',
        agent,
        batch: 'prospect-1',
      },
      {
        key: link.result.changeId,
        record: `contacts ${link.contact}`,
        change: 'link',
        value: `Link contact ${link.contact} with company ${link.company}`,
        agent,
        batch: 'link-1',
      },
    ]);
    const approvalIds = seen.heldEntries.map((entry: any) => entry.approval.id);

    const byRep = await batch(rep, { kind: 'approve', approvalIds });
    expect(byRep.results.map((result: any) => [result.kind, result.refusal?.code])).toEqual([
      ['creation', 'not_record_owner'],
      ['association', 'not_record_owner'],
    ]);
    const first = await batch(approver, { kind: 'approve', approvalIds });
    expect(first.results.map((result: any) => [result.kind, result.status])).toEqual([
      ['creation', 'pending'],
      ['association', 'pending'],
    ]);
    expect((await inbox(approver)).heldEntries.map((entry: any) => entry.decidable)).toEqual([
      { ok: false, code: 'already_approved_by_this_person' },
      { ok: false, code: 'already_approved_by_this_person' },
    ]);
    const second = await batch(admin, { kind: 'approve', approvalIds });
    expect(second.summary).toMatchObject({ decided: 2, refused: 0 });
    await harness.behindAnswersDone();

    expect((await inbox(admin)).heldEntries).toEqual([]);
    expect(associationsOf(harness.hubspot.state, 'contacts', link.contact)).toEqual([`0-2:${link.company}`]);
    const manifests = await harness.database.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.type, 'approval.batch_decided'));
    expect(manifests.map((event) => [event.actor, event.data])).toEqual(
      ['1001', '501', '502'].map((crmUserId) => [
        expect.objectContaining({ crmUserId, via: 'console' }),
        expect.objectContaining({ creations: [created.result.changeId], associations: [link.result.changeId] }),
      ]),
    );
  });
});
