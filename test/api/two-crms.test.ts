import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byCrm, salesforceResolver } from '../../server/src/runtime.ts';
import { recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import {
  createSalesforceSandboxServer,
  type SalesforceSandboxServer,
} from '../../server/src/sandbox/salesforce/http-server.ts';
import {
  addClient,
  createRecord,
  createSalesforceSandboxState,
  newId,
  type SalesforceSandboxState,
} from '../../server/src/sandbox/salesforce/state.ts';
import {
  bootstrapWorkspace,
  createAgent,
  createWorkspace,
  listWorkspaceViews,
  publishPolicy,
  setPersonRole,
  verifyAudit,
} from '../../server/src/services/governance/index.ts';
import { setSalesforceSession } from '../../server/src/store/workspace-store.ts';
import { EVIDENCE, runRollback } from '../support/rollbacks.ts';
import { ADMIN, api, startHarness, type Harness } from '../support/harness.ts';

// Issue 20: one workspace holding a HubSpot portal (the fake) and a Salesforce org (the local
// Salesforce) under one policy; every change goes to the CRM its object type names.
let harness: Harness;
let org: SalesforceSandboxState;
let sandbox: SalesforceSandboxServer;
let orgUrl: string;
const REP = newId('005', 1); // the org's admin, who owns the Salesforce contacts below
/** The workspace the first test connects to both CRMs; the second works in it. */
let ws: { id: string; adminToken: string };

const POLICY = {
  name: 'Both CRMs',
  timezone: 'America/New_York',
  objects: {
    contacts: { properties: { jobtitle: { enrichment: 'auto' }, phone: { enrichment: 'approval' } } },
    'salesforce:Contact': { properties: { Title: { enrichment: 'auto' }, Department: { enrichment: 'approval' } } },
  },
};
const SALESFORCE = {
  crm: 'salesforce',
  connection: () => ({
    loginUrl: orgUrl,
    auth: { kind: 'client_credentials', clientId: 'eca', clientSecret: 'secret' },
  }),
};

beforeAll(async () => {
  org = createSalesforceSandboxState();
  addClient(org, { clientId: 'eca', clientSecret: 'secret' });
  sandbox = createSalesforceSandboxServer(org);
  orgUrl = await sandbox.listen(0);
  harness = await startHarness({
    hubspotOverHttp: true,
    crmFor: (hubspot, deps) =>
      byCrm(
        hubspot,
        salesforceResolver({
          secrets: deps.secrets,
          saveSession: (workspaceId, sealed) => setSalesforceSession(deps.db, workspaceId, sealed),
          onBudgetStop: async () => {},
        }),
      ),
  });
});
afterAll(async () => {
  await harness.close();
  await sandbox.close();
});

const sfContact = (id: string) => org.objects.get('Contact')!.records.get(id)!;

async function submit(token: string, batchId: string, objectType: string, changes: Record<string, object>) {
  const res = await api(harness, 'POST', '/v1/changesets', {
    token,
    body: {
      batchId,
      objectType,
      changes: Object.entries(changes).map(([recordId, properties]) => ({ recordId, properties, evidence: EVIDENCE })),
    },
  });
  expect(res.status).toBe(201);
  return res.body as { results: { recordId: string; property: string; decision: string }[] };
}

async function pendingApprovalOf(adminToken: string, batchId: string, recordId: string): Promise<string> {
  const list = await api(harness, 'GET', `/v1/admin/approvals?batch=${batchId}&status=pending`, { token: adminToken });
  expect(list.body.approvals.map((approval: { recordId: string }) => approval.recordId)).toEqual([recordId]);
  return list.body.approvals[0].id as string;
}

async function rollBack(adminToken: string, batchId: string) {
  const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
    token: adminToken,
    body: { selector: { batchId } },
  });
  expect(started.status).toBe(202);
  expect(await runRollback(harness, started.body.id)).toBe('completed');
  return (await api(harness, 'GET', `/v1/admin/rollbacks/${started.body.id}`, { token: adminToken })).body;
}

