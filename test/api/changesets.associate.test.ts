import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { associationsOf } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { seedCompany, unlinkRecords } from '../../server/src/sandbox/hubspot/association-routes.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import type { CrmPort } from '../../server/src/crm/port.ts';
import { recoverInterruptedChangeSet, submitChangeSet } from '../../server/src/services/change-sets/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { publishPolicy, verifyAudit } from '../../server/src/services/governance/index.ts';
import { findAgent } from '../../server/src/store/agent-store.ts';
import { findWorkspace } from '../../server/src/store/workspace-store.ts';
import { auditEvents, changeSets } from '../../server/src/store/schema.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { approvalEvents, givePeopleRoles } from '../support/approvals.ts';
import { runRollback } from '../support/rollbacks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let token: string;

function associationPolicy(overrides: { associate?: object; caps?: Record<string, number> } = {}) {
  const base = EXAMPLE_POLICY as { objects: { contacts: object }; caps: object };
  return {
    ...base,
    objects: {
      ...base.objects,
      contacts: { ...base.objects.contacts, associate: overrides.associate ?? { prospecting: 'auto' } },
    },
    caps: { ...base.caps, ...overrides.caps },
  };
}

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['prospecting', 'enrichment']);
  token = ws.agents[0]!.token;
  await publishPolicy(harness.deps, ws.workspaceId, associationPolicy(), ADMIN);
});
afterEach(() => harness.close());

const evidence = { source: 'apollo', reason: 'Works there, per the company team page', confidence: 0.9 };

function associate(recordId: string, toRecordId: string, toObjectType = 'companies') {
  return { operation: 'associate', recordId, toObjectType, toRecordId, evidence };
}

function submit(changes: unknown[], agentToken = token, batchId = 'link-1') {
  return api(harness, 'POST', '/v1/changesets', {
    token: agentToken,
    body: { batchId, objectType: 'contacts', changes },
  });
}

const contact = (email: string) => seedRecord(harness.hubspot.state, 'contacts', { properties: { email } });
const companiesOf = (contactId: string) =>
  associationsOf(harness.hubspot.state, 'contacts', contactId)
    .filter((key) => key.startsWith('0-2:'))
    .map((key) => key.slice(4));

async function eventsOf(type: string) {
  return harness.database.db.select().from(auditEvents).where(eq(auditEvents.type, type));
}

