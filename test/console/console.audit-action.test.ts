import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditActionViewSchema } from '../../shared/console-api.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { testClock } from '../support/actions.ts';
import { givePeopleRoles, seedContact } from '../support/approvals.ts';
import { consoleCall, signInAs } from '../support/console.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness({ clock: testClock().now });
  ws = await seedWorkspace(harness);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '777': 'auditor' });
});
afterEach(() => harness.close());

const EVIDENCE = {
  source: 'clearbit',
  url: 'https://example.com/p/1',
  confidence: 0.9,
  reason: 'Company site lists a new number',
  runId: 'run-42',
  model: 'model-x',
  promptVersion: 'enrich-v7',
  toolCalls: [{ name: 'lookup_company', input: { domain: 'example.com' }, output: { phone: '+1 555 0101' } }],
};

async function get(cookie: string, path: string) {
  const response = await consoleCall(harness, cookie, 'GET', path);
  expect(response.status).toBe(200);
  return response.json() as Promise<any>;
}

/** The one event of this kind on the record, as the audit search finds it. */
async function seqOf(cookie: string, recordId: string, type: string): Promise<number> {
  const { events } = await get(cookie, `/console/api/audit?record=${recordId}&type=${type}`);
  expect(events).toHaveLength(1);
  return events[0].seq;
}

describe('one write reconstructed (issue 19)', () => {
  it('When a held write was edited, approved and written, then its CRM result event shows the agent’s evidence from the change set, the policy version, who approved with what edit, and what the CRM did', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      body: {
        batchId: 'enrich-7',
        objectType: 'contacts',
        changes: [{ recordId, properties: { phone: '+1 555 0101', jobtitle: 'CTO' }, evidence: EVIDENCE }],
      },
    });
    expect(submitted.status).toBe(201);
    const approver = await signInAs(harness, ws.workspaceId, '501');
    const inbox = await get(approver, `/console/api/inbox?record=${recordId}`);
    const approvalId = inbox.items[0].approval.id;
    const decided = await consoleCall(harness, approver, 'POST', `/console/api/approvals/${approvalId}/decisions`, {
      kind: 'approve',
      edits: { phone: '+1 555 0199' },
    });
    expect(decided.status).toBe(200);
    await harness.behindAnswersDone();
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)?.phone).toBe('+1 555 0199');

    const auditor = await signInAs(harness, ws.workspaceId, '777');
    const applied = await get(
      auditor,
      `/console/api/audit/events/${await seqOf(auditor, recordId, 'approval.applied')}`,
    );
    const action = auditActionViewSchema.parse(applied);
    expect(action.event.evidence).toBeNull();
    expect(action.evidence).toEqual({
      from: 'change_set',
      source: 'clearbit',
      url: 'https://example.com/p/1',
      reason: 'Company site lists a new number',
      confidence: 0.9,
      signal: null,
      runId: 'run-42',
      model: 'model-x',
      promptVersion: 'enrich-v7',
      promptHash: null,
      toolCalls: EVIDENCE.toolCalls,
    });
    expect(action.policyVersion).toBe(ws.policyVersion);
    expect(action.approvals).toEqual([
      expect.objectContaining({
        approvalId,
        status: 'applied',
        decidedBy: ['501'],
        items: [
          expect.objectContaining({
            property: 'phone',
            before: '+1 555 0100',
            proposed: '+1 555 0101',
            edited: true,
            editedValue: '+1 555 0199',
            approvedBy: ['501'],
          }),
        ],
        decisions: [
          expect.objectContaining({
            kind: 'approve',
            by: expect.objectContaining({ crmUserId: '501', role: 'approver', via: 'console' }),
            edits: { phone: { proposed: '+1 555 0101', edited: '+1 555 0199' } },
            reason: null,
          }),
        ],
      }),
    ]);
    expect(action.crmResult?.writes).toEqual([
      expect.objectContaining({ property: 'phone', proposed: '+1 555 0101', decision: 'applied' }),
      expect.objectContaining({ property: 'jobtitle', proposed: 'CTO', decision: 'applied' }),
    ]);
    expect(action.crmResult?.reports.map((report) => report.type)).toEqual(['change.applied', 'approval.applied']);

    // The decision event carries the evidence itself, and says so.
    const decision = auditActionViewSchema.parse(
      await get(auditor, `/console/api/audit/events/${await seqOf(auditor, recordId, 'change.decided')}`),
    );
    expect(decision.evidence).toMatchObject({ from: 'event', runId: 'run-42' });
    expect(decision.approvals).toHaveLength(1);
  });

  it('When the event is on no change set, then the reconstruction has no evidence, approvals or CRM result to join, and the event’s own policy version', async () => {
    const auditor = await signInAs(harness, ws.workspaceId, '777');
    const { events } = await get(auditor, '/console/api/audit?type=policy.published');
    const action = auditActionViewSchema.parse(await get(auditor, `/console/api/audit/events/${events[0].seq}`));
    expect(action).toMatchObject({ evidence: null, approvals: [], crmResult: null, policyVersion: ws.policyVersion });
  });
});
