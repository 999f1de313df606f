import { and, eq } from 'drizzle-orm';
import type { CrmPort } from '../../server/src/crm/port.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import {
  decideCreation,
  recoverInterruptedChangeSet,
  submitChangeSet,
} from '../../server/src/services/change-sets/index.ts';
import { findAgent } from '../../server/src/store/agent-store.ts';
import { findWorkspace } from '../../server/src/store/workspace-store.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootstrapWorkspace, publishPolicy, verifyAudit } from '../../server/src/services/governance/index.ts';
import { editAsPerson, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { auditEvents, changeSets } from '../../server/src/store/schema.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { approvalEvents, givePeopleRoles } from '../support/approvals.ts';
import { runRollback } from '../support/rollbacks.ts';
import { countingRowsRead } from '../support/rows-read.ts';
import { callMcpTool } from '../support/mcp.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let token: string;

const CONTACT_FIELDS = ['email', 'firstname', 'lastname', 'company', 'jobtitle', 'website'];

function creationPolicy(overrides: { onDuplicate?: string; caps?: Record<string, number>; create?: object } = {}) {
  const base = EXAMPLE_POLICY as { objects: { contacts: { properties: Record<string, object> } } };
  return {
    ...base,
    objects: {
      ...base.objects,
      contacts: {
        properties: {
          ...base.objects.contacts.properties,
          ...Object.fromEntries(CONTACT_FIELDS.map((name) => [name, { prospecting: 'auto' }])),
        },
        create: overrides.create ?? { prospecting: 'auto' },
        ...(overrides.onDuplicate ? { onDuplicate: overrides.onDuplicate } : {}),
      },
    },
    caps: { ...(EXAMPLE_POLICY as { caps: object }).caps, ...overrides.caps },
  };
}

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['prospecting', 'enrichment']);
  token = ws.agents[0]!.token;
  await publishPolicy(harness.deps, ws.workspaceId, creationPolicy(), ADMIN);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
});
afterEach(() => harness.close());

const evidence = { source: 'apollo', reason: 'Found on the company team page', confidence: 0.9 };

function create(properties: Record<string, string>) {
  return { operation: 'create', properties, evidence };
}

function submit(changes: unknown[], agentToken = token) {
  return api(harness, 'POST', '/v1/changesets', {
    token: agentToken,
    body: { batchId: 'prospect-1', objectType: 'contacts', changes },
  });
}

function seedContact(properties: Record<string, string>) {
  return seedRecord(harness.hubspot.state, 'contacts', { properties });
}