describe('POST /v1/changesets with "operation": "associate"', () => {
  it('links a contact with its company when the role may associate, audited, and reads back the same', async () => {
    const ada = contact('ada@acme.com');
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const res = await submit([associate(ada, acme)]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'completed', summary: { applied: 1 } });
    expect(res.body.results[0]).toMatchObject({
      operation: 'associate',
      recordId: ada,
      toObjectType: 'companies',
      toRecordId: acme,
      decision: 'applied',
      tier: 'auto',
      reasons: ['tier_auto'],
    });
    expect(companiesOf(ada)).toEqual([acme]);
    const again = await api(harness, 'GET', `/v1/changesets/${res.body.id}`, { token });
    expect(again.body).toEqual(res.body);
    expect(await eventsOf('record.associate_decided')).toHaveLength(1);
    expect(await eventsOf('record.associated')).toEqual([
      expect.objectContaining({ recordId: ada, data: expect.objectContaining({ alreadyLinked: false }) }),
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('links a deal with its company and its contacts under the deals policy', async () => {
    const base = associationPolicy() as { objects: Record<string, object> };
    const deals = { ...base.objects['deals'], associate: { prospecting: 'auto' } };
    await publishPolicy(harness.deps, ws.workspaceId, { ...base, objects: { ...base.objects, deals } }, ADMIN);
    const deal = seedRecord(harness.hubspot.state, 'deals', { properties: { dealname: 'Acme renewal' } });
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const ada = contact('ada@acme.com');
    const res = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'deal-links',
        objectType: 'deals',
        changes: [associate(deal, acme), associate(deal, ada, 'contacts')],
      },
    });
    expect(res.body.summary).toMatchObject({ applied: 2 });
    expect(associationsOf(harness.hubspot.state, 'deals', deal).sort()).toEqual([`0-1:${ada}`, `0-2:${acme}`]);
  });

  it('denies a role the policy does not let associate, by default, and links nothing', async () => {
    const ada = contact('ada@acme.com');
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const res = await submit([associate(ada, acme)], ws.agents[1]!.token);
    expect(res.status).toBe(201);
    expect(res.body.results[0]).toMatchObject({ decision: 'denied', tier: 'deny', reasons: ['field_not_allowed'] });
    expect(companiesOf(ada)).toEqual([]);
    expect(await eventsOf('record.associate_decided')).toEqual([
      expect.objectContaining({ recordId: ada, data: expect.objectContaining({ decision: 'denied' }) }),
    ]);
    expect(
      harness.hubspot.state.calls.count({ route: 'POST /crm/v4/associations/{from}/{to}/batch/associate/default' }),
    ).toBe(0);
  });

  it('counts associations against their own daily cap', async () => {
    await publishPolicy(
      harness.deps,
      ws.workspaceId,
      associationPolicy({ caps: { associationsPerAgentPerDay: 2 } }),
      ADMIN,
    );
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const people = ['a@acme.com', 'b@acme.com', 'c@acme.com'].map(contact);
    const res = await submit(people.map((id) => associate(id, acme)));
    expect(res.body.results.map((result: { decision: string }) => result.decision)).toEqual([
      'applied',
      'applied',
      'denied',
    ]);
    expect(res.body.results[2].reasons).toContain('cap_agent_daily_associations_reached');
    expect(companiesOf(people[2]!)).toEqual([]);
  });

  it('takes a link the CRM already has as unchanged, and reports a record HubSpot does not have as rejected', async () => {
    const ada = contact('ada@acme.com');
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const other = seedCompany(harness.hubspot.state, 'Other');
    await submit([associate(ada, acme)], token, 'earlier');
    const res = await submit([associate(ada, acme), associate(ada, '999999'), associate(ada, other)]);
    const [known, missing, fresh] = res.body.results;
    expect(known).toMatchObject({ decision: 'applied', reasons: ['tier_auto', 'value_unchanged'] });
    expect(missing).toMatchObject({ decision: 'failed', reasons: ['tier_auto', 'crm_rejected'] });
    expect(missing.message).toContain('associations are invalid');
    expect(fresh).toMatchObject({ decision: 'applied', reasons: ['tier_auto'] });
    expect(companiesOf(ada).sort()).toEqual([acme, other].sort());
  });

  it('refuses a change set that mixes associations and updates, or links a record with its own type', async () => {
    const ada = contact('ada@acme.com');
    const mixed = await submit([
      associate(ada, seedCompany(harness.hubspot.state, 'Acme')),
      { recordId: ada, properties: { jobtitle: 'CEO' }, evidence },
    ]);
    expect(mixed.status).toBe(400);
    expect(JSON.stringify(mixed.body.error.details)).toContain('mixes associations and updates');
    const same = await submit([associate(ada, contact('b@acme.com'), 'contacts')]);
    expect(same.status).toBe(400);
    expect(JSON.stringify(same.body.error.details)).toContain('two different types');
    // On Salesforce a contact's account is its AccountId lookup field: an update, not an association.
    const lookup = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'link-sf',
        objectType: 'salesforce:Contact',
        changes: [associate('003000000000001AAA', '1')],
      },
    });
    expect(lookup.status).toBe(400);
    expect(JSON.stringify(lookup.body.error.details)).toContain('set their lookup field as an update');
  });
});

describe('scoped kill switches over associations', () => {
  it('a segment by CRM list refuses linking its members, naming the switch, and links the others', async () => {
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const [member, outsider] = [contact('m@acme.com'), contact('o@acme.com')];
    harness.hubspot.state.lists.set('77', new Set([member]));
    const engaged = await api(harness, 'PUT', '/v1/admin/kill-switches', {
      token: ws.adminToken,
      body: { scope: 'segment', target: 'list:77', engaged: true, reason: 'customers are not to be touched' },
    });
    expect(engaged.status).toBe(200);
    const res = await submit([associate(member, acme), associate(outsider, acme)]);
    const [refused, linked] = res.body.results;
    expect(refused).toMatchObject({ decision: 'denied', reasons: ['tier_auto', 'kill_switch_engaged'] });
    expect(refused.message).toContain('segment list:77');
    expect(linked).toMatchObject({ decision: 'applied' });
    expect(companiesOf(member)).toEqual([]);
    expect(companiesOf(outsider)).toEqual([acme]);
  });
});

