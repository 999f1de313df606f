import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { createAgent } from '../../server/src/services/governance/index.ts';
import { emailAction, submitAction, testClock } from '../support/actions.ts';
import { givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { consoleCall, signInAs } from '../support/console.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let clock: ReturnType<typeof testClock>;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '1001': 'rep', '1002': 'rep' });
});
afterEach(() => harness.close());

const inbox = async (cookie: string, query = '') =>
  (await (await consoleCall(harness, cookie, 'GET', `/console/api/inbox${query}`)).json()) as any;

describe('the inbox', () => {
  it('When field changes and drafts wait, then each shows as the card shows it, filtered by agent (picked by name), record, property and age', async () => {
    const first = seedContact(harness, { phone: '+1 555 0100' });
    const second = seedContact(harness, { phone: '+1 555 0200', hubspot_owner_id: '1002' });
    const token = ws.agents[0]!.token;
    await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId: first,
      properties: { phone: '+1 555 0101' },
    });
    clock.advanceHours(2);
    await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId: second,
      properties: { phone: '+1 555 0201' },
    });
    const outreach = await createAgent(harness.deps, ws.workspaceId, { name: 'outreacher', role: 'outreach' }, ADMIN);
    const draft = await submitAction(harness, outreach.token, emailAction(first, { body: '<b>Hi</b> Ada' }));
    expect(draft.body).toMatchObject({ status: 'pending' });

    const approver = await signInAs(harness, ws.workspaceId, '501');
    const all = await inbox(approver);
    expect(all.items.map((card: any) => card.approval.recordId)).toEqual([second, first]);
    expect(all.items[0]).toMatchObject({
      agent: { name: 'enrichment-agent' },
      evidence: { source: 'clearbit', confidence: 0.92 },
      decidable: { ok: true },
    });
    expect(all.drafts).toEqual([
      expect.objectContaining({ id: draft.body.id, kind: 'send_email', recordId: first, decidable: { ok: true } }),
    ]);
    expect(all.drafts[0].content.body).toBe('<b>Hi</b> Ada');
    // The agent filter picks by name: the inbox names the workspace's agents with the id it filters by.
    expect(all.agents.map((agent: any) => agent.name)).toEqual(['enrichment-agent', 'outreacher']);
    const picked = all.agents.find((agent: any) => agent.name === 'outreacher').id;
    const byAgent = await inbox(approver, `?agent=${picked}`);
    expect(byAgent.items).toEqual([]);
    expect(byAgent.drafts.map((held: any) => held.id)).toEqual([draft.body.id]);

    expect((await inbox(approver, `?record=${first}`)).items).toHaveLength(1);
    expect((await inbox(approver, '?property=jobtitle')).items).toEqual([]);
    expect((await inbox(approver, '?olderThanMinutes=60')).items.map((card: any) => card.approval.recordId)).toEqual([
      first,
    ]);
    expect((await inbox(approver, '?batch=enrich-1')).drafts).toEqual([]);
    const bad = await consoleCall(harness, approver, 'GET', '/console/api/inbox?olderThanMinutes=soon');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('VALIDATION_FAILED');

    const rep = await signInAs(harness, ws.workspaceId, '1001');
    const mine = await inbox(rep);
    expect(mine.items.find((card: any) => card.approval.recordId === second).decidable).toEqual({
      ok: false,
      code: 'not_record_owner',
    });
  });

  it('When a person approves an edited value and rejects a draft from the console, then both are decided and audited as via the console', async () => {
    const record = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId: record,
      properties: { phone: '+1 555 0101' },
    });
    const outreach = await createAgent(harness.deps, ws.workspaceId, { name: 'outreacher', role: 'outreach' }, ADMIN);
    const draft = await submitAction(harness, outreach.token, emailAction(record));
    const approver = await signInAs(harness, ws.workspaceId, '501');

    const approved = await consoleCall(harness, approver, 'POST', `/console/api/approvals/${approvalId}/decisions`, {
      kind: 'approve',
      edits: { phone: '+1 555 0199' },
    });
    expect(approved.status).toBe(200);
    // The console answers once the decision is stored; the write follows behind the answer.
    expect(((await approved.json()) as any).status).toBe('approved');
    await harness.behindAnswersDone();
    expect(recordValues(harness.hubspot.state, 'contacts', record)?.phone).toBe('+1 555 0199');
    expect((await api(harness, 'GET', `/v1/admin/approvals/${approvalId}`, { token: ws.adminToken })).body.status).toBe(
      'applied',
    );

    const rejected = await consoleCall(harness, approver, 'POST', `/console/api/drafts/${draft.body.id}/decisions`, {
      kind: 'reject',
      reason: 'Wrong tone',
    });
    expect(rejected.status).toBe(200);
    expect(
      (await api(harness, 'GET', `/v1/admin/actions/${draft.body.id}`, { token: ws.adminToken })).body.status,
    ).toBe('rejected');
    const missingReason = await consoleCall(
      harness,
      approver,
      'POST',
      `/console/api/drafts/${draft.body.id}/decisions`,
      {
        kind: 'reject',
      },
    );
    expect(missingReason.status).toBe(400);

    const audit = (await (
      await consoleCall(harness, approver, 'GET', `/console/api/audit?record=${record}`)
    ).json()) as any;
    const decided = audit.events.find((event: any) => event.type === 'approval.decided');
    expect(decided.actor).toMatchObject({ crmUserId: '501', via: 'console' });
    expect((await inbox(approver)).items).toEqual([]);
  });
});
