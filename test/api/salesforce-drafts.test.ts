import { eq } from 'drizzle-orm';
import { hubspotOrSalesforce, sandboxNote, sandboxSalesforceConnection } from '../support/salesforce.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSalesforceSandbox, startSalesforceSandbox } from '../../server/src/sandbox/salesforce/start.ts';
import { UI_ORIGIN } from '../../server/src/sandbox/salesforce/http-server.ts';
import { createRecord, newId, updateRecord } from '../../server/src/sandbox/salesforce/state.ts';
import {
  bootstrapWorkspace,
  createAgent,
  createSalesforceWorkspace,
  publishPolicy,
  setPersonRole,
} from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { decideAction, EMAIL_EVIDENCE, submitAction, testClock } from '../support/actions.ts';
import { ADMIN, api, type Harness, startHarness } from '../support/harness.ts';

// Issue 20: drafts in a workspace whose only CRM is Salesforce. Tasks and notes an agent proposes
// are made in the org (a Task by WhoId or WhatId, a ContentNote linked by a ContentDocumentLink) when
// policy releases them or a person approves them; an email respects the contact's HasOptedOutOfEmail at submission and at release.
let harness: Harness;
let sandbox: RunningSalesforceSandbox;
let ws: { id: string; adminToken: string };
let enricher: string;
let outreach: string;
const REP = newId('005', 1); // the org's admin, owner of the records below
const clock = testClock();
let contact: string;
let optedOut: string;
let opportunity: string;

const POLICY = {
  name: 'Salesforce drafts',
  timezone: 'America/New_York',
  objects: { 'salesforce:Contact': { properties: { Title: { enrichment: 'auto' } } } },
  actions: {
    create_task: { enrichment: 'auto', outreach: 'approval' },
    create_note: { enrichment: 'auto', outreach: 'approval' },
    send_email: { outreach: 'auto', enrichment: 'approval' },
  },
};

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, seed: false });
  harness = await startHarness({ hubspotOverHttp: true, crmFor: hubspotOrSalesforce, clock: clock.now });
  ws = await createSalesforceWorkspace(
    harness.deps,
    { name: 'Org', connection: sandboxSalesforceConnection(sandbox.url) },
    ADMIN,
  );
  await publishPolicy(harness.deps, ws.id, POLICY, ADMIN);
  // Bootstrap makes the contact's do-not-contact checkbox the stop rules read beside the opt-out.
  await bootstrapWorkspace(harness.deps, ws.id, ADMIN);
  enricher = (await createAgent(harness.deps, ws.id, { name: 'enricher', role: 'enrichment' }, ADMIN)).token;
  outreach = (await createAgent(harness.deps, ws.id, { name: 'outreach', role: 'outreach' }, ADMIN)).token;
  await setPersonRole(harness.deps, ws.id, { crmUserId: REP, role: 'approver' }, ADMIN);
  const by = { userId: REP, origin: UI_ORIGIN };
  contact = createRecord(
    sandbox.state,
    'Contact',
    { LastName: 'Lovelace', Email: 'ada@example.com', HasOptedOutOfEmail: 'false', OwnerId: REP },
    by,
  );
  optedOut = createRecord(
    sandbox.state,
    'Contact',
    { LastName: 'Byron', Email: 'george@example.com', HasOptedOutOfEmail: 'true', OwnerId: REP },
    by,
  );
  opportunity = createRecord(
    sandbox.state,
    'Opportunity',
    { Name: 'Acme renewal', StageName: 'Prospecting', OwnerId: REP },
    by,
  );
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await sandbox?.close();
});

const records = (sObject: string) => [...(sandbox.state.objects.get(sObject)?.records ?? new Map())];
const record = (sObject: string, id: string) => sandbox.state.objects.get(sObject)?.records.get(id);
const action = async (id: string) =>
  (await api(harness, 'GET', `/v1/admin/actions/${id}`, { token: ws.adminToken })).body;