describe('POST /v1/changesets with "operation": "create"', () => {
  it('creates the records, with provenance, and the results carry their new ids', async () => {
    const res = await submit([
      create({ email: 'ada@analytical.io', firstname: 'Ada', lastname: 'Lovelace', jobtitle: 'CTO' }),
      create({ email: 'grace@navy.example', firstname: 'Grace', lastname: 'Hopper' }),
    ]);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('completed');
    expect(res.body.summary).toMatchObject({ applied: 2, denied: 0, pending_approval: 0 });
    const [ada, grace] = res.body.results;
    expect(ada).toMatchObject({
      operation: 'create',
      decision: 'applied',
      tier: 'auto',
      reasons: ['tier_auto'],
      recordId: expect.stringMatching(/^[0-9]+$/),
      properties: { email: 'ada@analytical.io', jobtitle: 'CTO' },
    });
    expect(grace.recordId).not.toBe(ada.recordId);
    expect(recordValues(harness.hubspot.state, 'contacts', ada.recordId)).toMatchObject({
      email: 'ada@analytical.io',
      jobtitle: 'CTO',
      ag_last_change_id: res.body.id,
      ag_last_agent: 'prospecting-agent',
      ag_last_source: 'apollo',
      ag_create_ref: ada.changeId,
    });
    expect(recordValues(harness.hubspot.state, 'contacts', grace.recordId)).toMatchObject({ lastname: 'Hopper' });

    const again = await api(harness, 'GET', `/v1/changesets/${res.body.id}`, { token });
    expect(again.body).toEqual(res.body);
    const created = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.changeSetId, res.body.id), eq(auditEvents.type, 'record.created')));
    expect(created.map((event) => event.recordId).sort()).toEqual([ada.recordId, grace.recordId].sort());
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('refuses likely duplicates: the same email, the same name at the same company domain, or an earlier entry', async () => {
    const byEmail = seedContact({ email: 'Ada@Analytical.io', firstname: 'Ada', lastname: 'Lovelace' });
    const byName = seedContact({ email: 'zoe.obrien@acme.com', firstname: 'Zoë', lastname: "O'Brien" });
    seedContact({ email: 'sam.smith@gmail.com', firstname: 'Sam', lastname: 'Smith' });
    const res = await submit([
      create({ email: 'ada@analytical.io', firstname: 'Augusta', lastname: 'King' }),
      create({ email: 'z.obrien@acme.com', firstname: 'zoe', lastname: "o'brien  " }),
      create({ email: 'sam.smith2@gmail.com', firstname: 'Sam', lastname: 'Smith' }),
      create({ email: 'new@fresh.io', firstname: 'New', lastname: 'Person' }),
      create({ email: 'NEW@fresh.io', firstname: 'Newer', lastname: 'Person' }),
    ]);
    expect(res.status).toBe(201);
    const [email, name, freeMail, fresh, repeat] = res.body.results;
    expect(email).toMatchObject({ decision: 'denied', tier: 'deny', duplicateOf: byEmail, recordId: null });
    expect(email.reasons).toContain('duplicate_of');
    expect(name).toMatchObject({ decision: 'denied', duplicateOf: byName });
    // Two Sam Smiths at a free-mail provider are not taken for one person.
    expect(freeMail).toMatchObject({ decision: 'applied' });
    expect(fresh).toMatchObject({ decision: 'applied' });
    expect(repeat).toMatchObject({ decision: 'denied', message: expect.stringContaining('entry 4') });
    expect(repeat.reasons).toContain('duplicate_of');
    expect(repeat.duplicateOf).toBeUndefined();
    expect(harness.hubspot.state.objects.contacts.records.size).toBe(5);
  });

  it("finds our own creation that HubSpot's search index does not show yet, by email and by name at a domain", async () => {
    harness.hubspot.state.faults.searchIndexLagMs = 60_000;
    const first = await submit([
      create({ email: 'ada@analytical.io', firstname: 'Ada', lastname: 'Lovelace' }),
      create({ email: 'zoe@acme.com', firstname: 'Zoë', lastname: "O'Brien" }),
    ]);
    const [ada, zoe] = first.body.results;
    expect([ada.decision, zoe.decision]).toEqual(['applied', 'applied']);
    const again = await submit([
      create({ email: ' ADA@analytical.io', firstname: 'Augusta', lastname: 'King' }),
      create({ email: 'z.obrien@acme.com', firstname: 'zoe', lastname: "o'brien" }),
    ]);
    const [byEmail, byName] = again.body.results;
    expect(byEmail).toMatchObject({ decision: 'denied', duplicateOf: ada.recordId });
    expect(byEmail.reasons).toContain('duplicate_of');
    expect(byName).toMatchObject({ decision: 'denied', duplicateOf: zoe.recordId });
    expect(harness.hubspot.state.objects.contacts.records.size).toBe(2);
  });

  it('creates a person once when two change sets ask for the same one at the same moment', async () => {
    harness.hubspot.state.faults.searchIndexLagMs = 60_000;
    harness.hubspot.state.faults.latencyMs = 50;
    const [one, two] = await Promise.all([
      submit([create({ email: 'grace@navy.example', firstname: 'Grace', lastname: 'Hopper' })]),
      submit([create({ email: 'Grace@Navy.example', firstname: 'Grace', lastname: 'Hopper' })]),
    ]);
    const results = [one.body.results[0], two.body.results[0]];
    expect(results.map((result) => result.decision).sort()).toEqual(['applied', 'denied']);
    const refused = results.find((result) => result.decision === 'denied');
    expect(refused.reasons).toContain('duplicate_of');
    expect(harness.hubspot.state.objects.contacts.records.size).toBe(1);
  });

  it('does not count a creation that was rolled back as a duplicate', async () => {
    const first = await submit([create({ email: 'once@fresh.io', lastname: 'Once' })]);
    expect(first.body.results[0].decision).toBe('applied');
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'prospect-1' } },
    });
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    harness.hubspot.state.faults.searchIndexLagMs = 60_000;
    const again = await submit([create({ email: 'once@fresh.io', lastname: 'Once' })]);
    expect(again.body.results[0].decision).toBe('applied');
  });

  it('holds a likely duplicate for a person when the policy says approval, and creates nothing', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, creationPolicy({ onDuplicate: 'approval' }), ADMIN);
    const existing = seedContact({ email: 'ada@analytical.io', lastname: 'Lovelace' });
    const res = await submit([create({ email: 'ada@analytical.io', lastname: 'Lovelace' })]);
    expect(res.body.results[0]).toMatchObject({
      decision: 'pending_approval',
      tier: 'approval',
      reasons: ['tier_auto', 'duplicate_of'],
      duplicateOf: existing,
      recordId: null,
    });
    expect(harness.hubspot.state.objects.contacts.records.size).toBe(1);
  });

  it('checks 250 entries for duplicates with one search call per 100 and creates them 100 a call', async () => {
    for (let i = 0; i < 20; i++) seedContact({ email: `old${i}@bulk.io`, firstname: 'Old', lastname: `N${i}` });
    const calls = harness.hubspot.state.calls;
    const searchesBefore = calls.count({ route: 'POST /crm/v3/objects/{type}/search' });
    const res = await submit(
      Array.from({ length: 250 }, (_, i) =>
        create({ email: `${i < 10 ? 'old' : 'new'}${i}@bulk.io`, lastname: `N${i}` }),
      ),
    );
    expect(res.status).toBe(201);
    expect(res.body.summary).toMatchObject({ applied: 240, denied: 10 });
    expect(calls.count({ route: 'POST /crm/v3/objects/{type}/search' }) - searchesBefore).toBe(3);
    expect(calls.count({ route: 'POST /crm/v3/objects/{type}/batch/create' })).toBe(3);
  });

  it('denies creation to a role the policy does not let create, and a property it may not set', async () => {
    const enrichment = ws.agents[1]!.token;
    const refused = await submit([create({ email: 'a@b.io', lastname: 'B' })], enrichment);
    expect(refused.body.results[0]).toMatchObject({ decision: 'denied', reasons: ['field_not_allowed'] });
    const unnamed = await submit([create({ email: 'c@d.io', lastname: 'D', hs_email_optout: 'true' })]);
    expect(unnamed.body.results[0]).toMatchObject({ decision: 'denied', tier: 'deny' });
    expect(unnamed.body.results[0].reasons).toContain('tier_auto');
    expect(harness.hubspot.state.objects.contacts.records.size).toBe(0);
  });

  it('counts creations against their own daily cap', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, creationPolicy({ caps: { createsPerAgentPerDay: 2 } }), ADMIN);
    const res = await submit([
      create({ email: 'one@x.io', lastname: 'One' }),
      create({ email: 'two@x.io', lastname: 'Two' }),
      create({ email: 'three@x.io', lastname: 'Three' }),
    ]);
    expect(res.body.results.map((result: { decision: string }) => result.decision)).toEqual([
      'applied',
      'applied',
      'denied',
    ]);
    expect(res.body.results[2].reasons).toContain('cap_agent_daily_creates_reached');
  });

  it('tells the agent (what_may_i_change) what it may create and how many creations its cap leaves today', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, creationPolicy({ caps: { createsPerAgentPerDay: 3 } }), ADMIN);
    await submit([create({ email: 'one@x.io', lastname: 'One' })]);
    const { texts } = await callMcpTool(harness, token, 'what_may_i_change', {});
    const view = JSON.parse(texts[1]!);
    expect(view).toMatchObject({
      creates: { contacts: { tier: 'auto', onDuplicate: 'deny' }, deals: { tier: 'deny' } },
      createsToday: { used: 1, left: 2 },
      associationsToday: { used: 0 },
    });
  });

  it('refuses a change set that mixes creations and updates', async () => {
    const id = seedContact({ email: 'x@y.io' });
    const res = await submit([
      create({ email: 'a@b.io' }),
      { recordId: id, properties: { jobtitle: 'CEO' }, evidence },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(res.body.error.details)).toContain('mixes creations and updates');
  });
});