describe('a held association', () => {
  it('waits for a person, who approves it: then it is linked; a rejection links nothing', async () => {
    await publishPolicy(
      harness.deps,
      ws.workspaceId,
      associationPolicy({ associate: { prospecting: 'approval' } }),
      ADMIN,
    );
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const [ada, bob] = [contact('ada@acme.com'), contact('bob@acme.com')];
    const res = await submit([associate(ada, acme), associate(bob, acme)]);
    const [first, second] = res.body.results;
    expect(first).toMatchObject({ decision: 'pending_approval', tier: 'approval', reasons: ['tier_approval'] });
    expect(companiesOf(ada)).toEqual([]);

    const approved = await api(harness, 'POST', `/v1/admin/associations/${first.changeId}/decisions`, {
      token: ws.adminToken,
      body: { kind: 'approve', actingUserId: '501' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ changeId: first.changeId, decision: 'applied', recordId: ada });
    expect(companiesOf(ada)).toEqual([acme]);

    const rejected = await api(harness, 'POST', `/v1/admin/associations/${second.changeId}/decisions`, {
      token: ws.adminToken,
      body: { kind: 'reject', actingUserId: '501', reason: 'Bob left Acme last year' },
    });
    expect(rejected.body).toMatchObject({ decision: 'denied', message: expect.stringContaining('Bob left Acme') });
    expect(companiesOf(bob)).toEqual([]);
    const again = await api(harness, 'POST', `/v1/admin/associations/${second.changeId}/decisions`, {
      token: ws.adminToken,
      body: { kind: 'approve', actingUserId: '501' },
    });
    expect(again.status).toBe(409);
    expect(await eventsOf('record.associate_approved')).toHaveLength(1);
    expect(await eventsOf('record.associate_rejected')).toHaveLength(1);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });
});

describe('rolling back a batch that associated records', () => {
  it('removes the links it made, leaves one the CRM already had, and one a person removed since is a conflict', async () => {
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const [ada, bob, cy] = [contact('ada@acme.com'), contact('bob@acme.com'), contact('cy@acme.com')];
    await submit([associate(cy, acme)], token, 'earlier');
    const res = await submit([associate(ada, acme), associate(bob, acme), associate(cy, acme)]);
    expect(res.body.summary).toMatchObject({ applied: 3 });
    unlinkRecords(harness.hubspot.state, 'contacts', bob, 'companies', acme);

    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'link-1' } },
    });
    expect(started.status).toBe(202);
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    expect(companiesOf(ada)).toEqual([]);
    expect(companiesOf(bob)).toEqual([]);
    // Linked by the earlier batch, which this rollback does not select.
    expect(companiesOf(cy)).toEqual([acme]);
    const view = await api(harness, 'GET', `/v1/admin/rollbacks/${started.body.id}`, { token: ws.adminToken });
    expect(view.body).toMatchObject({ status: 'completed', associations: { removed: 1, conflict: 1 } });
    expect(await eventsOf('record.dissociated')).toEqual([expect.objectContaining({ recordId: ada })]);
    // As people see it: the message is kept apart from the hashed event (it can quote values).
    expect(await approvalEvents(harness, bob, 'record.dissociate_conflict')).toEqual([
      expect.objectContaining({
        recordId: bob,
        data: expect.objectContaining({ message: expect.stringContaining('removed') }),
      }),
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });
});

describe('a change set of associations whose server died after its second batch reached HubSpot', () => {
  it('is finished by recovery, which knows the links it finds are its own, so a rollback removes them all', async () => {
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const people = Array.from({ length: 150 }, (_, i) => contact(`p${i}@acme.com`));
    let calls = 0;
    const dying: ServiceDeps = {
      ...harness.deps,
      changeSetLease: { holder: 'dead-server', leaseMs: 60_000 },
      crmFor: (workspace) => {
        const crm = harness.deps.crmFor(workspace);
        const wrapped = Object.create(crm) as CrmPort;
        const associations = crm.associations!;
        wrapped.associations = {
          ...associations,
          associate: async (input) => {
            calls += 1;
            const outcome = await associations.associate(input);
            // The second batch lands in HubSpot and the process never hears back.
            return calls === 2 ? new Promise(() => undefined) : outcome;
          },
        };
        return wrapped;
      },
    };
    const workspace = (await findWorkspace(harness.deps.db, ws.workspaceId))!;
    const agent = (await findAgent(harness.deps.db, ws.workspaceId, ws.agents[0]!.id))!;
    const request = {
      batchId: 'link-dies',
      objectType: 'contacts' as const,
      changes: people.map((id) => ({
        operation: 'associate' as const,
        recordId: id,
        toObjectType: 'companies' as const,
        toRecordId: acme,
        evidence,
      })),
    };
    void submitChangeSet(dying, { agent, workspace, request });
    for (;;) {
      const [stored] = await harness.deps.db.select().from(changeSets).where(eq(changeSets.batchId, 'link-dies'));
      if (stored && calls === 2 && companiesOf(people[149]!).length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const later: ServiceDeps = {
      ...harness.deps,
      clock: () => new Date(Date.now() + 3_600_000),
      changeSetLease: { holder: 'recovering-server', leaseMs: 60_000 },
    };
    expect(await recoverInterruptedChangeSet(later)).toBe('completed');
    const [stored] = await harness.deps.db.select().from(changeSets).where(eq(changeSets.batchId, 'link-dies'));
    const view = await api(harness, 'GET', `/v1/changesets/${stored!.id}`, { token });
    expect(view.body).toMatchObject({ status: 'completed', summary: { applied: 150 } });
    expect(
      view.body.results.every((result: { reasons: string[] }) => !result.reasons.includes('value_unchanged')),
    ).toBe(true);
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'link-dies' } },
    });
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    expect(people.filter((id) => companiesOf(id).length > 0)).toEqual([]);
  });
});
