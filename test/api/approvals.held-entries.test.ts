import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { associationsOf } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { sweepExpiredEntries } from '../../server/src/services/held/index.ts';
import { verifyAudit } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { testClock } from '../support/actions.ts';
import { givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { ENTRY_EVIDENCE, holdEntriesPolicy, proposeContact, proposeLink } from '../support/held-entries.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;
let token: string;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['prospecting', 'enrichment']);
  token = ws.agents[0]!.token;
  await holdEntriesPolicy(harness, ws.workspaceId);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '1001': 'rep' });
});
afterEach(() => harness.close());

const list = async (query: string) =>
  (await api(harness, 'GET', `/v1/admin/approvals${query}`, { token: ws.adminToken })).body.approvals as any[];
const decideEntry = (kind: 'creations' | 'associations', id: string, body: object) =>
  api(harness, 'POST', `/v1/admin/${kind}/${id}/decisions`, { token: ws.adminToken, body });
const eventsOf = async (type: string) =>
  harness.database.db.select().from(auditEvents).where(eq(auditEvents.type, type));

describe('GET /v1/admin/approvals lists held creations and associations beside held field changes', () => {
  it('shows each with its kind, what it would do, its evidence and expiry; filters by kind, record, batch and status', async () => {
    const link = await proposeLink(harness, token);
    const created = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
    const record = seedContact(harness, { phone: '+1 555 0100' });
    const fieldChange = await proposeHeld(harness, {
      token: ws.agents[1]!.token,
      adminToken: ws.adminToken,
      recordId: record,
      properties: { phone: '+1 555 0199' },
    });

    const pending = await list('?status=pending');
    expect(pending.map((approval) => approval.kind).sort()).toEqual(['association', 'creation', 'field_change']);
    const expiresAt = new Date(clock.now().getTime() + 72 * 3_600_000).toISOString();
    expect(pending.find((approval) => approval.kind === 'association')).toEqual({
      kind: 'association',
      id: link.result.changeId,
      changeSetId: link.changeSetId,
      batchId: 'link-1',
      agentId: ws.agents[0]!.id,
      objectType: 'contacts',
      recordId: link.contact,
      toObjectType: 'companies',
      toRecordId: link.company,
      policyVersion: expect.any(Number),
      tier: 'approval',
      status: 'pending',
      expiresAt,
      delegatedUserId: null,
      createdAt: clock.now().toISOString(),
      decidedAt: null,
      message: null,
      approvedBy: [],
      reasons: ['tier_approval'],
      evidence: ENTRY_EVIDENCE,
    });
    expect(pending.find((approval) => approval.kind === 'creation')).toMatchObject({
      id: created.result.changeId,
      recordId: null,
      properties: { email: 'grace@navy.example', lastname: 'Hopper' },
      duplicateOf: null,
      status: 'pending',
      expiresAt,
    });

    expect((await list('?kind=association')).map((approval) => approval.id)).toEqual([link.result.changeId]);
    expect((await list('?kind=creation')).map((approval) => approval.id)).toEqual([created.result.changeId]);
    // A link is about both its records: the contact's and the company's.
    expect((await list(`?record=${link.company}`)).map((approval) => approval.id)).toEqual([link.result.changeId]);
    expect((await list(`?record=${link.contact}`)).map((approval) => approval.id)).toEqual([link.result.changeId]);
    expect((await list('?batch=link-1')).map((approval) => approval.id)).toEqual([link.result.changeId]);
    expect((await list(`?record=${record}`)).map((approval) => approval.id)).toEqual([fieldChange]);
    expect(await list('?status=rejected')).toEqual([]);

    const one = await api(harness, 'GET', `/v1/admin/approvals/${link.result.changeId}`, { token: ws.adminToken });
    expect(one.body).toEqual(pending.find((approval) => approval.kind === 'association'));
  });

  it('a person decides what the listing shows by its id, by the approvals’ rules, and the listing shows the outcome', async () => {
    const link = await proposeLink(harness, token);
    const created = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
    const pending = await list('?status=pending');
    const [association, creation] = ['association', 'creation'].map(
      (kind) => pending.find((approval) => approval.kind === kind).id as string,
    );

    const rep = await decideEntry('associations', association!, { kind: 'approve', actingUserId: '1001' });
    expect(rep).toMatchObject({ status: 403, body: { error: { details: { refusal: 'not_record_owner' } } } });
    const approved = await decideEntry('associations', association!, { kind: 'approve', actingUserId: '501' });
    expect(approved.body).toMatchObject({ changeId: link.result.changeId, decision: 'applied' });
    expect(associationsOf(harness.hubspot.state, 'contacts', link.contact)).toEqual([`0-2:${link.company}`]);
    const rejected = await decideEntry('creations', creation!, {
      kind: 'reject',
      actingUserId: '501',
      reason: 'Grace is already in the CRM under her maiden name',
    });
    expect(rejected.body).toMatchObject({ changeId: created.result.changeId, decision: 'denied' });

    expect(await list('?status=pending')).toEqual([]);
    expect(await list('?status=applied&kind=association')).toEqual([
      expect.objectContaining({
        id: association,
        status: 'applied',
        approvedBy: ['501'],
        decidedAt: clock.now().toISOString(),
      }),
    ]);
    expect(await list('?status=rejected')).toEqual([
      expect.objectContaining({
        id: creation,
        status: 'rejected',
        message: expect.stringContaining('maiden name'),
        decidedAt: clock.now().toISOString(),
      }),
    ]);
  });
});

