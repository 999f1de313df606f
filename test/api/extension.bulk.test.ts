import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { timelineOf } from '../../server/src/sandbox/hubspot/engagement-routes.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { associationsOf } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { createAgent, setTeamRole } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { submitAction } from '../support/actions.ts';
import { EVIDENCE, proposeHeld, seedContact } from '../support/approvals.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { ADMIN, api, startHarness, type Harness } from '../support/harness.ts';
import { holdEntriesPolicy, proposeContact, proposeLink } from '../support/held-entries.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, { '501': 'approver', '601': 'auditor', '1001': 'rep' });
});
afterEach(() => harness.close());

const as = (
  userId: string,
  call: Omit<Parameters<typeof callAsHubSpot>[1], 'userId' | 'portalId' | 'clientSecret'> &
    Partial<Parameters<typeof callAsHubSpot>[1]>,
) => callAsHubSpot(harness, { portalId: ws.portalId, clientSecret: ws.clientSecret, ...call, userId });
const propose = (recordId: string, phone: string) =>
  proposeHeld(harness, { token: ws.agent.token, adminToken: ws.adminToken, recordId, properties: { phone } });
const statusOf = async (approvalId: string) =>
  (await api(harness, 'GET', `/v1/admin/approvals/${approvalId}`, { token: ws.adminToken })).body.status;
const selection = (recordIds: string[]) => ({ objectType: 'contacts', recordIds });
const draftStatusOf = async (draftId: string) =>
  (await api(harness, 'GET', `/v1/admin/actions/${draftId}`, { token: ws.adminToken })).body.status;

/** A note the agent drafted for the record, which the example policy holds for a person. */
async function heldNote(recordId: string): Promise<string> {
  const submitted = await submitAction(harness, ws.agent.token, {
    kind: 'create_note',
    objectType: 'contacts',
    recordId,
    body: `Call notes for ${recordId}`,
    evidence: EVIDENCE,
  });
  expect(submitted.body).toMatchObject({ status: 'pending' });
  return submitted.body.id as string;
}

/** Three contacts: two owned by rep 1001 (one with two proposals), one by someone else; and a fourth, unselected, with its own proposal. */
async function seedSelection() {
  const mine = [seedContact(harness, { hubspot_owner_id: '1001' }), seedContact(harness, { hubspot_owner_id: '1001' })];
  const theirs = seedContact(harness, { hubspot_owner_id: '2002' });
  const unselected = seedContact(harness, { hubspot_owner_id: '1001' });
  const approvals = {
    mine: [
      await propose(mine[0]!, '+1 555 0101'),
      await propose(mine[0]!, '+1 555 0102'),
      await propose(mine[1]!, '+1 555 0103'),
    ],
    theirs: await propose(theirs, '+1 555 0104'),
    unselected: await propose(unselected, '+1 555 0105'),
  };
  return { recordIds: [...mine, theirs, seedContact(harness)], mine, theirs, unselected, approvals };
}

describe('the bulk action: what waits on the selected records', () => {
  it('counts the pending proposals of the selection only, and how many the caller may decide', async () => {
    const seeded = await seedSelection();
    const approver = await as('501', { method: 'POST', path: '/bulk/preview', body: selection(seeded.recordIds) });
    expect(approver).toMatchObject({
      status: 200,
      body: {
        objectType: 'contacts',
        selectedRecords: 4,
        recordsWithPending: 3,
        pending: 4,
        overLimit: false,
        decidable: 4,
        killSwitches: [],
        caller: { userId: '501' },
      },
    });
    const rep = await as('1001', { method: 'POST', path: '/bulk/preview', body: selection(seeded.recordIds) });
    expect(rep.body).toMatchObject({ pending: 4, decidable: 3 });
  });
});

