import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { EXAMPLE_POLICY } from '../support/harness.ts';
import { EVIDENCE, approvalEvents, proposeHeld, seedContact } from '../support/approvals.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { api, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, { '501': 'approver', '1001': 'rep', '701': 'owner' });
});
afterEach(() => harness.close());

const as = (userId: string, call: Omit<Parameters<typeof callAsHubSpot>[1], 'portalId' | 'userId' | 'clientSecret'>) =>
  callAsHubSpot(harness, { ...call, portalId: ws.portalId, userId, clientSecret: ws.clientSecret });
const propose = (recordId: string, properties: Record<string, string> = { phone: '+1 555 0199' }) =>
  proposeHeld(harness, { token: ws.agent.token, adminToken: ws.adminToken, recordId, properties });

describe('the record card', () => {
  it("shows the record's pending proposals with current → proposed, the agent, its evidence, and the caller's rights", async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001', phone: '+1 555 0100' });
    const approvalId = await propose(id);
    const res = await as('1001', { path: `/card?objectType=contacts&recordId=${id}` });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      record: { objectType: 'contacts', recordId: id },
      caller: { userId: '1001', permissions: { role: 'rep', decide: 'own_records', publishPolicy: false } },
      killSwitches: [],
      pending: {
        total: 1,
        page: 1,
        items: [
          {
            approval: {
              id: approvalId,
              items: [{ property: 'phone', before: '+1 555 0100', proposed: '+1 555 0199' }],
            },
            agent: { name: 'enricher', role: 'enrichment' },
            evidence: EVIDENCE,
            decidable: { ok: true },
          },
        ],
      },
    });
  });

  it('pages through many pending proposals, newest first', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const ids = [];
    for (const phone of ['+1 555 0001', '+1 555 0002', '+1 555 0003']) ids.push(await propose(id, { phone }));
    const first = await as('501', { path: `/card?objectType=contacts&recordId=${id}&pageSize=2` });
    const second = await as('501', { path: `/card?objectType=contacts&recordId=${id}&pageSize=2&page=2` });
    expect(first.body.pending.total).toBe(3);
    expect(
      [...first.body.pending.items, ...second.body.pending.items].map(
        (card: { approval: { id: string } }) => card.approval.id,
      ),
    ).toEqual([...ids].reverse());
  });

  it('lists the changes agents applied to the record and any engaged kill switch', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001', jobtitle: 'Engineer' });
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agent.token,
      body: {
        batchId: 'enrich-2',
        objectType: 'contacts',
        changes: [{ recordId: id, properties: { jobtitle: 'CTO' }, evidence: EVIDENCE }],
      },
    });
    expect(submitted.body.results).toEqual([expect.objectContaining({ decision: 'applied' })]);
    await as('701', {
      method: 'PUT',
      path: '/kill-switches',
      body: { scope: 'workspace', engaged: true, reason: 'agents misbehaving' },
    });
    const res = await as('1001', { path: `/card?objectType=contacts&recordId=${id}` });
    expect(res.body.recentChanges).toEqual([
      expect.objectContaining({
        property: 'jobtitle',
        before: 'Engineer',
        after: 'CTO',
        agent: expect.objectContaining({ name: 'enricher' }),
      }),
    ]);
    expect(res.body.killSwitches).toEqual([
      expect.objectContaining({ scope: 'workspace', reason: 'agents misbehaving' }),
    ]);
  });

  it("shows the record's held drafts", async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const held = await api(harness, 'POST', '/v1/actions', {
      token: ws.agent.token,
      body: {
        kind: 'create_note',
        objectType: 'contacts',
        recordId: id,
        body: 'Met at the summit; wants pricing.',
        evidence: EVIDENCE,
      },
    });
    expect(held.body.status).toBe('pending');
    const res = await as('1001', { path: `/card?objectType=contacts&recordId=${id}` });
    expect(res.body.drafts).toEqual([
      {
        id: held.body.id,
        kind: 'create_note',
        agent: { id: ws.agent.id, name: 'enricher' },
        tier: 'approval',
        content: { body: 'Met at the summit; wants pricing.' },
        edited: false,
        expiresAt: held.body.expiresAt,
        decidable: { ok: true },
      },
    ]);
  });
});

