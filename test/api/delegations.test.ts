import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { testClock } from '../support/actions.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let clock: ReturnType<typeof testClock>;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
});
afterEach(() => harness.close());

const inHours = (hours: number) => new Date(clock.now().getTime() + hours * 3_600_000).toISOString();
const delegate = (workspace = ws, crmUserId = '4242') =>
  api(harness, 'POST', `/v1/admin/agents/${workspace.agents[0]!.id}/delegations`, {
    token: workspace.adminToken,
    body: { crmUserId, expiresAt: inHours(24) },
  });
const end = (id: string, token = ws.adminToken) =>
  api(harness, 'POST', `/v1/admin/delegations/${id}/revoke`, { token, body: {} });
const listed = async () =>
  (await api(harness, 'GET', '/v1/admin/delegations', { token: ws.adminToken })).body.delegations as {
    id: string;
  }[];
/** A change set the agent makes for CRM user 4242. */
const actForThePerson = () => {
  const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'c@example.com' } });
  return api(harness, 'POST', '/v1/changesets', {
    token: ws.agents[0]!.token,
    body: {
      batchId: 'b',
      objectType: 'contacts',
      onBehalfOf: { crmUserId: '4242' },
      changes: [
        {
          recordId,
          properties: { jobtitle: 'CTO' },
          evidence: { source: 'apollo', reason: 'profile says so', confidence: 0.9 },
        },
      ],
    },
  });
};

describe('ending a delegation before it expires', () => {
  it('stops the agent acting for the person at once, audited once however often it is asked', async () => {
    const created = await delegate();
    expect(created.status).toBe(201);
    expect(await listed()).toEqual([created.body]);
    expect((await actForThePerson()).status).toBe(201);

    const ended = await end(created.body.id);
    expect(ended).toMatchObject({ status: 200, body: { ...created.body, revokedAt: clock.now().toISOString() } });
    expect(await listed()).toEqual([]);
    expect(await actForThePerson()).toMatchObject({ status: 403, body: { error: { code: 'DELEGATION_INVALID' } } });

    // A retried request (an hour on) answers the delegation as it was ended, and records nothing more.
    clock.advanceHours(1);
    expect(await end(created.body.id)).toMatchObject({ status: 200, body: ended.body });
    const events = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'delegation.revoked')));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      agentId: ws.agents[0]!.id,
      actor: { type: 'admin' },
      before: { delegationId: created.body.id, crmUserId: '4242', expiresAt: created.body.expiresAt },
      after: { delegationId: created.body.id, crmUserId: '4242', revokedAt: ended.body.revokedAt },
    });
    const verified = await api(harness, 'GET', '/v1/admin/audit/verify', { token: ws.adminToken });
    expect(verified.body).toMatchObject({ ok: true });
  });

  it('leaves the person’s other delegations, and other people’s, in force', async () => {
    const first = await delegate();
    const second = await delegate();
    const someoneElse = await delegate(ws, '5151');
    await end(first.body.id);
    expect((await listed()).map(({ id }) => id).sort()).toEqual([second.body.id, someoneElse.body.id].sort());
    expect((await actForThePerson()).status).toBe(201);
  });

  it('is a conflict for a delegation that has already expired', async () => {
    const created = await delegate();
    clock.advanceHours(25);
    const refused = await end(created.body.id);
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(refused.body.error.message).toContain('already expired');
  });

  it('finds no delegation of another workspace, nor an unknown or malformed id, and needs the admin token', async () => {
    const other = await seedWorkspace(harness, ['enrichment']);
    const theirs = await delegate(other);
    const unknownId = '0193d0a4-0000-7000-8000-000000000000';
    for (const id of [theirs.body.id, unknownId, 'not-a-uuid']) {
      const refused = await end(id);
      expect(refused).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    }
    expect((await end(theirs.body.id, ws.agents[0]!.token)).status).toBe(401);
    const stillTheirs = await api(harness, 'GET', '/v1/admin/delegations', { token: other.adminToken });
    expect(stillTheirs.body.delegations).toEqual([theirs.body]);
  });
});
