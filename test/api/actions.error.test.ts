import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { timelineOf } from '../../server/src/sandbox/hubspot/engagement-routes.ts';
import { editAsPerson } from '../../server/src/sandbox/hubspot/state.ts';
import { createAgent, setKillSwitch } from '../../server/src/services/governance/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import {
  actionEvents,
  decideAction,
  emailAction,
  EMAIL_EVIDENCE,
  publishActionTiers,
  submitAction,
  testClock,
} from '../support/actions.ts';
import { givePeopleRoles, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { deliver, propertyChange, seedWebhookWorkspace } from '../support/webhooks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;
const outreach = () => ws.agents[0]!.token;
const enrichment = () => ws.agents[1]!.token;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['outreach', 'enrichment']);
  await givePeopleRoles(harness, ws.workspaceId, { '2001': 'approver' });
});
afterEach(() => harness.close());

/** Adds our do-not-contact checkbox to the fake account, as a HubSpot admin would. */
async function createDoNotContactProperty(): Promise<void> {
  const res = await fetch(`${harness.hubspot.baseUrl}/crm/v3/properties/contacts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${harness.hubspot.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'ag_do_not_contact',
      label: 'Do not contact',
      type: 'bool',
      fieldType: 'booleancheckbox',
      groupName: 'contactinformation',
      options: [
        { label: 'Yes', value: 'true' },
        { label: 'No', value: 'false' },
      ],
    }),
  });
  expect(res.status).toBe(201);
}

async function releasedEmail(contactId: string): Promise<{ id: string; releaseToken: string }> {
  const { body } = await submitAction(harness, outreach(), emailAction(contactId));
  expect(body.status).toBe('released');
  const read = await api(harness, 'GET', `/v1/actions/${body.id}`, { token: outreach() });
  return { id: body.id, releaseToken: read.body.releaseToken };
}

describe('stop rules, before any policy', () => {
  beforeEach(() => publishActionTiers(harness, ws.workspaceId, { send_email: { outreach: 'auto' } }));

  it.each([
    ['opted out of all email', { hs_email_optout: 'true' }, 'contact_opted_out'],
    ['marked do-not-contact', { ag_do_not_contact: 'true' }, 'contact_do_not_contact'],
  ])(
    'refuses to email a contact %s even when the policy would send it on its own',
    async (_what, properties, reason) => {
      await createDoNotContactProperty();
      const contactId = seedContact(harness, properties);
      const res = await submitAction(harness, outreach(), emailAction(contactId));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'refused', tier: null, reasons: [reason], contentHash: null });
      expect(res.body.releaseToken).toBeUndefined();
      expect((await actionEvents(harness, contactId)).map((event) => [event.type, event.reasons])).toEqual([
        ['action.submitted', [reason]],
        ['action.refused', [reason]],
      ]);
    },
  );

  it('refuses an email to an address that is not the contact’s own', async () => {
    const contactId = seedContact(harness);
    expect(
      (await submitAction(harness, outreach(), emailAction(contactId, { to: 'someone@else.com' }))).body.reasons,
    ).toEqual(['recipient_not_on_record']);
    expect(
      (await submitAction(harness, outreach(), emailAction(contactId, { to: 'Ada@Example.com' }))).body.status,
    ).toBe('released');
  });

  it('stops every further email to a contact once a reply is reported, including ones already released', async () => {
    const contactId = seedContact(harness);
    const first = await releasedEmail(contactId);
    const waiting = await releasedEmail(contactId);
    await api(harness, 'POST', `/v1/actions/${first.id}/outcome`, {
      token: outreach(),
      body: { outcome: 'sent', releaseToken: first.releaseToken },
    });
    const replied = await api(harness, 'POST', `/v1/actions/${first.id}/outcome`, {
      token: outreach(),
      body: { outcome: 'replied' },
    });
    expect(replied.body).toMatchObject({ status: 'sent', outcomes: [{ outcome: 'sent' }, { outcome: 'replied' }] });

    const stopped = await api(harness, 'GET', `/v1/actions/${waiting.id}`, { token: outreach() });
    expect(stopped.body).toMatchObject({ status: 'stopped', reasons: ['tier_auto', 'contact_replied'] });
    expect(stopped.body.releaseToken).toBeUndefined();
    const late = await api(harness, 'POST', `/v1/actions/${waiting.id}/outcome`, {
      token: outreach(),
      body: { outcome: 'sent', releaseToken: waiting.releaseToken },
    });
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect((await submitAction(harness, outreach(), emailAction(contactId))).body).toMatchObject({
      status: 'refused',
      reasons: ['contact_replied'],
    });
  });

  it('refuses further email after an unsubscribe is reported', async () => {
    const contactId = seedContact(harness);
    const email = await releasedEmail(contactId);
    await api(harness, 'POST', `/v1/actions/${email.id}/outcome`, {
      token: outreach(),
      body: { outcome: 'sent', releaseToken: email.releaseToken },
    });
    await api(harness, 'POST', `/v1/actions/${email.id}/outcome`, {
      token: outreach(),
      body: { outcome: 'unsubscribed' },
    });
    expect((await submitAction(harness, outreach(), emailAction(contactId))).body.reasons).toEqual([
      'contact_unsubscribed',
    ]);
  });

  it('stops a released email once a webhook notes the contact opted out, before the agent reads it again', async () => {
    const hooked = await seedWebhookWorkspace(harness);
    await publishActionTiers(harness, hooked.workspaceId, { send_email: { outreach: 'auto' } });
    const mailer = await createAgent(harness.deps, hooked.workspaceId, { name: 'mailer', role: 'outreach' }, ADMIN);
    const contactId = seedContact(harness);
    const { body } = await submitAction(harness, mailer.token, emailAction(contactId));
    expect(body.status).toBe('released');

    const optOut = propertyChange(hooked.portalId, {
      objectId: Number(contactId),
      propertyName: 'hs_email_optout',
      propertyValue: 'true',
      occurredAt: clock.now().getTime(),
    });
    expect(
      (await deliver(harness, [optOut], { clientSecret: hooked.clientSecret, timestamp: clock.now().getTime() }))
        .status,
    ).toBe(200);
    await processWebhookEvents(harness.deps);

    const read = await api(harness, 'GET', `/v1/actions/${body.id}`, { token: mailer.token });
    expect(read.body).toMatchObject({ status: 'stopped', reasons: ['tier_auto', 'contact_opted_out'] });
    expect(read.body.releaseToken).toBeUndefined();
    expect((await actionEvents(harness, contactId)).at(-1)).toMatchObject({
      type: 'action.stopped',
      reasons: ['contact_opted_out'],
    });
    expect((await submitAction(harness, mailer.token, emailAction(contactId))).body.reasons).toEqual([
      'contact_opted_out',
    ]);
  });

  it('stops a released email a webhook noted the contact opted out of when the agent replays its submission', async () => {
    const hooked = await seedWebhookWorkspace(harness);
    await publishActionTiers(harness, hooked.workspaceId, { send_email: { outreach: 'auto' } });
    const mailer = await createAgent(harness.deps, hooked.workspaceId, { name: 'mailer', role: 'outreach' }, ADMIN);
    const contactId = seedContact(harness);
    const key = { 'idempotency-key': 'mail-ada-1' };
    const first = await submitAction(harness, mailer.token, emailAction(contactId), key);
    expect(first.body).toMatchObject({ status: 'released', releaseToken: expect.stringMatching(/^rel_/) });

    const optOut = propertyChange(hooked.portalId, {
      objectId: Number(contactId),
      propertyName: 'hs_email_optout',
      propertyValue: 'true',
      occurredAt: clock.now().getTime(),
    });
    await deliver(harness, [optOut], { clientSecret: hooked.clientSecret, timestamp: clock.now().getTime() });
    await processWebhookEvents(harness.deps);

    // The replay is the agent's read as much as GET is: it hands out no permission to send.
    const replayed = await submitAction(harness, mailer.token, emailAction(contactId), key);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toMatchObject({ status: 'stopped', reasons: ['tier_auto', 'contact_opted_out'] });
    expect(replayed.body.releaseToken).toBeUndefined();
    expect(replayed.body.released).toBeUndefined();
  });

  it('stops a held draft at release when the contact opted out while it waited', async () => {
    await publishActionTiers(harness, ws.workspaceId, { send_email: { outreach: 'approval' } });
    const contactId = seedContact(harness);
    const { body } = await submitAction(harness, outreach(), emailAction(contactId));
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: contactId,
      properties: { hs_email_optout: 'true' },
      userId: 9001,
    });
    const decided = await decideAction(harness, ws.adminToken, body.id, { kind: 'approve', actingUserId: '2001' });
    expect(decided.body).toMatchObject({
      status: 'stopped',
      reasons: ['tier_approval', 'contact_opted_out'],
      contentHash: null,
    });
  });
});

describe('the policy decides per role and action', () => {
  it.each([
    ['an email', (id: string) => emailAction(id)],
    [
      'a task',
      (id: string) => ({
        kind: 'create_task',
        objectType: 'contacts',
        recordId: id,
        subject: 'Call',
        evidence: EMAIL_EVIDENCE,
      }),
    ],
    [
      'a note',
      (id: string) => ({
        kind: 'create_note',
        objectType: 'contacts',
        recordId: id,
        body: 'Met at the fair',
        evidence: { source: 'crm', reason: 'log' },
      }),
    ],
  ])('denies by default %s from a role the policy does not name for it', async (_what, action) => {
    await publishActionTiers(harness, ws.workspaceId, { create_note: { outreach: 'auto' } });
    const contactId = seedContact(harness);
    expect((await submitAction(harness, enrichment(), action(contactId))).body).toMatchObject({
      status: 'refused',
      tier: 'deny',
      reasons: ['field_not_allowed'],
    });
    expect(timelineOf(harness.hubspot.state, 'contacts', contactId)).toEqual([]);
  });

  it('refuses an email outside the policy’s sending window', async () => {
    const contactId = seedContact(harness);
    clock.advanceHours(3 * 24); // Saturday
    expect((await submitAction(harness, outreach(), emailAction(contactId))).body).toMatchObject({
      status: 'refused',
      tier: 'deny',
      reasons: ['tier_approval', 'outside_time_window'],
    });
  });

  it('counts emails held for people against the daily cap per recipient domain', async () => {
    await publishActionTiers(harness, ws.workspaceId, {}, { caps: { sendsPerRecipientDomainPerDay: 1 } });
    const contactId = seedContact(harness);
    expect((await submitAction(harness, outreach(), emailAction(contactId))).body.status).toBe('pending');
    expect((await submitAction(harness, outreach(), emailAction(contactId))).body).toMatchObject({
      status: 'refused',
      reasons: ['tier_approval', 'cap_domain_daily_sends_reached'],
    });
  });

  it('refuses an action on a record the CRM does not have', async () => {
    expect((await submitAction(harness, outreach(), emailAction('999999'))).body).toMatchObject({
      status: 'refused',
      tier: null,
      reasons: ['record_not_found'],
    });
  });
});

describe('kill switches', () => {
  it('refuses new emails while the send_email switch is engaged, but not tasks', async () => {
    const contactId = seedContact(harness);
    await setKillSwitch(
      harness.deps,
      ws.workspaceId,
      { scope: 'action', target: 'send_email', engaged: true, reason: 'Bounce storm' },
      ADMIN,
    );
    const res = await submitAction(harness, outreach(), emailAction(contactId));
    expect(res).toMatchObject({
      status: 423,
      body: { error: { code: 'KILL_SWITCH_ENGAGED', details: { scope: 'action', target: 'send_email' } } },
    });
    expect(await actionEvents(harness, contactId)).toEqual([]);
    expect(
      (
        await submitAction(harness, outreach(), {
          kind: 'create_task',
          objectType: 'contacts',
          recordId: contactId,
          subject: 'Call',
          evidence: EMAIL_EVIDENCE,
        })
      ).body.status,
    ).toBe('completed');
  });

  it('withholds a released email from the agent while a switch is engaged', async () => {
    await publishActionTiers(harness, ws.workspaceId, { send_email: { outreach: 'auto' } });
    const email = await releasedEmail(seedContact(harness));
    await setKillSwitch(harness.deps, ws.workspaceId, { scope: 'workspace', engaged: true, reason: 'Incident' }, ADMIN);
    expect((await api(harness, 'GET', `/v1/actions/${email.id}`, { token: outreach() })).status).toBe(423);
  });
});

describe('bad input and reports out of turn', () => {
  it('refuses a body that does not match the contract, naming the path', async () => {
    const res = await submitAction(harness, outreach(), emailAction('1', { to: 'not-an-email' }));
    expect(res).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED', details: { issues: [expect.objectContaining({ path: 'to' })] } } },
    });
    expect((await submitAction(harness, outreach(), { ...emailAction('1'), objectType: 'deals' })).status).toBe(400);
  });

  it('refuses a draft on an object of a CRM the workspace is not connected to, before asking the CRM', async () => {
    const calls = harness.hubspot.calls.count();
    const res = await submitAction(harness, outreach(), {
      kind: 'create_task',
      objectType: 'salesforce:Contact',
      recordId: '003000000000001AAA',
      subject: 'Call back',
      evidence: EMAIL_EVIDENCE,
    });
    expect(res).toMatchObject({
      status: 400,
      body: {
        error: { code: 'VALIDATION_FAILED', details: { issues: [expect.objectContaining({ path: 'objectType' })] } },
      },
    });
    expect(harness.hubspot.calls.count()).toBe(calls);
  });

  it('refuses an email subject with a line break, which would carry a header of its own to the sender', async () => {
    await publishActionTiers(harness, ws.workspaceId, { send_email: { outreach: 'approval' } });
    const contactId = seedContact(harness);
    for (const subject of ['Pricing\r\nBcc: someone@elsewhere.com', 'Pricing\nBcc: someone@elsewhere.com'])
      expect(await submitAction(harness, outreach(), emailAction(contactId, { subject }))).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED', details: { issues: [{ path: 'subject' }] } } },
      });
    expect(await actionEvents(harness, contactId)).toEqual([]);
    // Nor may a person's edit add one.
    const held = await submitAction(harness, outreach(), emailAction(contactId));
    expect(held.body.status).toBe('pending');
    const edit = await decideAction(harness, ws.adminToken, held.body.id, {
      kind: 'approve',
      actingUserId: '2001',
      edits: { subject: 'Pricing\r\nBcc: someone@elsewhere.com' },
    });
    expect(edit).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED', details: { issues: [{ path: 'edits.subject' }] } } },
    });
  });

  it('replays a retried submission with the same Idempotency-Key, and refuses the key for another action', async () => {
    const contactId = seedContact(harness);
    const key = { 'idempotency-key': 'email-1' };
    const first = await submitAction(harness, outreach(), emailAction(contactId), key);
    const again = await submitAction(harness, outreach(), emailAction(contactId), key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(
      (await submitAction(harness, outreach(), emailAction(contactId, { subject: 'Other' }), key)).body.error.code,
    ).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(
      (await api(harness, 'GET', `/v1/admin/actions?record=${contactId}`, { token: ws.adminToken })).body.actions,
    ).toHaveLength(1);
  });

  it('needs the release token to report a delivery, and refuses a wrong one or one for a held draft', async () => {
    const contactId = seedContact(harness);
    const { body } = await submitAction(harness, outreach(), emailAction(contactId));
    const noToken = await api(harness, 'POST', `/v1/actions/${body.id}/outcome`, {
      token: outreach(),
      body: { outcome: 'sent' },
    });
    expect(noToken).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const held = await api(harness, 'POST', `/v1/actions/${body.id}/outcome`, {
      token: outreach(),
      body: { outcome: 'sent', releaseToken: 'rel_x' },
    });
    expect(held).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT', details: { status: 'pending' } } } });
    await decideAction(harness, ws.adminToken, body.id, { kind: 'approve', actingUserId: '2001' });
    const wrong = await api(harness, 'POST', `/v1/actions/${body.id}/outcome`, {
      token: outreach(),
      body: { outcome: 'sent', releaseToken: 'rel_x' },
    });
    expect(wrong).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(timelineOf(harness.hubspot.state, 'contacts', contactId)).toEqual([]);
  });

  it('refuses outcome reports for tasks and notes, which the server carries out itself', async () => {
    const contactId = seedContact(harness);
    const { body } = await submitAction(harness, outreach(), {
      kind: 'create_task',
      objectType: 'contacts',
      recordId: contactId,
      subject: 'Call',
      evidence: EMAIL_EVIDENCE,
    });
    expect(
      (
        await api(harness, 'POST', `/v1/actions/${body.id}/outcome`, {
          token: outreach(),
          body: { outcome: 'replied' },
        })
      ).status,
    ).toBe(409);
  });

  it('refuses an edit of a field the draft does not have, and a second decision', async () => {
    const contactId = seedContact(harness);
    const { body } = await submitAction(harness, outreach(), {
      kind: 'create_note',
      objectType: 'contacts',
      recordId: contactId,
      body: 'Met at the fair',
      evidence: EMAIL_EVIDENCE,
    });
    const subjectEdit = await decideAction(harness, ws.adminToken, body.id, {
      kind: 'approve',
      actingUserId: '2001',
      edits: { subject: 'x' },
    });
    expect(subjectEdit).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(
      (
        await decideAction(harness, ws.adminToken, body.id, {
          kind: 'reject',
          actingUserId: '2001',
          reason: 'Not needed',
        })
      ).status,
    ).toBe(200);
    const again = await decideAction(harness, ws.adminToken, body.id, { kind: 'approve', actingUserId: '2001' });
    expect(again).toMatchObject({
      status: 409,
      body: { error: { code: 'APPROVAL_NOT_DECIDABLE', details: { refusal: 'approval_not_pending' } } },
    });
  });

  it('holds an approver’s edit to the bounds of its kind of draft, not an email’s, and leaves the draft pending', async () => {
    await publishActionTiers(harness, ws.workspaceId, { create_task: { outreach: 'approval' } });
    const contactId = seedContact(harness);
    const task = await submitAction(harness, outreach(), {
      kind: 'create_task',
      objectType: 'contacts',
      recordId: contactId,
      subject: 'Call back',
      evidence: EMAIL_EVIDENCE,
    });
    // An email's subject may have 998 characters and its body 100,000; a task's, as the agent submits it, 500 and 65,536.
    const approveWith = (edits: Record<string, string>) =>
      decideAction(harness, ws.adminToken, task.body.id, { kind: 'approve', actingUserId: '2001', edits });
    for (const [field, length] of [
      ['subject', 501],
      ['body', 65_537],
    ] as const)
      expect(await approveWith({ [field]: 'x'.repeat(length) })).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED', details: { issues: [{ path: `edits.${field}` }] } } },
      });
    const listed = await api(harness, 'GET', `/v1/admin/actions?record=${contactId}`, { token: ws.adminToken });
    expect(listed.body.actions.map((action: { status: string }) => action.status)).toEqual(['pending']);
    expect((await approveWith({ subject: 'x'.repeat(500) })).status).toBe(200);
  });

  it('leaves a task released with the reason when the CRM refuses it', async () => {
    const contactId = seedContact(harness);
    harness.hubspot.faults.failNext(1, { status: 500 }, 'POST /crm/v3/objects/tasks');
    const res = await submitAction(harness, outreach(), {
      kind: 'create_task',
      objectType: 'contacts',
      recordId: contactId,
      subject: 'Call',
      evidence: EMAIL_EVIDENCE,
    });
    expect(res.body).toMatchObject({
      status: 'released',
      crmObjectId: null,
      message: expect.stringContaining('Not created in the CRM'),
    });
    expect(timelineOf(harness.hubspot.state, 'contacts', contactId)).toEqual([]);
    expect((await actionEvents(harness, contactId)).at(-1)).toMatchObject({ type: 'action.execute_failed' });
  });
});
