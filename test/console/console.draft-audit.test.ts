import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { draftAuditViewSchema } from '../../shared/console-api.ts';
import { emailAction, publishActionTiers, submitAction, testClock } from '../support/actions.ts';
import { givePeopleRoles, seedContact } from '../support/approvals.ts';
import { consoleCall, signInAs } from '../support/console.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
const outreach = () => ws.agents[0]!.token;

beforeEach(async () => {
  harness = await startHarness({ clock: testClock().now });
  ws = await seedWorkspace(harness, ['outreach']);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '777': 'auditor', '1001': 'rep' });
  // Emails are sent without a person unless a content rule holds them.
  await publishActionTiers(
    harness,
    ws.workspaceId,
    { send_email: { outreach: 'auto' } },
    { content: [{ name: 'No promises', kind: 'banned', phrases: ['guaranteed results'], raiseTo: 'approval' }] },
  );
});
afterEach(() => harness.close());

const EVIDENCE = {
  source: 'sequence-planner',
  reason: 'Ada asked for the pricing sheet on the call',
  runId: 'run-9',
  model: 'model-y',
  promptVersion: 'outreach-v3',
  toolCalls: [{ name: 'crm_read', input: { recordId: 'x' } }],
};

async function draftPage(cookie: string, id: string) {
  const response = await consoleCall(harness, cookie, 'GET', `/console/api/audit/drafts/${id}`);
  expect(response.status).toBe(200);
  return draftAuditViewSchema.parse(await response.json());
}

describe('one email reconstructed (issue 19)', () => {
  it('When a content rule held an email a person edited and approved, which was sent and replied to, then its page shows it as submitted and as approved, the rule’s match, the decision, the outcomes and the stop the reply set; another email to the contact shows that stop', async () => {
    const contactId = seedContact(harness);
    const body = 'Hi Ada,\n<b>Our</b> guaranteed results or your money back.';
    const submitted = await submitAction(harness, outreach(), emailAction(contactId, { body, evidence: EVIDENCE }));
    expect(submitted.body).toMatchObject({ status: 'pending', tier: 'approval' });
    const id = submitted.body.id as string;
    const approver = await signInAs(harness, ws.workspaceId, '501');
    const decided = await consoleCall(harness, approver, 'POST', `/console/api/drafts/${id}/decisions`, {
      kind: 'approve',
      edits: { body: 'Hi Ada,\nhere is the sheet.' },
    });
    expect(decided.status).toBe(200);
    const { releaseToken } = (await api(harness, 'GET', `/v1/actions/${id}`, { token: outreach() })).body;
    const sent = await api(harness, 'POST', `/v1/actions/${id}/outcome`, {
      token: outreach(),
      body: { outcome: 'sent', providerMessageId: 'msg-42', releaseToken },
    });
    expect(sent.body.status).toBe('sent');
    // A second email waits for a person when the reply comes in: the reply stops it.
    const second = await submitAction(
      harness,
      outreach(),
      emailAction(contactId, { body: 'guaranteed results, again', evidence: EVIDENCE }),
    );
    expect(second.body.status).toBe('pending');
    await api(harness, 'POST', `/v1/actions/${id}/outcome`, { token: outreach(), body: { outcome: 'replied' } });

    const auditor = await signInAs(harness, ws.workspaceId, '777');
    // The audit search names the draft each event is about, which its page is reached by.
    const search = await consoleCall(
      harness,
      auditor,
      'GET',
      `/console/api/audit?record=${contactId}&type=action.held`,
    );
    expect(((await search.json()) as any).events.map((event: any) => event.actionId)).toEqual([second.body.id, id]);
    const page = await draftPage(auditor, id);
    expect(page.draft).toMatchObject({
      id,
      kind: 'send_email',
      status: 'sent',
      tier: 'approval',
      proposed: { to: 'ada@example.com', subject: 'Pricing sheet', body },
      edited: { to: 'ada@example.com', subject: 'Pricing sheet', body: 'Hi Ada,\nhere is the sheet.' },
      approvedBy: ['501'],
      policyVersion: 2,
    });
    expect(page.draft.reasons).toContain('content_banned');
    expect(page.agent).toMatchObject({ name: 'outreach-agent', role: 'outreach' });
    expect(page.submittedBy).toMatchObject({ type: 'agent', name: 'outreach-agent' });
    expect(page.evidence).toMatchObject({
      from: 'draft',
      source: 'sequence-planner',
      runId: 'run-9',
      model: 'model-y',
      promptVersion: 'outreach-v3',
      toolCalls: [{ name: 'crm_read', input: { recordId: 'x' }, output: null }],
    });
    expect(page.contentFindings).toEqual([
      { rule: 'No promises', reason: 'content_banned', text: 'guaranteed results', field: 'body' },
    ]);
    expect(page.decisions).toEqual([
      expect.objectContaining({
        kind: 'approve',
        by: expect.objectContaining({ crmUserId: '501', role: 'approver', via: 'console' }),
        edits: { body: { proposed: body, edited: 'Hi Ada,\nhere is the sheet.' } },
      }),
    ]);
    expect(page.draft.outcomes.map((outcome) => outcome.outcome)).toEqual(['sent', 'replied']);
    expect(page.reports.filter((report) => report.type === 'action.outcome')).toHaveLength(2);
    expect(page.stops).toEqual([expect.objectContaining({ type: 'contact.suppressed', reason: 'contact_replied' })]);
    expect(page.events.map((event) => event.type)).toEqual(
      expect.arrayContaining(['action.submitted', 'action.held', 'action.approved', 'action.released']),
    );

    const stopped = await draftPage(auditor, second.body.id);
    expect(stopped.draft.status).toBe('stopped');
    expect(stopped.stops).toEqual([
      expect.objectContaining({
        type: 'action.stopped',
        reason: 'contact_replied',
        by: expect.objectContaining({ type: 'agent' }),
      }),
    ]);
    expect(stopped.decisions).toEqual([]);
  });

  it('When a rep asks, then the page is refused, and an unknown draft is not found', async () => {
    const contactId = seedContact(harness);
    const submitted = await submitAction(harness, outreach(), emailAction(contactId, { body: 'guaranteed results' }));
    const rep = await signInAs(harness, ws.workspaceId, '1001');
    const refused = await consoleCall(harness, rep, 'GET', `/console/api/audit/drafts/${submitted.body.id}`);
    expect(refused.status).toBe(403);
    const auditor = await signInAs(harness, ws.workspaceId, '777');
    const unknown = await consoleCall(
      harness,
      auditor,
      'GET',
      '/console/api/audit/drafts/00000000-0000-4000-8000-000000000000',
    );
    expect(unknown.status).toBe(404);
    expect((await consoleCall(harness, auditor, 'GET', '/console/api/audit/drafts/nope')).status).toBe(404);
  });
});
