import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { timelineOf } from '../../server/src/sandbox/hubspot/engagement-routes.ts';
import { createAgent, setTeamRole } from '../../server/src/services/governance/index.ts';
import { actionEvents, emailAction, submitAction, testClock, WEDNESDAY_MORNING_NY } from '../support/actions.ts';
import { seedContact } from '../support/approvals.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { ADMIN, api, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let clock: ReturnType<typeof testClock>;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;
let outreachToken: string;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedAppWorkspace(harness, { '501': 'approver', '601': 'auditor', '1001': 'rep', '1002': 'rep' });
  outreachToken = (await createAgent(harness.deps, ws.workspaceId, { name: 'outreacher', role: 'outreach' }, ADMIN))
    .token;
});
afterEach(() => harness.close());

/** Signed as HubSpot signs, at the harness clock's time (the server refuses signatures five minutes off its clock). */
const as = (
  userId: string,
  call: Omit<Parameters<typeof callAsHubSpot>[1], 'userId' | 'portalId' | 'clientSecret'> &
    Partial<Parameters<typeof callAsHubSpot>[1]>,
) =>
  callAsHubSpot(harness, {
    timestamp: clock.now().getTime(),
    portalId: ws.portalId,
    clientSecret: ws.clientSecret,
    ...call,
    userId,
  });
const decideDraft = (
  userId: string,
  draftId: string,
  body: unknown,
  extra: Partial<Parameters<typeof callAsHubSpot>[1]> = {},
) => as(userId, { method: 'POST', path: `/drafts/${draftId}/decisions`, body, ...extra });
const statusOf = async (draftId: string) =>
  (await api(harness, 'GET', `/v1/admin/actions/${draftId}`, { token: ws.adminToken })).body.status;

async function heldEmail(contactId: string): Promise<string> {
  const submitted = await submitAction(harness, outreachToken, emailAction(contactId));
  expect(submitted.body).toMatchObject({ status: 'pending' });
  return submitted.body.id as string;
}

async function heldNote(contactId: string): Promise<string> {
  const submitted = await submitAction(harness, ws.agent.token, {
    kind: 'create_note',
    objectType: 'contacts',
    recordId: contactId,
    body: 'Met at the summit; wants pricing.',
    evidence: { source: 'crm-notes', reason: 'Call summary' },
  });
  expect(submitted.body).toMatchObject({ status: 'pending' });
  return submitted.body.id as string;
}

describe('held drafts on the record card', () => {
  it('shows what would go out and whether the caller may decide it', async () => {
    const contactId = seedContact(harness, { hubspot_owner_id: '1001' });
    const id = await heldEmail(contactId);
    const owner = await as('1001', { path: `/card?objectType=contacts&recordId=${contactId}` });
    expect(owner.body.drafts).toEqual([
      {
        id,
        kind: 'send_email',
        agent: { id: expect.any(String), name: 'outreacher' },
        tier: 'approval',
        edited: false,
        expiresAt: expect.any(String),
        decidable: { ok: true },
        content: { to: 'ada@example.com', subject: 'Pricing sheet', body: 'Hi Ada,\nhere is the sheet.' },
      },
    ]);
    const otherRep = await as('1002', { path: `/card?objectType=contacts&recordId=${contactId}` });
    expect(otherRep.body.drafts[0].decidable).toEqual({ ok: false, code: 'not_record_owner' });
    const auditor = await as('601', { path: `/card?objectType=contacts&recordId=${contactId}` });
    expect(auditor.body.drafts[0].decidable).toEqual({ ok: false, code: 'role_cannot_decide' });
  });
});

