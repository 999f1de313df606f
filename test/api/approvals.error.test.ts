import { count, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { startApprovalJobs } from '../../server/src/jobs/approval-jobs.ts';
import { silentLogger } from '../../server/src/logger.ts';
import { sweepExpiredApprovals } from '../../server/src/services/held/index.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { approvals, auditEvents } from '../../server/src/store/schema.ts';
import { approvalEvents, decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let now: Date;

beforeEach(async () => {
  now = new Date('2026-11-23T15:00:00Z');
  harness = await startHarness({ clock: () => now });
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
});
afterEach(() => harness.close());

const propose = (recordId: string, properties: Record<string, string>) =>
  proposeHeld(harness, { token: ws.agents[0]!.token, adminToken: ws.adminToken, recordId, properties });
const auditCount = async () => (await harness.database.db.select({ n: count() }).from(auditEvents))[0]!.n;

describe('deciding what cannot be decided', () => {
  it('answers 404 for an unknown id, a malformed id and another workspace’s approval, changing nothing', async () => {
    const approvalId = await propose(seedContact(harness), { phone: '+1 555 0199' });
    const other = await seedWorkspace(harness, ['enrichment']);
    const before = await auditCount();
    for (const [token, id] of [
      [ws.adminToken, '0190a0a0-0000-7000-8000-000000000000'],
      [ws.adminToken, 'not-an-id'],
      [other.adminToken, approvalId],
    ] as const) {
      const res = await decide(harness, token, id, { kind: 'approve', actingUserId: '501' });
      expect(res).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
      expect((await api(harness, 'GET', `/v1/admin/approvals/${id}`, { token })).status).toBe(404);
    }
    expect(await auditCount()).toBe(before);
    expect((await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!.status).toBe(
      'pending',
    );
  });

  it('refuses a decision on an approval already decided with 409, and audits the refusal', async () => {
    const id = seedContact(harness);
    const approvalId = await propose(id, { phone: '+1 555 0199' });
    expect(
      (
        await decide(harness, ws.adminToken, approvalId, {
          kind: 'reject',
          actingUserId: '501',
          reason: 'Wrong person',
        })
      ).status,
    ).toBe(200);
    const again = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(again).toMatchObject({
      status: 409,
      body: { error: { code: 'APPROVAL_NOT_DECIDABLE', details: { refusal: 'approval_not_pending' } } },
    });
    expect(await approvalEvents(harness, id, 'approval.refused')).toEqual([
      expect.objectContaining({
        reasons: ['approval_not_pending'],
        actor: expect.objectContaining({ crmUserId: '501' }),
      }),
    ]);
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBeUndefined();
  });

  it('refuses an edited value that does not fit the property’s CRM type with 400, storing and auditing nothing', async () => {
    const id = seedContact(harness);
    const approvalId = await propose(id, { hs_lead_status: 'NEW' });
    const before = await auditCount();
    const res = await decide(harness, ws.adminToken, approvalId, {
      kind: 'approve',
      actingUserId: '501',
      edits: { hs_lead_status: 'NOT_AN_OPTION' },
    });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PROPERTY_VALUE' } } });
    const stray = await decide(harness, ws.adminToken, approvalId, {
      kind: 'approve',
      actingUserId: '501',
      edits: { jobtitle: 'CEO' },
    });
    expect(stray).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(await auditCount()).toBe(before);
    expect(
      (await api(harness, 'GET', `/v1/admin/approvals/${approvalId}`, { token: ws.adminToken })).body,
    ).toMatchObject({ status: 'pending', items: [{ status: 'pending', approvedBy: [] }] });
  });

  it('refuses a decision that arrives after the expiry with 409 and marks the approval expired', async () => {
    const id = seedContact(harness);
    const approvalId = await propose(id, { phone: '+1 555 0199' });
    now = new Date(now.getTime() + 72 * 3_600_000);
    const res = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(res).toMatchObject({ status: 409, body: { error: { details: { refusal: 'approval_expired' } } } });
    expect((await api(harness, 'GET', `/v1/admin/approvals/${approvalId}`, { token: ws.adminToken })).body.status).toBe(
      'expired',
    );
    expect(await approvalEvents(harness, id, 'approval.expired')).toHaveLength(1);
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBeUndefined();
  });

  it('leaves an approval approved, not applied, when HubSpot keeps failing the write, and audits the failure', async () => {
    const id = seedContact(harness);
    const approvalId = await propose(id, { phone: '+1 555 0199' });
    harness.hubspot.faults.failNext(50, { status: 503 }, 'POST /crm/v3/objects/{type}/batch/update');
    const res = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(res.body).toMatchObject({ status: 'approved', message: expect.any(String) });
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBeUndefined();
    expect(await approvalEvents(harness, id, 'approval.apply_failed')).toHaveLength(1);
    const [stored] = await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId));
    expect(stored!.applyingSince).toBeNull();
  });
});

describe('sweepExpiredApprovals', () => {
  it('expires only pending approvals past their expiry, audited, and does nothing the second time', async () => {
    const early = seedContact(harness);
    const earlyApproval = await propose(early, { phone: '+1 555 0199' });
    now = new Date(now.getTime() + 3_600_000);
    const lateApproval = await propose(seedContact(harness), { phone: '+1 555 0198' });
    const at = new Date(now.getTime() + 71.5 * 3_600_000);
    expect(await sweepExpiredApprovals(harness.deps, at)).toBe(1);
    expect(await sweepExpiredApprovals(harness.deps, at)).toBe(0);
    const statuses = Object.fromEntries(
      (await harness.database.db.select().from(approvals)).map((row) => [row.id, row.status]),
    );
    expect(statuses).toEqual({ [earlyApproval]: 'expired', [lateApproval]: 'pending' });
    expect(await approvalEvents(harness, early, 'approval.expired')).toEqual([
      expect.objectContaining({
        actor: { type: 'system', name: 'approval-expiry' },
        data: expect.objectContaining({ approvalId: earlyApproval }),
      }),
    ]);
  });

  it('runs as a job that sweeps on every round until stopped', async () => {
    const approvalId = await propose(seedContact(harness), { phone: '+1 555 0199' });
    const job = startApprovalJobs(harness.deps, { logger: silentLogger, pollMs: 20 });
    now = new Date(now.getTime() + 73 * 3_600_000);
    await expect
      .poll(
        async () => (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!.status,
        { timeout: 5_000 },
      )
      .toBe('expired');
    await job.stop();
  });
});
