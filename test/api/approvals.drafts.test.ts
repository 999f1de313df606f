import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncApprovalMirror, sweepExpiredDrafts } from '../../server/src/services/held/index.ts';
import { verifyAudit, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { associationsOf, customStore } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { decideAction, emailAction, EMAIL_EVIDENCE, submitAction, testClock } from '../support/actions.ts';
import { givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

/**
 * Issue 5: a held draft is one of its record's approvals. It is listed with the record's held
 * writes, and mirrored into HubSpot's Agent Approval object in the same job and batches,
 * associated with the record and kept current on every transition.
 */

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;
const outreach = () => ws.agents[0]!.token;
const enrichment = () => ws.agents[1]!.token;
const UPSERT = 'POST /crm/v3/objects/{customType}/batch/upsert';

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['outreach', 'enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '2001': 'approver' });
});
afterEach(() => harness.close());

/** The approval object in the fake HubSpot for one of our approvals or drafts, with what it is associated with. */
function approvalObject(id: string): Record<string, string | string[]> | undefined {
  const store = customStore(harness.hubspot.state, 'agent_approval');
  const record = [...(store?.records.values() ?? [])].find(
    (candidate) => candidate.properties['ag_approval_id'] === id,
  );
  return (
    record && { ...record.properties, associations: associationsOf(harness.hubspot.state, 'agent_approval', record.id) }
  );
}

const pendingCount = (objectType: 'contacts' | 'deals', recordId: string) =>
  recordValues(harness.hubspot.state, objectType, recordId)?.['ag_pending_approvals'];
const approvalsOf = async (query: string) =>
  (await api(harness, 'GET', `/v1/admin/approvals?${query}`, { token: ws.adminToken })).body.approvals as {
    id: string;
    kind: string;
    status: string;
  }[];

async function heldEmail(contactId: string): Promise<string> {
  const submitted = await submitAction(
    harness,
    outreach(),
    emailAction(contactId, { evidence: { ...EMAIL_EVIDENCE, url: 'https://example.com/call/7', confidence: 0.8 } }),
  );
  expect(submitted.body).toMatchObject({ status: 'pending', tier: 'approval' });
  return submitted.body.id as string;
}

describe('a held email draft in HubSpot’s approval object', () => {
  it('is upserted pending and associated with the contact, then shows who approved it and when, then that it was sent', async () => {
    const contactId = seedContact(harness);
    const id = await heldEmail(contactId);
    expect(await syncApprovalMirror(harness.deps)).toEqual({ written: 1, failed: [] });

    const pending = approvalObject(id);
    expect(pending).toMatchObject({
      ag_status: 'pending',
      ag_agent: 'outreach-agent',
      ag_record: `contacts/${contactId}`,
      ag_summary: 'outreach-agent proposes an email to ada@example.com: "Pricing sheet"',
      ag_confidence: '0.8',
      ag_evidence_url: 'https://example.com/call/7',
      ag_reason: EMAIL_EVIDENCE.reason,
      ag_expires_at: new Date(clock.now().getTime() + 72 * 3_600_000).toISOString(),
      ag_decided_by: '',
      ag_decided_at: '',
    });
    expect(pending!.ag_diff).toContain('subject: Pricing sheet');
    expect(pending!.associations).toEqual([`0-1:${contactId}`]);
    expect(pendingCount('contacts', contactId)).toBe('1');

    clock.advanceHours(1);
    const approved = await decideAction(harness, ws.adminToken, id, {
      kind: 'approve',
      actingUserId: '2001',
      edits: { subject: 'The pricing sheet you asked for' },
    });
    expect(approved.body.status).toBe('released');
    await syncApprovalMirror(harness.deps);
    const decided = approvalObject(id);
    expect(decided).toMatchObject({
      ag_status: 'approved',
      ag_decided_by: '2001',
      ag_decided_at: clock.now().toISOString(),
    });
    expect(decided!.ag_diff).toContain('Edited before approval:\nsubject: The pricing sheet you asked for');
    expect(pendingCount('contacts', contactId)).toBe('0');

    const { releaseToken } = (await api(harness, 'GET', `/v1/actions/${id}`, { token: outreach() })).body;
    const sent = await api(harness, 'POST', `/v1/actions/${id}/outcome`, {
      token: outreach(),
      body: { outcome: 'sent', providerMessageId: 'msg-42', releaseToken },
    });
    expect(sent.body.status).toBe('sent');
    expect(await syncApprovalMirror(harness.deps)).toEqual({ written: 1, failed: [] });
    const applied = approvalObject(id);
    expect(applied).toMatchObject({ ag_status: 'applied', ag_decided_by: '2001' });
    expect(applied!.ag_outcome).toContain('Draft sent.');
    expect(applied!.ag_outcome).toContain('Reported sent (provider message id msg-42)');
    // One CRM record all along, linked once.
    expect(applied!.associations).toEqual([`0-1:${contactId}`]);
    expect(customStore(harness.hubspot.state, 'agent_approval')!.records.size).toBe(1);
    expect(
      harness.hubspot.calls.count({ route: 'POST /crm/v4/associations/{from}/{to}/batch/associate/default' }),
    ).toBe(1);

    // A reply changes nothing on the email itself, but its approval object shows it.
    await api(harness, 'POST', `/v1/actions/${id}/outcome`, { token: outreach(), body: { outcome: 'replied' } });
    await syncApprovalMirror(harness.deps);
    expect(approvalObject(id)!.ag_outcome).toContain('Reported replied');
    expect(await syncApprovalMirror(harness.deps)).toEqual({ written: 0, failed: [] });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('shows a rejection with who rejected and why, and an expiry, and stops counting either as pending', async () => {
    const rejectedContact = seedContact(harness);
    const rejected = await heldEmail(rejectedContact);
    const expiringContact = seedContact(harness);
    const expiring = await heldEmail(expiringContact);
    await syncApprovalMirror(harness.deps);
    expect(pendingCount('contacts', rejectedContact)).toBe('1');

    const refused = await decideAction(harness, ws.adminToken, rejected, {
      kind: 'reject',
      actingUserId: '2001',
      reason: 'Too pushy',
    });
    expect(refused.body.status).toBe('rejected');
    clock.advanceHours(73);
    expect(await sweepExpiredDrafts(harness.deps, clock.now())).toBe(1);
    expect(await syncApprovalMirror(harness.deps)).toEqual({ written: 2, failed: [] });

    expect(approvalObject(rejected)).toMatchObject({
      ag_status: 'rejected',
      ag_decided_by: '2001',
      ag_outcome: 'Draft rejected.\nToo pushy',
    });
    expect(approvalObject(expiring)).toMatchObject({
      ag_status: 'expired',
      ag_decided_by: '',
      ag_decided_at: clock.now().toISOString(),
    });
    expect(pendingCount('contacts', rejectedContact)).toBe('0');
    expect(pendingCount('contacts', expiringContact)).toBe('0');
  });

  it('associates a held note on a deal with the deal, and shows it applied once the server created it', async () => {
    const dealId = seedRecord(harness.hubspot.state, 'deals', {
      properties: { dealname: 'Acme renewal', hubspot_owner_id: '1001' },
    });
    const submitted = await submitAction(harness, outreach(), {
      kind: 'create_note',
      objectType: 'deals',
      recordId: dealId,
      body: 'Asked for the pricing sheet.',
      evidence: EMAIL_EVIDENCE,
    });
    expect(submitted.body.status).toBe('pending');
    await syncApprovalMirror(harness.deps);
    expect(approvalObject(submitted.body.id)).toMatchObject({
      ag_status: 'pending',
      ag_summary: 'outreach-agent proposes a note: "Asked for the pricing sheet."',
      associations: [`0-3:${dealId}`],
    });
    expect(pendingCount('deals', dealId)).toBe('1');

    expect(
      (await decideAction(harness, ws.adminToken, submitted.body.id, { kind: 'approve', actingUserId: '2001' })).body
        .status,
    ).toBe('completed');
    await syncApprovalMirror(harness.deps);
    expect(approvalObject(submitted.body.id)).toMatchObject({ ag_status: 'applied', ag_outcome: 'Draft completed.' });
    expect(pendingCount('deals', dealId)).toBe('0');
  });

  it('mirrors held writes and held drafts in one upsert, and counts both on the record', async () => {
    const contactId = seedContact(harness);
    const changeApproval = await proposeHeld(harness, {
      token: enrichment(),
      adminToken: ws.adminToken,
      recordId: contactId,
      properties: { phone: '+1 555 0199' },
    });
    const draft = await heldEmail(contactId);
    expect(await syncApprovalMirror(harness.deps)).toEqual({ written: 2, failed: [] });
    expect(harness.hubspot.calls.count({ route: UPSERT })).toBe(1);
    expect(approvalObject(changeApproval)).toMatchObject({ ag_status: 'pending', associations: [`0-1:${contactId}`] });
    expect(approvalObject(draft)).toMatchObject({ ag_status: 'pending', associations: [`0-1:${contactId}`] });
    expect(recordValues(harness.hubspot.state, 'contacts', contactId)).toMatchObject({
      ag_proposed_phone: '+1 555 0199',
      ag_pending_approvals: '2',
    });
  });

  it('leaves an auto task and a refused email out of the mirror', async () => {
    const contactId = seedContact(harness, { hs_email_optout: 'true' });
    expect((await submitAction(harness, outreach(), emailAction(contactId))).body.status).toBe('refused');
    expect(
      (
        await submitAction(harness, outreach(), {
          kind: 'create_task',
          objectType: 'contacts',
          recordId: contactId,
          subject: 'Call Ada',
          evidence: EMAIL_EVIDENCE,
        })
      ).body.status,
    ).toBe('completed');
    expect(await syncApprovalMirror(harness.deps)).toEqual({ written: 0, failed: [] });
    expect(harness.hubspot.calls.count({ route: UPSERT })).toBe(0);
  });
});

describe('held drafts in the approvals API', () => {
  it('lists a record’s held drafts beside its held writes, by kind and status, and reads one', async () => {
    const contactId = seedContact(harness);
    const changeApproval = await proposeHeld(harness, {
      token: enrichment(),
      adminToken: ws.adminToken,
      recordId: contactId,
      properties: { phone: '+1 555 0199' },
    });
    clock.advanceHours(1);
    const draft = await heldEmail(contactId);
    await submitAction(harness, outreach(), {
      kind: 'create_task',
      objectType: 'contacts',
      recordId: contactId,
      subject: 'Call Ada',
      evidence: EMAIL_EVIDENCE,
    }); // auto: no approval

    const listed = await approvalsOf(`record=${contactId}`);
    expect(listed.map((approval) => [approval.kind, approval.id])).toEqual([
      ['draft', draft],
      ['field_change', changeApproval],
    ]);
    expect(listed[0]).toMatchObject({
      kind: 'draft',
      status: 'pending',
      tier: 'approval',
      objectType: 'contacts',
      recordId: contactId,
      agentId: ws.agents[0]!.id,
      recordOwnerId: '1001',
      draft: {
        id: draft,
        kind: 'send_email',
        status: 'pending',
        proposed: { to: 'ada@example.com', subject: 'Pricing sheet' },
      },
    });
    expect(listed[1]).toMatchObject({
      kind: 'field_change',
      changeSetId: expect.any(String),
      batchId: 'enrich-1',
      items: [expect.objectContaining({ property: 'phone' })],
    });
    expect((await approvalsOf(`agent=${ws.agents[0]!.id}`)).map((approval) => approval.id)).toEqual([draft]);
    expect((await approvalsOf('batch=enrich-1')).map((approval) => approval.id)).toEqual([changeApproval]);
    expect((await approvalsOf(`record=${contactId}&kind=draft`)).map((approval) => approval.id)).toEqual([draft]);
    expect((await approvalsOf(`record=${contactId}&limit=1`)).map((approval) => approval.id)).toEqual([draft]);

    await decideAction(harness, ws.adminToken, draft, { kind: 'approve', actingUserId: '2001' });
    expect((await approvalsOf('status=approved')).map((approval) => [approval.kind, approval.status])).toEqual([
      ['draft', 'approved'],
    ]);
    expect((await approvalsOf('status=pending')).map((approval) => approval.id)).toEqual([changeApproval]);

    const one = await api(harness, 'GET', `/v1/admin/approvals/${draft}`, { token: ws.adminToken });
    expect(one).toMatchObject({
      status: 200,
      body: { kind: 'draft', id: draft, status: 'approved', draft: { status: 'released', approvedBy: ['2001'] } },
    });
    const change = await api(harness, 'GET', `/v1/admin/approvals/${changeApproval}`, { token: ws.adminToken });
    expect(change.body).toMatchObject({ kind: 'field_change', id: changeApproval, status: 'pending' });
  });

  it('does not list or read a draft that was never held as an approval', async () => {
    const contactId = seedContact(harness);
    const task = await submitAction(harness, outreach(), {
      kind: 'create_task',
      objectType: 'contacts',
      recordId: contactId,
      subject: 'Call Ada',
      evidence: EMAIL_EVIDENCE,
    });
    expect(await approvalsOf(`record=${contactId}`)).toEqual([]);
    expect((await api(harness, 'GET', `/v1/admin/approvals/${task.body.id}`, { token: ws.adminToken })).status).toBe(
      404,
    );
  });
});