describe('deciding from the card', () => {
  it('approves as the signed HubSpot user, writes the value to the CRM and audits the person', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    const res = await as('1001', {
      method: 'POST',
      path: `/approvals/${approvalId}/decisions`,
      body: { kind: 'approve' },
    });
    expect(res).toMatchObject({ status: 200, body: { id: approvalId, status: 'applied' } });
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBe('+1 555 0199');
    expect(await approvalEvents(harness, id, 'approval.decided')).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ type: 'person', crmUserId: '1001', role: 'rep', via: 'hubspot_app' }),
      }),
    ]);
  });

  it('writes the edited value when a person edits before approving', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    const res = await as('501', {
      method: 'POST',
      path: `/approvals/${approvalId}/decisions`,
      body: { kind: 'approve', edits: { phone: '+1 555 0123' } },
    });
    expect(res.body.items).toEqual([
      expect.objectContaining({ property: 'phone', proposed: '+1 555 0199', edited: '+1 555 0123' }),
    ]);
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBe('+1 555 0123');
  });

  it('rejects with a reason and writes nothing', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    const res = await as('501', {
      method: 'POST',
      path: `/approvals/${approvalId}/decisions`,
      body: { kind: 'reject', reason: 'Wrong person' },
    });
    expect(res.body).toMatchObject({ status: 'rejected', message: 'Wrong person' });
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBeUndefined();
  });
});

describe('the settings page and the home page', () => {
  it('reads the policy in force, its history, kill switches and agents, and publishes a new version as the person', async () => {
    const read = await as('701', { path: '/settings' });
    expect(read.body).toMatchObject({
      policy: { version: 1 },
      history: [{ version: 1 }],
      agents: [{ name: 'enricher' }],
      killSwitches: [],
    });
    const edited = structuredClone(EXAMPLE_POLICY) as {
      objects: { contacts: { properties: Record<string, Record<string, string>> } };
    };
    edited.objects.contacts.properties.phone = { enrichment: 'deny' };
    const published = await as('701', { method: 'POST', path: '/policies', body: { document: edited } });
    expect(published).toMatchObject({ status: 201, body: { version: 2 } });
    const active = await api(harness, 'GET', '/v1/admin/policies/active', { token: ws.adminToken });
    expect(active.body.policy.objects.contacts.properties.phone).toEqual({ enrichment: 'deny' });
    const [event] = await harness.database.db
      .select()
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.workspaceId, ws.workspaceId),
          eq(auditEvents.policyVersion, 2),
          eq(auditEvents.type, 'policy.published'),
        ),
      );
    expect(event?.actor).toMatchObject({ type: 'person', crmUserId: '701', via: 'hubspot_app' });
  });

  it('refuses an invalid policy with the validator’s sentences and keeps the version in force', async () => {
    const res = await as('701', { method: 'POST', path: '/policies', body: { document: { name: 'x' } } });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'POLICY_INVALID' } } });
    expect((await as('701', { path: '/settings' })).body.policy.version).toBe(1);
  });

  it('shows batches with their pending approvals, and searches the audit trail newest first', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    await propose(id);
    const home = await as('501', { path: '/home' });
    expect(home.body.batches).toEqual([
      expect.objectContaining({ batchId: 'enrich-1', changeSets: 1, agents: ['enricher'], pendingApprovals: 1 }),
    ]);
    const audit = await as('501', { path: `/audit?record=${id}&limit=5` });
    expect(audit.body.events.length).toBeGreaterThan(0);
    const seqs = audit.body.events.map((event: { seq: number }) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(audit.body.events.every((event: { recordId: string }) => event.recordId === id)).toBe(true);
  });
});