describe('deciding a draft from the card', () => {
  it('releases an email the record owner approves, audited as that HubSpot user', async () => {
    const contactId = seedContact(harness, { hubspot_owner_id: '1001' });
    const id = await heldEmail(contactId);
    const res = await decideDraft('1001', id, { kind: 'approve' });
    expect(res).toMatchObject({ status: 200, body: { id, status: 'released', approvedBy: ['1001'] } });
    expect(res.body.releaseToken).toBeUndefined();
    const approved = (await actionEvents(harness, contactId)).find((event) => event.type === 'action.approved');
    expect(approved?.actor).toMatchObject({ type: 'person', crmUserId: '1001', role: 'rep', via: 'hubspot_app' });
  });

  it('releases the edited subject and body, keeping the agent’s version beside them', async () => {
    const contactId = seedContact(harness);
    const id = await heldEmail(contactId);
    const res = await decideDraft('501', id, {
      kind: 'approve',
      edits: { subject: 'Your pricing sheet', body: 'Hi Ada, the sheet is attached.' },
    });
    expect(res.body).toMatchObject({
      status: 'released',
      proposed: { subject: 'Pricing sheet' },
      edited: { to: 'ada@example.com', subject: 'Your pricing sheet', body: 'Hi Ada, the sheet is attached.' },
    });
    const read = await api(harness, 'GET', `/v1/actions/${id}`, { token: outreachToken });
    expect(read.body.released).toEqual({
      to: 'ada@example.com',
      subject: 'Your pricing sheet',
      body: 'Hi Ada, the sheet is attached.',
    });
  });

  it('creates an approved note on the record', async () => {
    const contactId = seedContact(harness);
    const id = await heldNote(contactId);
    const res = await decideDraft('501', id, { kind: 'approve' });
    expect(res.body).toMatchObject({ status: 'completed', crmObjectId: expect.any(String) });
    expect(timelineOf(harness.hubspot.state, 'contacts', contactId)).toEqual([
      expect.objectContaining({ kind: 'notes', id: res.body.crmObjectId }),
    ]);
  });

  it('rejects with a reason and releases nothing', async () => {
    const contactId = seedContact(harness);
    const id = await heldEmail(contactId);
    const res = await decideDraft('501', id, { kind: 'reject', reason: 'Not the tone we use' });
    expect(res.body).toMatchObject({ status: 'rejected', message: 'Not the tone we use' });
    expect(
      (await api(harness, 'GET', `/v1/actions/${id}`, { token: outreachToken })).body.releaseToken,
    ).toBeUndefined();
  });

  it('refuses to edit the recipient, or to reject without a reason, and leaves the draft pending', async () => {
    const contactId = seedContact(harness);
    const id = await heldEmail(contactId);
    expect(await decideDraft('501', id, { kind: 'approve', edits: { to: 'someone@else.example' } })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
    expect(await decideDraft('501', id, { kind: 'reject' })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
    expect(await decideDraft('501', id, { kind: 'approve', actingUserId: '501' })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
    expect(await statusOf(id)).toBe('pending');
  });
});

describe('who may decide a draft through the app', () => {
  it.each([
    ['a rep on a record they do not own', '1002', 'not_record_owner'],
    ['an auditor', '601', 'role_cannot_decide'],
  ])('refuses %s with 403 and the refusal, audited, and the draft stays pending', async (_who, userId, refusal) => {
    const contactId = seedContact(harness, { hubspot_owner_id: '1001' });
    const id = await heldEmail(contactId);
    expect(await decideDraft(userId, id, { kind: 'approve' })).toMatchObject({
      status: 403,
      body: { error: { code: 'APPROVAL_DECISION_FORBIDDEN', details: { refusal } } },
    });
    expect(await statusOf(id)).toBe('pending');
    expect((await actionEvents(harness, contactId)).map((event) => event.type)).toContain('action.decision_refused');
  });

  it.each([
    ['carries no signature', { unsigned: true }, 'signature_missing'],
    ['is signed with another secret', { clientSecret: 'not-the-app-secret' }, 'signature_invalid'],
    ['is older than five minutes', { timestamp: WEDNESDAY_MORNING_NY.getTime() - 6 * 60_000 }, 'timestamp_stale'],
  ])('refuses a decision that %s with 401 and leaves the draft pending', async (_what, change, reason) => {
    const contactId = seedContact(harness);
    const id = await heldEmail(contactId);
    expect(await decideDraft('501', id, { kind: 'approve' }, change)).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED', details: { reason } } },
    });
    expect(await statusOf(id)).toBe('pending');
  });

  it("answers 404 for another portal's draft, and for an id that is not one", async () => {
    const other = await seedAppWorkspace(harness, { '501': 'owner' });
    const contactId = seedContact(harness);
    const id = await heldEmail(contactId);
    const elsewhere = await callAsHubSpot(harness, {
      method: 'POST',
      path: `/drafts/${id}/decisions`,
      body: { kind: 'approve' },
      portalId: other.portalId,
      userId: '501',
      clientSecret: other.clientSecret,
      timestamp: clock.now().getTime(),
    });
    expect(elsewhere).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await decideDraft('501', 'not-a-draft', { kind: 'approve' })).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    expect(await statusOf(id)).toBe('pending');
  });
});

describe('held drafts decided by someone whose role comes from a HubSpot team', () => {
  it('releases the draft for an approver through their team, whom `people` does not list', async () => {
    harness.hubspot.state.users.set('2001', { primaryTeamId: '7101', secondaryTeamIds: [] });
    harness.hubspot.state.teams.set('7101', 'Approvers');
    await setTeamRole(harness.deps, ws.workspaceId, { teamId: '7101', role: 'approver' }, ADMIN);
    const id = await heldEmail(seedContact(harness, { hubspot_owner_id: '1001' }));
    expect(await decideDraft('2001', id, { kind: 'approve' })).toMatchObject({
      status: 200,
      body: { status: 'released' },
    });
  });
});
