import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { associationsOf } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { recoverInterruptedChangeSet } from '../../server/src/services/change-sets/index.ts';
import { verifyAudit } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { testClock } from '../support/actions.ts';
import { givePeopleRoles } from '../support/approvals.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { holdEntriesPolicy, proposeContact, proposeLink } from '../support/held-entries.ts';

/*
 * Issue 21: a held creation or association a person approved is never lost to a CRM that failed
 * for now (it waits, `approved`, and the change set recovery tries it again, later each time), and
 * one the CRM refused for good is listed `failed` with the CRM's message.
 */

const CREATE = 'POST /crm/v3/objects/{type}/batch/create';
const ASSOCIATE = 'POST /crm/v4/associations/{from}/{to}/batch/associate/default';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;
let token: string;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['prospecting']);
  token = ws.agents[0]!.token;
  await holdEntriesPolicy(harness, ws.workspaceId);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
});
afterEach(() => harness.close());

const listed = async (id: string) =>
  (await api(harness, 'GET', `/v1/admin/approvals/${id}`, { token: ws.adminToken })).body;
const eventsOf = (type: string) =>
  harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, type)));
const advanceSeconds = (seconds: number) => clock.advanceHours(seconds / 3_600);

describe('a held entry approved while the CRM fails for now', () => {
  it('a creation stays approved with the CRM’s message and is created by recovery once its retry is due, once', async () => {
    const created = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
    const id = created.result.changeId as string;
    harness.hubspot.faults.failNext(1, { status: 503 }, CREATE);

    const decided = await api(harness, 'POST', `/v1/admin/creations/${id}/decisions`, {
      token: ws.adminToken,
      body: { kind: 'approve', actingUserId: '501' },
    });

    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ changeId: id, decision: 'applying', recordId: null });
    expect(await listed(id)).toMatchObject({ status: 'approved', recordId: null, message: expect.any(String) });
    const [deferred] = await eventsOf('record.create_deferred');
    expect(deferred!.data).toMatchObject({
      changeId: id,
      reason: 'crm_unavailable',
      retryAt: new Date(clock.now().getTime() + 30_000).toISOString(),
    });
    // Not before the retry is due.
    expect(await recoverInterruptedChangeSet(harness.deps)).toBe('none');

    advanceSeconds(31);
    expect(await recoverInterruptedChangeSet(harness.deps)).toBe('completed');
    const after = await listed(id);
    expect(after).toMatchObject({ status: 'applied', recordId: expect.any(String), message: null });
    expect(
      [...harness.hubspot.state.objects.contacts.records.keys()].filter(
        (recordId) => recordValues(harness.hubspot.state, 'contacts', recordId)?.email === 'grace@navy.example',
      ),
    ).toEqual([after.recordId]);
    expect(await recoverInterruptedChangeSet(harness.deps)).toBe('none');
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('an association whose link failed is tried again later each time until the CRM answers', async () => {
    const link = await proposeLink(harness, token);
    const id = link.result.changeId as string;
    // Every attempt the adapter makes, for this decision and the first retry.
    harness.hubspot.faults.failNext(100, { status: 503 }, ASSOCIATE);

    const decided = await api(harness, 'POST', `/v1/admin/associations/${id}/decisions`, {
      token: ws.adminToken,
      body: { kind: 'approve', actingUserId: '501' },
    });
    expect(decided.body).toMatchObject({ changeId: id, decision: 'applying' });
    expect(await listed(id)).toMatchObject({ status: 'approved' });

    advanceSeconds(31);
    expect(await recoverInterruptedChangeSet(harness.deps)).toBe('completed');
    expect(await listed(id)).toMatchObject({ status: 'approved' });
    // Waited 31 s since the approval, so the next try waits as long again.
    const retries = (await eventsOf('record.associate_deferred')).map(
      (event) => (event.data as { retryAt: string }).retryAt,
    );
    expect(retries).toEqual([
      new Date(clock.now().getTime() - 1_000).toISOString(),
      new Date(clock.now().getTime() + 31_000).toISOString(),
    ]);
    advanceSeconds(30);
    expect(await recoverInterruptedChangeSet(harness.deps)).toBe('none');

    harness.hubspot.faults.reset();
    advanceSeconds(2);
    expect(await recoverInterruptedChangeSet(harness.deps)).toBe('completed');
    expect(await listed(id)).toMatchObject({ status: 'applied', message: null });
    expect(associationsOf(harness.hubspot.state, 'contacts', link.contact)).toEqual([`0-2:${link.company}`]);
  });
});

describe('a held entry approved that the CRM refuses for good', () => {
  it('is failed with the CRM’s message, in the batch’s answer and the listing, and never tried again', async () => {
    const link = await proposeLink(harness, token);
    const id = link.result.changeId as string;
    // The company is deleted in the CRM before the person approves the link.
    harness.hubspot.state.custom.companies.delete(link.company);

    const res = await api(harness, 'POST', '/v1/admin/approvals/decisions', {
      token: ws.adminToken,
      body: { kind: 'approve', actingUserId: '501', approvalIds: [id] },
    });

    expect(res.body.results).toEqual([{ approvalId: id, kind: 'association', status: 'failed' }]);
    const failed = (await api(harness, 'GET', '/v1/admin/approvals?status=failed', { token: ws.adminToken })).body
      .approvals;
    expect(failed).toEqual([
      expect.objectContaining({
        id,
        kind: 'association',
        status: 'failed',
        message: expect.stringMatching(/invalid/i),
      }),
    ]);
    expect((await api(harness, 'GET', '/v1/admin/approvals?status=approved', { token: ws.adminToken })).body).toEqual({
      approvals: [],
    });
    expect(await eventsOf('record.associate_failed')).toHaveLength(1);
    advanceSeconds(3_600);
    expect(await recoverInterruptedChangeSet(harness.deps)).toBe('none');
  });
});