describe('one workspace with a HubSpot portal and a Salesforce org', () => {
  it('connects the org, refusing what cannot be connected, and leaves workspace list as it was', async () => {
    ws = await createWorkspace(
      harness.deps,
      { name: 'Acme', hubspotPortalId: '4100', hubspotToken: harness.hubspot.accessToken },
      ADMIN,
    );
    const before = await listWorkspaceViews(harness.deps);
    // A policy naming Salesforce's contacts is refused while only the portal is connected.
    const early = await api(harness, 'POST', '/v1/admin/policies', { token: ws.adminToken, body: POLICY });
    expect(early.status).toBe(400);
    expect(early.body.error).toMatchObject({ code: 'POLICY_INVALID' });
    expect(early.body.error.message).toContain('objects.salesforce:Contact');

    const connect = (token: string, body: unknown) =>
      api(harness, 'POST', '/v1/admin/workspace/connections', { token, body });
    const unknown = await connect(ws.adminToken, { crm: 'pipedrive', apiKey: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('VALIDATION_FAILED');
    expect(unknown.body.error.message).toContain('crm must be hubspot or salesforce');

    const connected = await connect(ws.adminToken, { crm: 'salesforce', connection: SALESFORCE.connection() });
    expect(connected).toMatchObject({
      status: 201,
      body: { workspaceId: ws.id, crm: 'salesforce', accountId: org.orgId },
    });
    const again = await connect(ws.adminToken, { crm: 'salesforce', connection: SALESFORCE.connection() });
    expect(again.status).toBe(409);
    expect(again.body.error.details).toMatchObject({ reason: 'already_connected', crm: 'salesforce' });
    const portalAgain = await connect(ws.adminToken, {
      crm: 'hubspot',
      hubspotPortalId: '4100',
      hubspotToken: harness.hubspot.accessToken,
    });
    expect(portalAgain.body.error.details).toMatchObject({ reason: 'already_connected', crm: 'hubspot' });

    // Another workspace may not take the org, whether it connects it or is created for it.
    const other = await createWorkspace(
      harness.deps,
      { name: 'Other', hubspotPortalId: '4200', hubspotToken: harness.hubspot.accessToken },
      ADMIN,
    );
    const taken = await connect(other.adminToken, { crm: 'salesforce', connection: SALESFORCE.connection() });
    expect(taken.status).toBe(409);
    expect(taken.body.error.details).toMatchObject({ reason: 'account_in_use', accountId: org.orgId });
    expect(taken.body.error.message).not.toContain(ws.id);
    // The shape workspace list --json prints is unchanged: the portal stays the workspace's account.
    const after = await listWorkspaceViews(harness.deps);
    expect(after.find((view) => view.id === ws.id)).toEqual(before.find((view) => view.id === ws.id));
  }, 60_000);

  it('writes each agent change set, approval and rollback to the CRM its object type names, under one audit chain', async () => {
    await publishPolicy(harness.deps, ws.id, POLICY, ADMIN);
    const bootstrapped = await bootstrapWorkspace(harness.deps, ws.id, ADMIN);
    expect(bootstrapped.objects.map((object) => object.objectType)).toEqual([
      'contacts',
      'deals',
      'salesforce:Contact',
      'salesforce:Lead',
      'salesforce:Opportunity',
    ]);
    const agent = await createAgent(harness.deps, ws.id, { name: 'enricher', role: 'enrichment' }, ADMIN);
    await setPersonRole(harness.deps, ws.id, { crmUserId: '501', role: 'approver' }, ADMIN);
    // A Salesforce rep: their owner id is asked of the org, and they decide only on records they own.
    await setPersonRole(harness.deps, ws.id, { crmUserId: REP, role: 'rep' }, ADMIN);

    const hs = [0, 1].map((i) =>
      seedRecord(harness.hubspot.state, 'contacts', {
        properties: { email: `h${i}@acme.com`, jobtitle: 'Engineer', phone: '+1 555 0100' },
      }),
    );
    const by = { userId: REP, origin: '' };
    const sf = [0, 1].map((i) =>
      createRecord(org, 'Contact', { LastName: `S${i}`, Title: 'Analyst', Department: 'Ops', OwnerId: REP }, by),
    );

    // Auto writes: each to its own CRM.
    const hsTitles = await submit(agent.token, 'hs-titles', 'contacts', {
      [hs[0]!]: { jobtitle: 'CTO' },
      [hs[1]!]: { jobtitle: 'CFO' },
    });
    expect(hsTitles.results.map((result) => result.decision)).toEqual(['applied', 'applied']);
    const sfTitles = await submit(agent.token, 'sf-titles', 'salesforce:Contact', {
      [sf[0]!]: { Title: 'VP Sales' },
      [sf[1]!]: { Title: 'VP Ops' },
    });
    expect(sfTitles.results.map((result) => result.decision)).toEqual(['applied', 'applied']);
    expect(recordValues(harness.hubspot.state, 'contacts', hs[0]!)).toMatchObject({ jobtitle: 'CTO' });
    expect(recordValues(harness.hubspot.state, 'contacts', hs[1]!)).toMatchObject({ jobtitle: 'CFO' });
    expect(sfContact(sf[0]!)).toMatchObject({ Title: 'VP Sales', Agent_last_agent__c: 'enricher' });
    expect(sfContact(sf[1]!)).toMatchObject({ Title: 'VP Ops' });

    // Held writes: each approved and written to its own CRM.
    const phone = await submit(agent.token, 'hs-phones', 'contacts', { [hs[0]!]: { phone: '+1 555 0199' } });
    expect(phone.results[0]!.decision).toBe('pending_approval');
    const department = await submit(agent.token, 'sf-departments', 'salesforce:Contact', {
      [sf[0]!]: { Department: 'Finance' },
    });
    expect(department.results[0]!.decision).toBe('pending_approval');
    const sfApproval = await pendingApprovalOf(ws.adminToken, 'sf-departments', sf[0]!);
    const stored = await api(harness, 'GET', `/v1/admin/approvals/${sfApproval}`, { token: ws.adminToken });
    expect(stored.body.recordOwnerId).toBe(REP);
    const decide = (approvalId: string, actingUserId: string) =>
      api(harness, 'POST', `/v1/admin/approvals/${approvalId}/decisions`, {
        token: ws.adminToken,
        body: { kind: 'approve', actingUserId },
      });
    expect((await decide(await pendingApprovalOf(ws.adminToken, 'hs-phones', hs[0]!), '501')).body.status).toBe(
      'applied',
    );
    expect((await decide(sfApproval, REP)).body.status).toBe('applied');
    expect(recordValues(harness.hubspot.state, 'contacts', hs[0]!)).toMatchObject({ phone: '+1 555 0199' });
    expect(sfContact(sf[0]!)).toMatchObject({ Department: 'Finance' });

    // Rollbacks: each batch reverted in its own CRM.
    expect((await rollBack(ws.adminToken, 'hs-titles')).counts).toMatchObject({ reverted: 2, failed: 0 });
    expect((await rollBack(ws.adminToken, 'sf-titles')).counts).toMatchObject({ reverted: 2, failed: 0 });
    expect((await rollBack(ws.adminToken, 'sf-departments')).counts).toMatchObject({ reverted: 1, failed: 0 });
    expect((await rollBack(ws.adminToken, 'hs-phones')).counts).toMatchObject({ reverted: 1, failed: 0 });
    expect(recordValues(harness.hubspot.state, 'contacts', hs[0]!)).toMatchObject({
      jobtitle: 'Engineer',
      phone: '+1 555 0100',
    });
    expect(recordValues(harness.hubspot.state, 'contacts', hs[1]!)).toMatchObject({ jobtitle: 'Engineer' });
    expect(sfContact(sf[0]!)).toMatchObject({ Title: 'Analyst', Department: 'Ops' });
    expect(sfContact(sf[1]!)).toMatchObject({ Title: 'Analyst' });

    expect(await verifyAudit(harness.deps, ws.id)).toEqual({ ok: true, events: expect.any(Number) });
  }, 120_000);
});