describe('the bulk action: deciding everything pending on the selected records', () => {
  it('approves every proposal of the selection in one batch decision, writes them, and leaves other records alone', async () => {
    const seeded = await seedSelection();
    const res = await as('501', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'approve', selection: selection(seeded.recordIds) },
    });
    expect(res.status).toBe(200);
    expect(res.body.summary).toEqual({ decided: 4, refused: 0, applied: 4 });
    expect(res.body.results.map((row: { approvalId: string }) => row.approvalId).sort()).toEqual(
      [...seeded.approvals.mine, seeded.approvals.theirs].sort(),
    );
    expect(recordValues(harness.hubspot.state, 'contacts', seeded.mine[1]!)!.phone).toBe('+1 555 0103');
    expect(recordValues(harness.hubspot.state, 'contacts', seeded.theirs)!.phone).toBe('+1 555 0104');
    expect(await statusOf(seeded.approvals.unselected)).toBe('pending');

    const [batch, ...more] = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'approval.batch_decided')));
    expect(more).toEqual([]);
    expect(batch?.actor).toMatchObject({ type: 'person', crmUserId: '501', via: 'hubspot_app' });
    expect(batch?.data).toMatchObject({
      kind: 'approve',
      decided: expect.arrayContaining(seeded.approvals.mine),
      note: expect.stringContaining('4 selected records'),
    });
  });

  it('refuses to decide when a proposal was held on the selection after the person looked, deciding nothing, until they look again', async () => {
    const seeded = await seedSelection();
    const preview = async () =>
      (await as('501', { method: 'POST', path: '/bulk/preview', body: selection(seeded.recordIds) })).body;
    const looked = await preview();
    expect(looked).toMatchObject({ pending: 4, seen: expect.any(String) });
    const heldSince = await propose(seeded.mine[1]!, '+1 555 0199');

    const refused = await as('501', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'approve', selection: selection(seeded.recordIds), seen: looked.seen },
    });
    expect(refused).toMatchObject({
      status: 409,
      body: { error: { code: 'CONFLICT', details: { reason: 'pending_changed', pending: 5 } } },
    });
    expect(refused.body.error.message).toContain('changed since you looked');
    for (const approvalId of [...seeded.approvals.mine, heldSince]) expect(await statusOf(approvalId)).toBe('pending');

    const again = await preview();
    expect(again).toMatchObject({ pending: 5 });
    expect(again.seen).not.toBe(looked.seen);
    const decided = await as('501', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'reject', selection: selection(seeded.recordIds), reason: 'Not these', seen: again.seen },
    });
    expect(decided.status).toBe(200);
    expect(await statusOf(heldSince)).toBe('rejected');
  });

  it("decides a rep's own records and reports the others refused, which stay pending", async () => {
    const seeded = await seedSelection();
    const res = await as('1001', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'reject', selection: selection(seeded.recordIds), reason: 'Wrong numbers from that source' },
    });
    expect(res.body.summary).toEqual({ decided: 3, refused: 1, applied: 0 });
    expect(
      res.body.results.find((row: { approvalId: string }) => row.approvalId === seeded.approvals.theirs),
    ).toMatchObject({ status: 'pending', refusal: { code: 'not_record_owner' } });
    for (const id of seeded.approvals.mine) expect(await statusOf(id)).toBe('rejected');
    expect(await statusOf(seeded.approvals.theirs)).toBe('pending');
  });

  it('refuses an auditor outright, deciding nothing', async () => {
    const seeded = await seedSelection();
    const res = await as('601', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'approve', selection: selection(seeded.recordIds) },
    });
    expect(res).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN', details: { reason: 'role_not_allowed' } } },
    });
    expect(await statusOf(seeded.approvals.theirs)).toBe('pending');
  });

  it('answers 409 when nothing waits on the selection, including another portal’s records', async () => {
    const seeded = await seedSelection();
    const other = await seedAppWorkspace(harness, { '501': 'owner' });
    const elsewhere = await callAsHubSpot(harness, {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'approve', selection: selection(seeded.recordIds) },
      portalId: other.portalId,
      userId: '501',
      clientSecret: other.clientSecret,
    });
    expect(elsewhere).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(await statusOf(seeded.approvals.theirs)).toBe('pending');
  });

  it.each([
    ['a record named twice', { kind: 'approve', selection: selection(['101', '101']) }],
    ['no record', { kind: 'approve', selection: selection([]) }],
    [
      'more records than one selection takes',
      { kind: 'approve', selection: selection(Array.from({ length: 501 }, (_, index) => String(index + 1))) },
    ],
    ['a reject without a reason', { kind: 'reject', selection: selection(['101']) }],
    [
      'an object the app does not govern',
      { kind: 'approve', selection: { objectType: 'companies', recordIds: ['101'] } },
    ],
  ])('refuses %s with 400', async (_what, body) => {
    expect(await as('501', { method: 'POST', path: '/bulk/decisions', body })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
  });

  it.each([
    ['carries no signature', { unsigned: true }, 'signature_missing'],
    ['is signed with another secret', { clientSecret: 'not-the-app-secret' }, 'signature_invalid'],
    ['is older than five minutes', { timestamp: Date.now() - 6 * 60_000 }, 'timestamp_stale'],
  ])('refuses a bulk decision that %s with 401 and decides nothing', async (_what, change, reason) => {
    const seeded = await seedSelection();
    const res = await as('501', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'approve', selection: selection(seeded.recordIds) },
      ...change,
    });
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED', details: { reason } } } });
    expect(await statusOf(seeded.approvals.theirs)).toBe('pending');
  });
});