describe('drafts on Salesforce records', () => {
  it('makes the tasks and notes policy releases on a contact and an opportunity, with their fields', async () => {
    const onContact = await submitAction(harness, enricher, {
      kind: 'create_task',
      objectType: 'salesforce:Contact',
      recordId: contact,
      subject: 'Send the pricing sheet',
      body: 'Ada asked for it on the call.\nAttach the 2026 sheet.',
      dueAt: '2026-01-09T22:30:00-05:00',
      priority: 'HIGH',
      evidence: EMAIL_EVIDENCE,
    });
    const onOpportunity = await submitAction(harness, enricher, {
      kind: 'create_task',
      objectType: 'salesforce:Opportunity',
      recordId: opportunity,
      subject: 'Confirm the renewal date',
      priority: 'MEDIUM',
      evidence: EMAIL_EVIDENCE,
    });
    const noteOnContact = await submitAction(harness, enricher, {
      kind: 'create_note',
      objectType: 'salesforce:Contact',
      recordId: contact,
      body: 'Prefers email <b>not</b> calls.\nTimezone: London.',
      evidence: EMAIL_EVIDENCE,
    });
    const noteOnOpportunity = await submitAction(harness, enricher, {
      kind: 'create_note',
      objectType: 'salesforce:Opportunity',
      recordId: opportunity,
      body: `${'Budget confirmed for the renewal by the CFO in the quarterly review call. '.repeat(4)}`,
      evidence: EMAIL_EVIDENCE,
    });
    for (const res of [onContact, onOpportunity, noteOnContact, noteOnOpportunity]) {
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'completed', tier: 'auto', message: null });
    }

    expect(record('Task', onContact.body.crmObjectId)).toEqual({
      WhoId: contact,
      Subject: 'Send the pricing sheet',
      Status: 'Not Started',
      // Due on the 9th in New York is the 10th in UTC, the day Salesforce keeps.
      ActivityDate: '2026-01-10',
      Description: 'Ada asked for it on the call.\nAttach the 2026 sheet.',
      Priority: 'High',
    });
    expect(record('Task', onOpportunity.body.crmObjectId)).toEqual({
      WhatId: opportunity,
      Subject: 'Confirm the renewal date',
      Status: 'Not Started',
      // No due date: due when released.
      ActivityDate: clock.now().toISOString().slice(0, 10),
      Priority: 'Normal',
    });
    // An enhanced note, shown in the record's Notes list: its text reads back as written, markup and all.
    expect(await sandboxNote(sandbox.url, noteOnContact.body.crmObjectId)).toEqual({
      title: 'Prefers email <b>not</b> calls.',
      text: 'Prefers email <b>not</b> calls.\nTimezone: London.',
      links: [{ LinkedEntityId: contact, ShareType: 'V', Visibility: 'AllUsers' }],
    });
    const long = await sandboxNote(sandbox.url, noteOnOpportunity.body.crmObjectId);
    expect(long).toMatchObject({
      text: noteOnOpportunity.body.proposed.body,
      links: [{ LinkedEntityId: opportunity }],
    });
    expect(long?.title).toHaveLength(255);
    expect(long?.title?.endsWith('…')).toBe(true);
    // Each made in one call with our client id, so its change event reads as our own write: a task
    // by sObject Collections, a note and its link by one composite request.
    const creates = sandbox.state.calls.filter(
      (call) => call.method === 'POST' && /^\/composite(\/sobjects)?$/.test(call.path),
    );
    expect(creates.map((call) => call.path)).toEqual([
      '/composite/sobjects',
      '/composite/sobjects',
      '/composite',
      '/composite',
    ]);
    expect(creates.every((call) => call.callOptions === 'client=AgentGovernance')).toBe(true);
  });

  it('makes a held note and task only once a person approves them', async () => {
    const notesBefore = records('ContentNote').length;
    const tasksBefore = records('Task').length;
    const note = await submitAction(harness, outreach, {
      kind: 'create_note',
      objectType: 'salesforce:Opportunity',
      recordId: opportunity,
      body: 'Champion left the company.',
      evidence: EMAIL_EVIDENCE,
    });
    const task = await submitAction(harness, outreach, {
      kind: 'create_task',
      objectType: 'salesforce:Contact',
      recordId: contact,
      subject: 'Call Ada',
      priority: 'LOW',
      evidence: EMAIL_EVIDENCE,
    });
    for (const res of [note, task]) expect(res.body).toMatchObject({ status: 'pending', crmObjectId: null });
    expect(records('ContentNote')).toHaveLength(notesBefore);
    expect(records('Task')).toHaveLength(tasksBefore);

    const approved = await decideAction(harness, ws.adminToken, note.body.id, {
      kind: 'approve',
      actingUserId: REP,
      edits: { body: 'Champion left the company; find the new sponsor.' },
    });
    expect(approved.status).toBe(200);
    expect(
      await decideAction(harness, ws.adminToken, task.body.id, { kind: 'approve', actingUserId: REP }),
    ).toMatchObject({ status: 200 });
    const made = await action(note.body.id);
    expect(made).toMatchObject({ status: 'completed', crmObjectId: expect.any(String) });
    expect(await sandboxNote(sandbox.url, made.crmObjectId)).toEqual({
      title: 'Champion left the company; find the new sponsor.',
      text: 'Champion left the company; find the new sponsor.',
      links: [{ LinkedEntityId: opportunity, ShareType: 'V', Visibility: 'AllUsers' }],
    });
    const madeTask = await action(task.body.id);
    expect(record('Task', madeTask.crmObjectId)).toMatchObject({
      WhoId: contact,
      Subject: 'Call Ada',
      Priority: 'Low',
    });
  });

  it('refuses an email to a contact opted out in Salesforce, logs a sent one on the contact, and stops a held one once the contact opts out', async () => {
    const toOptedOut = await submitAction(harness, outreach, {
      kind: 'send_email',
      objectType: 'salesforce:Contact',
      recordId: optedOut,
      to: 'george@example.com',
      subject: 'Pricing',
      body: 'Hi George',
      evidence: EMAIL_EVIDENCE,
    });
    expect(toOptedOut.status).toBe(201);
    expect(toOptedOut.body).toMatchObject({ status: 'refused', reasons: ['contact_opted_out'] });

    const released = await submitAction(harness, outreach, {
      kind: 'send_email',
      objectType: 'salesforce:Contact',
      recordId: contact,
      to: 'ada@example.com',
      subject: 'Pricing',
      body: 'Hi Ada',
      evidence: EMAIL_EVIDENCE,
    });
    expect(released.body).toMatchObject({ status: 'released', tier: 'auto' });
    // The delivery the agent reports is logged as a note on the contact.
    const read = await api(harness, 'GET', `/v1/actions/${released.body.id}`, { token: outreach });
    const sent = await api(harness, 'POST', `/v1/actions/${released.body.id}/outcome`, {
      token: outreach,
      body: { outcome: 'sent', providerMessageId: 'msg-7', releaseToken: read.body.releaseToken },
    });
    expect(sent.body).toMatchObject({ status: 'sent', outcomes: [{ outcome: 'sent', crmNoteId: expect.any(String) }] });
    const logged = await sandboxNote(sandbox.url, sent.body.outcomes[0].crmNoteId);
    expect(logged).toMatchObject({
      title: 'Email sent by agent outreach (Agent Governance), released by the policy without review.',
      links: [{ LinkedEntityId: contact, ShareType: 'V', Visibility: 'AllUsers' }],
    });
    expect(logged?.text).toContain('Provider message id: msg-7');

    // An email longer than a classic Note's 32,000 characters is logged whole, its markup as text.
    const longBody = `${'Long line. '.repeat(4_000)}😀\n<script>alert('x')</script> & done`;
    const long = await submitAction(harness, outreach, {
      kind: 'send_email',
      objectType: 'salesforce:Contact',
      recordId: contact,
      to: 'ada@example.com',
      subject: 'The long one',
      body: longBody,
      evidence: EMAIL_EVIDENCE,
    });
    expect(long.body).toMatchObject({ status: 'released' });
    const longRead = await api(harness, 'GET', `/v1/actions/${long.body.id}`, { token: outreach });
    const longSent = await api(harness, 'POST', `/v1/actions/${long.body.id}/outcome`, {
      token: outreach,
      body: { outcome: 'sent', releaseToken: longRead.body.releaseToken },
    });
    const longLogged = await sandboxNote(sandbox.url, longSent.body.outcomes[0].crmNoteId);
    expect(longLogged?.text.endsWith(`\n\n${longBody}`)).toBe(true);

    const held = await submitAction(harness, enricher, {
      kind: 'send_email',
      objectType: 'salesforce:Contact',
      recordId: contact,
      to: 'ada@example.com',
      subject: 'Follow-up',
      body: 'Hi again',
      evidence: EMAIL_EVIDENCE,
    });
    expect(held.body).toMatchObject({ status: 'pending' });
    // Ada opts out in Salesforce while the email waits: approving it does not release it.
    updateRecord(sandbox.state, 'Contact', contact, { HasOptedOutOfEmail: 'true' }, { userId: REP, origin: UI_ORIGIN });
    const decided = await decideAction(harness, ws.adminToken, held.body.id, { kind: 'approve', actingUserId: REP });
    expect(decided.status).toBe(200);
    expect(await action(held.body.id)).toMatchObject({
      status: 'stopped',
      reasons: ['tier_approval', 'contact_opted_out'],
    });
  });
});