describe('rolling back a batch that created records', () => {
  it('stops archiving the records it created once paused, and archives the rest when resumed', async () => {
    const res = await submit(
      Array.from({ length: 150 }, (_, i) => create({ email: `p${i}@pause.io`, lastname: `P${i}` })),
    );
    expect(res.body.summary).toMatchObject({ applied: 150 });
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'prospect-1' } },
    });
    const archive = harness.hubspot.faults.hold('POST /crm/v3/objects/{type}/batch/archive');
    const run = runRollback(harness, started.body.id);
    await archive.arrived;
    const pause = `/v1/admin/rollbacks/${started.body.id}/pause`;
    expect((await api(harness, 'POST', pause, { token: ws.adminToken })).status).toBe(200);
    archive.release();
    expect(await run).toBe('paused');
    const left = () => harness.hubspot.state.objects.contacts.records.size;
    expect(left()).toBe(50);
    const view = await api(harness, 'GET', `/v1/admin/rollbacks/${started.body.id}`, { token: ws.adminToken });
    expect(view.body).toMatchObject({ status: 'paused', createdRecords: { archived: 100 } });

    await api(harness, 'POST', `/v1/admin/rollbacks/${started.body.id}/resume`, { token: ws.adminToken });
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    expect(left()).toBe(0);
  });

  it('archives the records it created, unless a person changed one since: that one is a conflict', async () => {
    const res = await submit([
      create({ email: 'one@x.io', lastname: 'One' }),
      create({ email: 'two@x.io', lastname: 'Two' }),
      create({ email: 'three@x.io', lastname: 'Three' }),
    ]);
    const [one, two, three] = res.body.results.map((result: { recordId: string }) => result.recordId);
    // jobtitle is not one the agent set, but the policy governs it: a person's edit there counts.
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: two,
      properties: { jobtitle: 'VP' },
      userId: 1001,
    });
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'prospect-1' } },
    });
    expect(started.status).toBe(202);
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    const state = harness.hubspot.state.objects.contacts.records;
    expect(state.has(one)).toBe(false);
    expect(state.has(two)).toBe(true);
    expect(state.has(three)).toBe(false);
    const view = await api(harness, 'GET', `/v1/admin/rollbacks/${started.body.id}`, { token: ws.adminToken });
    expect(view.body).toMatchObject({ status: 'completed', createdRecords: { archived: 2, conflict: 1 } });
    // As people see it: the message, which can quote values, is kept apart from the hashed event.
    const conflicts = await approvalEvents(harness, two, 'record.archive_conflict');
    expect(conflicts).toEqual([
      expect.objectContaining({
        recordId: two,
        data: expect.objectContaining({ message: expect.stringContaining('jobtitle by user 1001') }),
      }),
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });
});

