import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editAsPerson, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { retryDueApplies } from '../../server/src/services/held/index.ts';
import { approvalEvents, decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { consoleCall, signInAs } from '../support/console.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
// Real time, moved on by hand where a failed write's retry must come due.
let aheadMs = 0;

beforeEach(async () => {
  aheadMs = 0;
  harness = await startHarness({ clock: () => new Date(Date.now() + aheadMs) });
  ws = await seedWorkspace(harness, ['enrichment', 'routing']);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '502': 'revops_admin' });
});
afterEach(async () => {
  // A write a failed test left held would keep the server from closing.
  harness.hubspot.faults.reset();
  await harness.close();
});

const inbox = async (cookie: string) =>
  (await (await consoleCall(harness, cookie, 'GET', '/console/api/inbox')).json()) as any;
const approveFromConsole = async (cookie: string, approvalId: string) => {
  const answer = await consoleCall(harness, cookie, 'POST', `/console/api/approvals/${approvalId}/decisions`, {
    kind: 'approve',
  });
  expect(answer.status).toBe(200);
  return (await answer.json()) as any;
};
const stored = async (approvalId: string) =>
  (await api(harness, 'GET', `/v1/admin/approvals/${approvalId}`, { token: ws.adminToken })).body;

describe('a decision from the console answers before the CRM write', () => {
  it('When a person approves, then the answer and the inbox show it decided while the CRM is still being written, and the write lands behind the answer', async () => {
    const record = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId: record,
      properties: { phone: '+1 555 0101' },
    });
    const approver = await signInAs(harness, ws.workspaceId, '501');
    // The fake CRM keeps the write waiting until released: the decision must answer without it.
    const write = harness.hubspot.faults.hold('POST /crm/v3/objects/{type}/batch/update');

    expect(await approveFromConsole(approver, approvalId)).toMatchObject({ id: approvalId, status: 'approved' });
    await write.arrived;
    expect(recordValues(harness.hubspot.state, 'contacts', record)?.phone).toBe('+1 555 0100');
    const meanwhile = await inbox(approver);
    expect(meanwhile.items).toEqual([]);
    expect(meanwhile.unwritten).toEqual([]);

    write.release();
    await harness.behindAnswersDone();
    expect(recordValues(harness.hubspot.state, 'contacts', record)?.phone).toBe('+1 555 0101');
    expect(await stored(approvalId)).toMatchObject({ status: 'applied' });
    expect(await approvalEvents(harness, record, 'approval.applied')).toHaveLength(1);
  });

  it('When the admin API decides, then it still answers with the write done', async () => {
    const record = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId: record,
      properties: { phone: '+1 555 0101' },
    });
    const answer = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(answer.body).toMatchObject({ status: 'applied' });
    expect(recordValues(harness.hubspot.state, 'contacts', record)?.phone).toBe('+1 555 0101');
  });

  it('When a person edited the record before the approval was written, then nothing is overwritten and the inbox shows the approval as not written', async () => {
    const record = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId: record,
      properties: { phone: '+1 555 0101' },
    });
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: record,
      properties: { phone: '+1 555 0777' },
      userId: 9001,
    });
    const approver = await signInAs(harness, ws.workspaceId, '501');
    expect(await approveFromConsole(approver, approvalId)).toMatchObject({ status: 'approved' });
    await harness.behindAnswersDone();

    expect(recordValues(harness.hubspot.state, 'contacts', record)?.phone).toBe('+1 555 0777');
    const after = await inbox(approver);
    expect(after.items).toEqual([]);
    expect(after.unwritten).toEqual([
      expect.objectContaining({
        approvalId,
        recordId: record,
        values: { phone: '+1 555 0101' },
        decidedBy: ['501'],
        outcome: 'stale',
        message: expect.stringContaining('phone'),
      }),
    ]);
  });

  it('When the CRM refuses the write behind the answer, then the approval waits for a retry and the inbox says the write failed', async () => {
    const record = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId: record,
      properties: { phone: '+1 555 0101' },
    });
    harness.hubspot.faults.failNext(50, { status: 503 }, 'POST /crm/v3/objects/{type}/batch/update');
    const approver = await signInAs(harness, ws.workspaceId, '501');
    expect(await approveFromConsole(approver, approvalId)).toMatchObject({ status: 'approved' });
    await harness.behindAnswersDone();

    expect(await stored(approvalId)).toMatchObject({ status: 'approved' });
    expect((await inbox(approver)).unwritten).toEqual([
      expect.objectContaining({ approvalId, outcome: 'failed', message: expect.any(String) }),
    ]);
    expect(await approvalEvents(harness, record, 'approval.apply_failed')).toHaveLength(1);
  });
});