describe('draft text longer than Salesforce keeps', () => {
  const auditCount = async () =>
    (await harness.database.db.select().from(auditEvents).where(eq(auditEvents.workspaceId, ws.id))).length;
  const task = (subject: string, body?: string) => ({
    kind: 'create_task',
    objectType: 'salesforce:Contact',
    recordId: contact,
    subject,
    ...(body === undefined ? {} : { body }),
    evidence: EMAIL_EVIDENCE,
  });
  const note = (body: string) => ({
    kind: 'create_note',
    objectType: 'salesforce:Opportunity',
    recordId: opportunity,
    body,
    evidence: EMAIL_EVIDENCE,
  });

  it('refuses at submission a task subject over 255 or a description over 32,000, naming the field, storing and auditing nothing', async () => {
    const events = await auditCount();
    const tasks = records('Task').length;
    const subject = await submitAction(harness, enricher, task('s'.repeat(256)));
    expect(subject.status).toBe(400);
    expect(subject.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: "The task's subject holds at most 255 characters in Salesforce; this has 256 (an emoji counts as two).",
      details: { issues: [{ path: 'subject' }] },
    });
    const description = await submitAction(harness, enricher, task('Call Ada', 'd'.repeat(32_001)));
    expect(description.status).toBe(400);
    expect(description.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'body' }] },
    });
    expect(description.body.error.message).toContain('at most 32,000 characters in Salesforce; this has 32,001');
    expect(await auditCount()).toBe(events);
    expect(records('Task')).toHaveLength(tasks);
  });

  it('takes a note as long as a draft may be (65,536), beyond a classic Note’s 32,000, and makes it whole', async () => {
    // Every character escaped in the note's HTML: the longest content a draft's note can make.
    const body = `${'<&"\'>'.repeat(13_000)}\nÜber 😀${'n'.repeat(65_536 - 65_000 - 8)}`;
    expect(body).toHaveLength(65_536);
    const made = await submitAction(harness, enricher, note(body));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ status: 'completed' });
    expect((await sandboxNote(sandbox.url, made.body.crmObjectId))?.text).toBe(body);
  });

  it('counts as Salesforce does, an emoji as two: 255 units with emoji pass, 128 emoji (256 units) do not', async () => {
    const fits = await submitAction(harness, enricher, task(`${'s'.repeat(251)}😀🚀`, 'b'.repeat(32_000)));
    expect(fits.status).toBe(201);
    expect(fits.body).toMatchObject({ status: 'completed' });
    expect(record('Task', fits.body.crmObjectId)?.['Subject']).toBe(`${'s'.repeat(251)}😀🚀`);

    const emoji = await submitAction(harness, enricher, task('😀'.repeat(128)));
    expect(emoji.status).toBe(400);
    expect(emoji.body.error.message).toContain('this has 256');
  });

  it('refuses an approver’s edit longer than Salesforce keeps, leaving the draft pending', async () => {
    const held = await submitAction(harness, outreach, task('Call Ada'));
    expect(held.body).toMatchObject({ status: 'pending' });
    const events = await auditCount();
    const tooLong = await decideAction(harness, ws.adminToken, held.body.id, {
      kind: 'approve',
      actingUserId: REP,
      edits: { subject: 'c'.repeat(256) },
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ path: 'subject' }] } });
    expect(await auditCount()).toBe(events);
    expect(await action(held.body.id)).toMatchObject({ status: 'pending', approvedBy: [] });

    // A note has no Salesforce bound short of the draft's: an edit past a classic Note's 32,000 is made.
    const heldNote = await submitAction(harness, outreach, note('Champion left.'));
    const longNote = await decideAction(harness, ws.adminToken, heldNote.body.id, {
      kind: 'approve',
      actingUserId: REP,
      edits: { body: 'n'.repeat(32_001) },
    });
    expect(longNote.status).toBe(200);
    expect((await sandboxNote(sandbox.url, (await action(heldNote.body.id)).crmObjectId))?.text).toBe(
      'n'.repeat(32_001),
    );

    const fits = await decideAction(harness, ws.adminToken, held.body.id, {
      kind: 'approve',
      actingUserId: REP,
      edits: { subject: 'c'.repeat(255) },
    });
    expect(fits.status).toBe(200);
    expect(record('Task', (await action(held.body.id)).crmObjectId)?.['Subject']).toBe('c'.repeat(255));
  });
});