describe('a change set of creations whose server died after its second batch reached HubSpot', () => {
  it('is finished by recovery: what landed is found by its ag_create_ref, the rest created once', async () => {
    let creates = 0;
    const dying: ServiceDeps = {
      ...harness.deps,
      changeSetLease: { holder: 'dead-server', leaseMs: 60_000 },
      crmFor: (workspace) => {
        const crm = harness.deps.crmFor(workspace);
        const wrapped = Object.create(crm) as CrmPort;
        wrapped.createBatch = async (input) => {
          creates += 1;
          const outcome = await crm.createBatch!(input);
          // The second batch lands in HubSpot and the process never hears back.
          return creates === 2 ? new Promise(() => undefined) : outcome;
        };
        return wrapped;
      },
    };
    const workspace = (await findWorkspace(harness.deps.db, ws.workspaceId))!;
    const agent = (await findAgent(harness.deps.db, ws.workspaceId, ws.agents[0]!.id))!;
    const request = {
      batchId: 'prospect-dies',
      objectType: 'contacts' as const,
      changes: Array.from({ length: 250 }, (_, i) => ({
        operation: 'create' as const,
        properties: { email: `p${i}@dies.io`, lastname: `P${i}` },
        evidence,
      })),
    };
    void submitChangeSet(dying, { agent, workspace, request });
    for (;;) {
      const [stored] = await harness.deps.db.select().from(changeSets).where(eq(changeSets.batchId, 'prospect-dies'));
      if (stored && creates === 2) {
        const view = await api(harness, 'GET', `/v1/changesets/${stored.id}`, { token });
        if (view.body.summary.applied === 100) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(harness.hubspot.state.objects.contacts.records.size).toBe(200);
    const later: ServiceDeps = {
      ...harness.deps,
      clock: () => new Date(Date.now() + 3_600_000),
      changeSetLease: { holder: 'recovering-server', leaseMs: 60_000 },
    };
    expect(await recoverInterruptedChangeSet(later)).toBe('completed');
    expect(harness.hubspot.state.objects.contacts.records.size).toBe(250);
    const [stored] = await harness.deps.db.select().from(changeSets).where(eq(changeSets.batchId, 'prospect-dies'));
    const view = await api(harness, 'GET', `/v1/changesets/${stored!.id}`, { token });
    expect(view.body).toMatchObject({ status: 'completed', summary: { applied: 250 } });
    const recordIds = view.body.results.map((result: { recordId: string }) => result.recordId);
    expect(new Set(recordIds).size).toBe(250);
    for (const [i, recordId] of recordIds.entries())
      expect(recordValues(harness.hubspot.state, 'contacts', recordId)).toMatchObject({ email: `p${i}@dies.io` });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });
});

describe('POST /v1/admin/creations/:id/decisions', () => {
  const decide = (changeId: string, body: object) =>
    api(harness, 'POST', `/v1/admin/creations/${changeId}/decisions`, { token: ws.adminToken, body });

  it('creates a held record once two different people approve it (two_person), and refuses a rep and a repeat', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, creationPolicy({ create: { prospecting: 'two_person' } }), ADMIN);
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '502': 'revops_admin', '1001': 'rep' });
    const res = await submit([create({ email: 'held@x.io', lastname: 'Held' })]);
    const held = res.body.results[0];
    expect(held).toMatchObject({ decision: 'pending_approval', tier: 'two_person', recordId: null });

    const rep = await decide(held.changeId, { kind: 'approve', actingUserId: '1001' });
    expect(rep).toMatchObject({ status: 403, body: { error: { details: { refusal: 'not_record_owner' } } } });
    const first = await decide(held.changeId, { kind: 'approve', actingUserId: '501' });
    expect(first).toMatchObject({ status: 200, body: { decision: 'pending_approval', recordId: null } });
    const again = await decide(held.changeId, { kind: 'approve', actingUserId: '501' });
    expect(again.body.error.details.refusal).toBe('already_approved_by_this_person');
    expect(harness.hubspot.state.objects.contacts.records.size).toBe(0);

    const second = await decide(held.changeId, { kind: 'approve', actingUserId: '502' });
    expect(second).toMatchObject({ status: 200, body: { decision: 'applied', recordId: expect.any(String) } });
    expect(recordValues(harness.hubspot.state, 'contacts', second.body.recordId)).toMatchObject({
      email: 'held@x.io',
      ag_create_ref: held.changeId,
    });
    const view = await api(harness, 'GET', `/v1/changesets/${res.body.id}`, { token });
    expect(view.body.results[0]).toMatchObject({ decision: 'applied', recordId: second.body.recordId });
    const closed = await decide(held.changeId, { kind: 'reject', actingUserId: '501', reason: 'late' });
    expect(closed).toMatchObject({ status: 409, body: { error: { code: 'APPROVAL_NOT_DECIDABLE' } } });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('reads as many rows to decide a held creation in a change set of 2,000 entries as in one of 10', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, creationPolicy({ create: { prospecting: 'approval' } }), ADMIN);
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    const workspace = (await findWorkspace(harness.database.db, ws.workspaceId))!;
    const counting = countingRowsRead(harness.database);
    const rowsToApproveOneOf = async (size: number) => {
      const entries = Array.from({ length: size }, (_, i) =>
        create({ email: `held-${size}-${i}@x.io`, lastname: `Held${size}x${i}` }),
      );
      const held = (await submit(entries)).body.results[size - 1];
      const before = counting.rowsRead();
      const decided = await decideCreation(
        { ...harness.deps, db: counting.db },
        { workspace, creationId: held.changeId, request: { kind: 'approve', actingUserId: '501' } },
      );
      expect(decided).toMatchObject({ changeId: held.changeId, decision: 'applied', recordId: expect.any(String) });
      return counting.rowsRead() - before;
    };

    const small = await rowsToApproveOneOf(10);
    expect(await rowsToApproveOneOf(2_000)).toBe(small);
    expect(small).toBeLessThan(20);
  });

  it('refuses a held likely duplicate for good when a person rejects it', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, creationPolicy({ onDuplicate: 'approval' }), ADMIN);
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    seedContact({ email: 'ada@analytical.io' });
    const res = await submit([create({ email: 'ada@analytical.io', lastname: 'Lovelace' })]);
    const rejected = await decide(res.body.results[0].changeId, {
      kind: 'reject',
      actingUserId: '501',
      reason: 'Same person',
    });
    expect(rejected.body).toMatchObject({ decision: 'denied', message: 'Rejected by CRM user 501: Same person' });
    expect(harness.hubspot.state.objects.contacts.records.size).toBe(1);
  });
});