describe('a batch decision from the console answers before the CRM writes', () => {
  const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
  const holdTwo = async () => {
    const records = [seedContact(harness, { phone: '+1 555 0100' }), seedContact(harness, { phone: '+1 555 0200' })];
    const ids = [];
    for (const [i, recordId] of records.entries())
      ids.push(
        await proposeHeld(harness, {
          token: ws.agents[0]!.token,
          adminToken: ws.adminToken,
          recordId,
          properties: { phone: `+1 555 010${i + 1}` },
        }),
      );
    return { records, ids };
  };
  const phones = (records: string[]) =>
    records.map((record) => recordValues(harness.hubspot.state, 'contacts', record)?.phone);
  const approveBatch = async (cookie: string, approvalIds: string[]) => {
    const answer = await consoleCall(harness, cookie, 'POST', '/console/api/approvals/batch-decisions', {
      kind: 'approve',
      approvalIds,
    });
    expect(answer.status).toBe(200);
    return (await answer.json()) as any;
  };

  it('When a person confirms the manifest while the CRM holds the write, then the answer and the inbox show the approvals decided, and the values are written once the CRM lets the write through', async () => {
    const { records, ids } = await holdTwo();
    const approver = await signInAs(harness, ws.workspaceId, '501');
    // The fake CRM keeps the batch update waiting until released: the decision must answer without it.
    const write = harness.hubspot.faults.hold(UPDATE);

    const answer = await approveBatch(approver, ids);
    expect(answer.summary).toEqual({ decided: 2, refused: 0, applied: 0 });
    expect(answer.results.map((result: any) => result.status)).toEqual(['approved', 'approved']);
    await write.arrived;
    expect(phones(records)).toEqual(['+1 555 0100', '+1 555 0200']);
    const meanwhile = await inbox(approver);
    expect(meanwhile.items).toEqual([]);
    expect(meanwhile.unwritten).toEqual([]);

    write.release();
    await harness.behindAnswersDone();
    expect(phones(records)).toEqual(['+1 555 0101', '+1 555 0102']);
    for (const id of ids) expect(await stored(id)).toMatchObject({ status: 'applied' });
    for (const record of records) expect(await approvalEvents(harness, record, 'approval.applied')).toHaveLength(1);
  });

  it('When the write behind the answer fails, as when the server dies before it, then the approvals stay approved, the inbox says so, and the approval job writes them later', async () => {
    const { records, ids } = await holdTwo();
    const approver = await signInAs(harness, ws.workspaceId, '501');
    harness.hubspot.faults.failNext(50, { status: 503 }, UPDATE);
    expect((await approveBatch(approver, ids)).summary).toMatchObject({ decided: 2, applied: 0 });
    await harness.behindAnswersDone();

    for (const id of ids) expect(await stored(id)).toMatchObject({ status: 'approved' });
    expect(phones(records)).toEqual(['+1 555 0100', '+1 555 0200']);
    expect((await inbox(approver)).unwritten.map((row: any) => [row.approvalId, row.outcome]).sort()).toEqual(
      ids.map((id) => [id, 'failed']).sort(),
    );

    harness.hubspot.faults.reset();
    aheadMs = 60_000;
    await retryDueApplies(harness.deps);
    expect(phones(records)).toEqual(['+1 555 0101', '+1 555 0102']);
    for (const id of ids) expect(await stored(id)).toMatchObject({ status: 'applied' });
  });

  it('When the admin API decides a batch, then it still answers with the writes done', async () => {
    const { records, ids } = await holdTwo();
    const answer = await api(harness, 'POST', '/v1/admin/approvals/decisions', {
      token: ws.adminToken,
      body: { kind: 'approve', approvalIds: ids, actingUserId: '501' },
    });
    expect(answer.body.summary).toEqual({ decided: 2, refused: 0, applied: 2 });
    expect(phones(records)).toEqual(['+1 555 0101', '+1 555 0102']);
  });
});

describe('who approved first, on a two-person item', () => {
  it('When one person approves a two-person item from the console, then everyone’s inbox names them, only someone else may finish it, and the write names both', async () => {
    const deal = seedRecord(harness.hubspot.state, 'deals', {
      properties: { dealname: 'Acme renewal', amount: '1000', hubspot_owner_id: '1002' },
    });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[1]!.token,
      adminToken: ws.adminToken,
      recordId: deal,
      objectType: 'deals',
      properties: { amount: '1500' },
    });
    const first = await signInAs(harness, ws.workspaceId, '501');
    const second = await signInAs(harness, ws.workspaceId, '502');
    const cardFor = async (cookie: string) =>
      (await inbox(cookie)).items.find((card: any) => card.approval.id === approvalId);
    expect((await cardFor(second)).approval.items[0].approvedBy).toEqual([]);

    expect(await approveFromConsole(first, approvalId)).toMatchObject({
      tier: 'two_person',
      status: 'pending',
      items: [{ approvedBy: ['501'], status: 'pending' }],
    });
    await harness.behindAnswersDone();
    expect(recordValues(harness.hubspot.state, 'deals', deal)?.amount).toBe('1000');

    const seenBySecond = await cardFor(second);
    expect(seenBySecond.approval.items[0].approvedBy).toEqual(['501']);
    expect(seenBySecond.decidable).toEqual({ ok: true });
    const seenByFirst = await cardFor(first);
    expect(seenByFirst.approval.items[0].approvedBy).toEqual(['501']);
    expect(seenByFirst.decidable).toEqual({ ok: false, code: 'already_approved_by_this_person' });
    const again = await consoleCall(harness, first, 'POST', `/console/api/approvals/${approvalId}/decisions`, {
      kind: 'approve',
    });
    expect(again.status).toBe(403);
    expect(((await again.json()) as any).error.details.refusal).toBe('already_approved_by_this_person');

    expect(await approveFromConsole(second, approvalId)).toMatchObject({
      status: 'approved',
      items: [{ approvedBy: ['501', '502'], status: 'approved' }],
    });
    expect(await cardFor(second)).toBeUndefined();
    await harness.behindAnswersDone();
    expect(recordValues(harness.hubspot.state, 'deals', deal)?.amount).toBe('1500');
    expect(await stored(approvalId)).toMatchObject({
      status: 'applied',
      items: [{ approvedBy: ['501', '502'] }],
    });
    const decisions = await approvalEvents(harness, deal, 'approval.decided');
    expect(decisions.sort((a, b) => a.seq - b.seq).map((event) => (event.actor as any).crmUserId)).toEqual([
      '501',
      '502',
    ]);
  });
});