describe('held creations and associations expire as approvals do', () => {
  it('past the policy’s approval expiry they become expired, audited, and can no longer be approved; the agent may propose again', async () => {
    const link = await proposeLink(harness, token);
    const created = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });

    clock.advanceHours(71);
    expect(await sweepExpiredEntries(harness.deps, clock.now())).toBe(0);
    clock.advanceHours(1);
    // Due but not yet swept: the decision refuses it all the same.
    const late = await decideEntry('associations', link.result.changeId, { kind: 'approve', actingUserId: '501' });
    expect(late).toMatchObject({ status: 409, body: { error: { details: { refusal: 'approval_expired' } } } });

    expect(await sweepExpiredEntries(harness.deps, clock.now())).toBe(2);
    expect(await sweepExpiredEntries(harness.deps, clock.now())).toBe(0);
    const expired = await list('?status=expired');
    expect(expired.map((approval) => [approval.kind, approval.id]).sort()).toEqual(
      [
        ['association', link.result.changeId],
        ['creation', created.result.changeId],
      ].sort(),
    );
    expect(expired[0]).toMatchObject({
      message: 'Nobody decided before the approval expired.',
      decidedAt: clock.now().toISOString(),
    });
    const view = await api(harness, 'GET', `/v1/changesets/${link.changeSetId}`, { token });
    expect(view.body.results[0]).toMatchObject({ decision: 'denied', reasons: ['tier_approval', 'approval_expired'] });

    const again = await decideEntry('associations', link.result.changeId, { kind: 'approve', actingUserId: '501' });
    expect(again).toMatchObject({ status: 409, body: { error: { details: { refusal: 'approval_not_pending' } } } });
    expect(associationsOf(harness.hubspot.state, 'contacts', link.contact)).toEqual([]);
    expect(await eventsOf('record.associate_expired')).toEqual([
      expect.objectContaining({
        recordId: link.contact,
        changeSetId: link.changeSetId,
        actor: expect.objectContaining({ type: 'system', name: 'approval-expiry' }),
        data: expect.objectContaining({ changeId: link.result.changeId }),
      }),
    ]);
    expect(await eventsOf('record.create_expired')).toEqual([
      expect.objectContaining({ recordId: null, data: expect.objectContaining({ changeId: created.result.changeId }) }),
    ]);
    // An expired creation no longer stands in the duplicate check: the agent may propose it again.
    const retry = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
    expect(retry.result).toMatchObject({ decision: 'pending_approval', reasons: ['tier_approval'] });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });
});