describe('the bulk action and held drafts on the selected records', () => {
  /** The selection of seedSelection, with a held note on one of the rep's records and one on someone else's. */
  async function seedWithDrafts() {
    const seeded = await seedSelection();
    return {
      ...seeded,
      drafts: {
        mine: await heldNote(seeded.mine[1]!),
        theirs: await heldNote(seeded.theirs),
        unselected: await heldNote(seeded.unselected),
      },
    };
  }

  it('counts the drafts among the pending proposals, and which of them the caller may decide', async () => {
    const seeded = await seedWithDrafts();
    const approver = await as('501', { method: 'POST', path: '/bulk/preview', body: selection(seeded.recordIds) });
    expect(approver.body).toMatchObject({ recordsWithPending: 3, pending: 6, drafts: 2, decidable: 6 });
    const rep = await as('1001', { method: 'POST', path: '/bulk/preview', body: selection(seeded.recordIds) });
    expect(rep.body).toMatchObject({ pending: 6, drafts: 2, decidable: 4 });
  });

  it("approves a rep's drafts with their field changes, creating the notes, and refuses the drafts on others' records", async () => {
    const seeded = await seedWithDrafts();
    const res = await as('1001', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'approve', selection: selection(seeded.recordIds) },
    });
    expect(res.body.summary).toEqual({ decided: 4, refused: 2, applied: 4 });
    expect(res.body.results.filter((row: { kind: string }) => row.kind === 'draft')).toEqual(
      expect.arrayContaining([
        { approvalId: seeded.drafts.mine, kind: 'draft', status: 'applied' },
        {
          approvalId: seeded.drafts.theirs,
          kind: 'draft',
          status: 'pending',
          refusal: { code: 'not_record_owner', message: expect.any(String) },
        },
      ]),
    );
    expect(
      timelineOf(harness.hubspot.state, 'contacts', seeded.mine[1]!).map(
        (engagement) => engagement.properties['hs_note_body'],
      ),
    ).toEqual([`Call notes for ${seeded.mine[1]}`]);
    expect(await draftStatusOf(seeded.drafts.theirs)).toBe('pending');
    expect(await draftStatusOf(seeded.drafts.unselected)).toBe('pending');
    const [batch] = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'approval.batch_decided')));
    expect(batch?.data).toMatchObject({
      drafts: expect.arrayContaining([seeded.drafts.mine, seeded.drafts.theirs]),
      refused: expect.arrayContaining([seeded.drafts.theirs, seeded.approvals.theirs]),
    });
  });

  it('finds a selection with only drafts waiting, rather than answering that nothing waits', async () => {
    const recordId = seedContact(harness, { hubspot_owner_id: '1001' });
    const draft = await heldNote(recordId);
    const res = await as('501', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'reject', selection: selection([recordId]), reason: 'Not needed' },
    });
    expect(res).toMatchObject({
      status: 200,
      body: {
        summary: { decided: 1, refused: 0, applied: 0 },
        results: [{ approvalId: draft, kind: 'draft', status: 'rejected' }],
      },
    });
  });
});

describe('the bulk action and held links and new records on the selected records', () => {
  /**
   * As the record card lists them: a held link from a selected contact, a held new contact likely
   * duplicating a selected one, and a held phone write on a third; a held link on an unselected contact.
   */
  async function seedWithEntries() {
    await holdEntriesPolicy(harness, ws.workspaceId);
    const prospector = await createAgent(
      harness.deps,
      ws.workspaceId,
      { name: 'prospector', role: 'prospecting' },
      ADMIN,
    );
    const link = await proposeLink(harness, prospector.token);
    const grace = seedContact(harness, { email: 'grace@navy.example', lastname: 'Hopper' });
    const duplicate = await proposeContact(harness, prospector.token, {
      email: 'grace@navy.example',
      lastname: 'Hopper',
    });
    expect(duplicate.result).toMatchObject({
      decision: 'pending_approval',
      reasons: expect.arrayContaining(['duplicate_of']),
    });
    const owned = seedContact(harness, { hubspot_owner_id: '1001' });
    const fieldChange = await propose(owned, '+1 555 0106');
    const unselected = await proposeLink(harness, prospector.token, 'link-2');
    return {
      recordIds: [link.contact, grace, owned],
      link,
      creation: duplicate.result.changeId as string,
      fieldChange,
      unselected: unselected.result.changeId as string,
    };
  }

  it('counts them among the pending proposals, which a rep may never decide', async () => {
    const seeded = await seedWithEntries();
    const approver = await as('501', { method: 'POST', path: '/bulk/preview', body: selection(seeded.recordIds) });
    expect(approver.body).toMatchObject({ recordsWithPending: 3, pending: 3, drafts: 0, heldEntries: 2, decidable: 3 });
    const rep = await as('1001', { method: 'POST', path: '/bulk/preview', body: selection(seeded.recordIds) });
    expect(rep.body).toMatchObject({ pending: 3, heldEntries: 2, decidable: 1 });
  });

  it('approves them with the field change in one batch decision, linking and creating, and leaves the unselected link alone', async () => {
    const seeded = await seedWithEntries();
    const res = await as('501', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'approve', selection: selection(seeded.recordIds) },
    });
    expect(res.body.results).toEqual(
      expect.arrayContaining([
        { approvalId: seeded.fieldChange, kind: 'field_change', status: 'applied' },
        { approvalId: seeded.link.result.changeId, kind: 'association', status: 'applied' },
        { approvalId: seeded.creation, kind: 'creation', status: 'applied' },
      ]),
    );
    expect(res.body.summary).toEqual({ decided: 3, refused: 0, applied: 3 });
    expect(associationsOf(harness.hubspot.state, 'contacts', seeded.link.contact)).toEqual([
      `0-2:${seeded.link.company}`,
    ]);
    expect(await statusOf(seeded.unselected)).toBe('pending');
  });
});

describe('the bulk action for someone whose role comes from a HubSpot team', () => {
  it('decides the selection as the approver their team makes them, though `people` does not list them', async () => {
    harness.hubspot.state.users.set('2001', { primaryTeamId: '7101', secondaryTeamIds: [] });
    harness.hubspot.state.teams.set('7101', 'Approvers');
    await setTeamRole(harness.deps, ws.workspaceId, { teamId: '7101', role: 'approver' }, ADMIN);
    const seeded = await seedSelection();
    const draft = await heldNote(seeded.theirs);
    const res = await as('2001', {
      method: 'POST',
      path: '/bulk/decisions',
      body: { kind: 'approve', selection: selection(seeded.recordIds) },
    });
    expect(res).toMatchObject({ status: 200, body: { summary: { decided: 5, refused: 0, applied: 5 } } });
    expect(await draftStatusOf(draft)).toBe('completed');
  });
});
