import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { followSandboxChangeStreams } from '../support/change-streams.ts';
import { hubspotOrSalesforce, sandboxSalesforceConnection } from '../support/salesforce.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, desc, eq } from 'drizzle-orm';
import { associationsOf, customStore } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { type RunningSalesforceSandbox, startSalesforceSandbox } from '../../server/src/sandbox/salesforce/start.ts';
import { createRecord, newId } from '../../server/src/sandbox/salesforce/state.ts';
import {
  bootstrapWorkspace,
  createAgent,
  createSalesforceWorkspace,
  createWorkspace,
  listWorkspaceViews,
  publishPolicy,
  removeWorkspace,
  setPersonRole,
  verifyAudit,
} from '../../server/src/services/governance/index.ts';
import { retryDueApplies, syncWorkspaceMirror } from '../../server/src/services/held/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import { approvals, auditEvents } from '../../server/src/store/schema.ts';
import { EVIDENCE, runRollback } from '../support/rollbacks.ts';
import { cliOver } from '../support/cli.ts';
import { consoleCall, signInAs } from '../support/console.ts';
import { deliver, historyRows, propertyChange } from '../support/webhooks.ts';
import { ADMIN, api, startHarness, type Harness } from '../support/harness.ts';

// Issue 20: one workspace holding a HubSpot portal (the fake) and a Salesforce org (the local
// Salesforce) under one policy; every change goes to the CRM its object type names.
let harness: Harness;
let sandbox: RunningSalesforceSandbox;
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
const salesforceConnection = () => sandboxSalesforceConnection(sandbox.url);

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, seed: false });
  harness = await startHarness({
    hubspotOverHttp: true,
    crmFor: hubspotOrSalesforce,
  });
});
afterAll(async () => {
  await harness.close();
  await sandbox.close();
});

const sfContact = (id: string) => sandbox.state.objects.get('Contact')!.records.get(id)!;
/** The Agent_Approval__c record in the local Salesforce for one of our approvals, with its id. */
const sfApprovalRecordOf = (approvalId: string) => {
  const records = sandbox.state.objects.get('Agent_Approval__c')?.records ?? new Map();
  const found = [...records].find(([, values]) => values.Agent_approval_id__c === approvalId);
  return found && { Id: found[0] as string, ...found[1] };
};
/** The Agent Approval record in the fake HubSpot for one of our approvals, with its id. */
const hsApprovalRecordOf = (approvalId: string) => {
  const store = customStore(harness.hubspot.state, 'agent_approval');
  const record = [...(store?.records.values() ?? [])].find(
    (candidate) => candidate.properties['ag_approval_id'] === approvalId,
  );
  return record && { id: record.id, ...record.properties };
};

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
  it('connects the org, refusing what cannot be connected, and adds it to workspace list', async () => {
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

    // Where to sign in and with what are the request's own: an address that answers nothing or
    // something else, and a key that is no private key are 422s the admin can act on, not failures of this server (the fuzz drill).
    const unreachable = await connect(ws.adminToken, {
      crm: 'salesforce',
      connection: { ...salesforceConnection(), loginUrl: 'https://127.0.0.1:9' },
    });
    expect(unreachable.status).toBe(422);
    expect(unreachable.body.error).toMatchObject({
      code: 'CRM_SIGN_IN_FAILED',
      details: { reason: 'CRM_UNAVAILABLE' },
    });
    // The cause is the network's own words (fetch failed), set in a sentence that still ends before the next.
    expect(unreachable.body.error.message).toMatch(/could not be reached \(.+\)\. Nothing was stored\.$/);
    for (const loginUrl of ['file:///etc/passwd', 'data:text/plain,token']) {
      const notHttp = await connect(ws.adminToken, {
        crm: 'salesforce',
        connection: { ...salesforceConnection(), loginUrl },
      });
      expect(notHttp.status).toBe(400);
      expect(notHttp.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { issues: [{ path: 'connection.loginUrl', message: expect.stringContaining('My Domain URL') }] },
      });
    }
    // An address where something else answers 200 (a web page, the Lightning URL) is no token endpoint.
    const webPage = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Acme</title>');
    });
    await new Promise<void>((resolve) => webPage.listen(0, '127.0.0.1', resolve));
    const pageUrl = `http://127.0.0.1:${(webPage.address() as AddressInfo).port}`;
    const notSalesforce = await connect(ws.adminToken, {
      crm: 'salesforce',
      connection: { ...salesforceConnection(), loginUrl: pageUrl },
    });
    webPage.close();
    expect(notSalesforce.status).toBe(422);
    expect(notSalesforce.body.error).toMatchObject({
      code: 'CRM_SIGN_IN_FAILED',
      details: { reason: 'CRM_AUTH_FAILED' },
    });
    expect(notSalesforce.body.error.message).toContain('My Domain URL');
    const notAKey = await connect(ws.adminToken, {
      crm: 'salesforce',
      connection: {
        loginUrl: sandbox.url,
        auth: {
          kind: 'jwt_bearer',
          clientId: 'app',
          username: 'api@example.com',
          privateKeyPem: 'T#PRIVATE KEY%nP@e:',
        },
      },
    });
    expect(notAKey.status).toBe(422);
    expect(notAKey.body.error).toMatchObject({ code: 'CRM_SIGN_IN_FAILED', details: { reason: 'CRM_AUTH_FAILED' } });
    expect(notAKey.body.error.message).toContain('privateKeyPem');
    expect(await listWorkspaceViews(harness.deps)).toEqual(before);

    const connected = await connect(ws.adminToken, { crm: 'salesforce', connection: salesforceConnection() });
    expect(connected).toMatchObject({
      status: 201,
      body: { workspaceId: ws.id, crm: 'salesforce', accountId: sandbox.orgId },
    });
    const again = await connect(ws.adminToken, { crm: 'salesforce', connection: salesforceConnection() });
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
    const taken = await connect(other.adminToken, { crm: 'salesforce', connection: salesforceConnection() });
    expect(taken.status).toBe(409);
    expect(taken.body.error.details).toMatchObject({ reason: 'account_in_use', accountId: sandbox.orgId });
    expect(taken.body.error.message).not.toContain(ws.id);
    // The shape workspace list --json prints keeps every field: the portal stays the workspace's
    // account, and its connections list the org after it.
    const after = await listWorkspaceViews(harness.deps);
    const was = before.find((view) => view.id === ws.id)!;
    expect(after.find((view) => view.id === ws.id)).toEqual({
      ...was,
      connections: [...was.connections, { crm: 'salesforce', accountId: sandbox.orgId }],
    });
  }, 60_000);

  it('refuses a policy giving an agent a tier on a field the org lets no one set; a deny-only one protects it', async () => {
    const publish = (properties: object) =>
      api(harness, 'POST', '/v1/admin/policies', {
        token: ws.adminToken,
        body: { ...POLICY, objects: { ...POLICY.objects, 'salesforce:Contact': { properties } } },
      });
    const refused = await publish({ Title: { enrichment: 'auto' }, Id: { enrichment: 'auto' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'POLICY_INVALID',
      details: {
        issues: [expect.stringContaining('objects.salesforce:Contact.properties.Id: the CRM lets no one set')],
      },
    });
    expect((await publish({ Title: { enrichment: 'auto' }, Id: { '*': 'deny' } })).status).toBe(201);
  });

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
    // The approval object is made in both CRMs, each linked to its own objects.
    expect(bootstrapped.approvalObjects).toEqual([
      {
        crm: 'hubspot',
        objectTypeId: customStore(harness.hubspot.state, 'agent_approval')!.schema.objectTypeId,
        created: true,
      },
      { crm: 'salesforce', objectTypeId: 'Agent_Approval__c', created: true },
    ]);
    expect(sandbox.state.objects.get('Agent_Approval__c')).toBeDefined();
    const again = await bootstrapWorkspace(harness.deps, ws.id, ADMIN);
    expect(again.approvalObjects.map((made) => made.created)).toEqual([false, false]);
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
      createRecord(
        sandbox.state,
        'Contact',
        { LastName: `S${i}`, Title: 'Analyst', Department: 'Ops', OwnerId: REP },
        by,
      ),
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
    // The mirror writes each held value's proposal, and its approval's record, into its own CRM.
    expect(await syncWorkspaceMirror(harness.deps, ws.id)).toEqual({ written: 2, failed: [] });
    expect(sfContact(sf[0]!)).toMatchObject({ Proposed_Department__c: 'Finance', Agent_pending_approvals__c: '1' });
    expect(recordValues(harness.hubspot.state, 'contacts', hs[0]!)).toMatchObject({ ag_proposed_phone: '+1 555 0199' });
    const sfApproval = await pendingApprovalOf(ws.adminToken, 'sf-departments', sf[0]!);
    const hsApproval = await pendingApprovalOf(ws.adminToken, 'hs-phones', hs[0]!);
    expect(sfApprovalRecordOf(sfApproval)).toMatchObject({ Contact__c: sf[0], Agent_status__c: 'pending' });
    expect(hsApprovalRecordOf(hsApproval)).toMatchObject({ ag_status: 'pending' });
    // Each CRM holds its own records' approvals only.
    expect(sfApprovalRecordOf(hsApproval)).toBeUndefined();
    expect(hsApprovalRecordOf(sfApproval)).toBeUndefined();
    const stored = await api(harness, 'GET', `/v1/admin/approvals/${sfApproval}`, { token: ws.adminToken });
    expect(stored.body.recordOwnerId).toBe(REP);
    const decide = (approvalId: string, actingUserId: string) =>
      api(harness, 'POST', `/v1/admin/approvals/${approvalId}/decisions`, {
        token: ws.adminToken,
        body: { kind: 'approve', actingUserId },
      });
    expect((await decide(hsApproval, '501')).body.status).toBe('applied');
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

  it('follows the org’s change events: a person’s edit in Salesforce makes a held write there stale, and a status set on its Agent_Approval__c record decides one, a rejection said to be made in Salesforce', async () => {
    const agent = await createAgent(harness.deps, ws.id, { name: 'follower-test', role: 'enrichment' }, ADMIN);
    const contact = createRecord(
      sandbox.state,
      'Contact',
      { LastName: 'Stale', OwnerId: REP },
      { userId: REP, origin: '' },
    );
    await submit(agent.token, 'sf-stale', 'salesforce:Contact', { [contact]: { Department: 'Legal' } });
    const approvalId = await pendingApprovalOf(ws.adminToken, 'sf-stale', contact);
    const decided = createRecord(
      sandbox.state,
      'Contact',
      { LastName: 'Decided', Department: 'Ops', OwnerId: REP },
      { userId: REP, origin: '' },
    );
    await submit(agent.token, 'sf-decided', 'salesforce:Contact', { [decided]: { Department: 'Finance' } });
    const decidedId = await pendingApprovalOf(ws.adminToken, 'sf-decided', decided);
    const refused = createRecord(
      sandbox.state,
      'Contact',
      { LastName: 'Refused', Department: 'Ops', OwnerId: REP },
      { userId: REP, origin: '' },
    );
    await submit(agent.token, 'sf-refused', 'salesforce:Contact', { [refused]: { Department: 'Legal' } });
    const refusedId = await pendingApprovalOf(ws.adminToken, 'sf-refused', refused);
    expect((await syncWorkspaceMirror(harness.deps, ws.id)).failed).toEqual([]);
    const approvalRecord = sfApprovalRecordOf(decidedId);
    expect(approvalRecord).toMatchObject({ Contact__c: decided, Agent_status__c: 'pending' });
    const followers = followSandboxChangeStreams(harness.deps, sandbox.pubSubEndpoint);
    try {
      const edited = await fetch(`${sandbox.url}/_sandbox/edit`, {
        method: 'POST',
        body: JSON.stringify({ object: 'Contact', id: contact, values: { Department: 'Sales' } }),
      });
      expect(edited.status).toBe(200);
      const status = async () =>
        (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!.status;
      for (let i = 0; (await status()) !== 'stale'; i++) {
        if (i > 600) throw new Error(`the approval never went stale: ${await status()}`);
        while ((await processWebhookEvents(harness.deps)) > 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      // The contact's owner (a rep, the org's admin) approves on the approval record, inside Salesforce.
      const approved = await fetch(`${sandbox.url}/_sandbox/edit`, {
        method: 'POST',
        body: JSON.stringify({
          object: 'Agent_Approval__c',
          id: approvalRecord!.Id,
          values: { Agent_status__c: 'approved' },
        }),
      });
      expect(approved.status).toBe(200);
      const decision = async () =>
        (await harness.database.db.select().from(approvals).where(eq(approvals.id, decidedId)))[0]!.status;
      for (let i = 0; (await decision()) === 'pending'; i++) {
        if (i > 600) throw new Error('the decision never arrived');
        while ((await processWebhookEvents(harness.deps)) > 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await decision()).toBe('approved');
      expect(await retryDueApplies(harness.deps, { workspaceId: ws.id })).toBe(1);
      expect(await decision()).toBe('applied');
      expect(sfContact(decided)).toMatchObject({ Department: 'Finance' });
      const [decidedEvent] = await harness.database.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.workspaceId, ws.id), eq(auditEvents.type, 'approval.decided')))
        .orderBy(desc(auditEvents.seq))
        .limit(1);
      expect(decidedEvent).toMatchObject({ actor: { type: 'person', crmUserId: REP } });

      // A rejection there is said to have been made in Salesforce, where its approval record is.
      const rejected = await fetch(`${sandbox.url}/_sandbox/edit`, {
        method: 'POST',
        body: JSON.stringify({
          object: 'Agent_Approval__c',
          id: sfApprovalRecordOf(refusedId)!.Id,
          values: { Agent_status__c: 'rejected' },
        }),
      });
      expect(rejected.status).toBe(200);
      const refusal = async () =>
        (await harness.database.db.select().from(approvals).where(eq(approvals.id, refusedId)))[0]!;
      for (let i = 0; (await refusal()).status === 'pending'; i++) {
        if (i > 600) throw new Error('the rejection never arrived');
        while ((await processWebhookEvents(harness.deps)) > 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await refusal()).toMatchObject({
        status: 'rejected',
        message: 'Rejected in Salesforce on the approval record.',
      });
    } finally {
      await followers.stop();
    }
  }, 120_000);

  it('connects a portal to a Salesforce workspace with workspace connect, takes its webhooks, signed with its own secret, and a decision on its Agent Approval record', async () => {
    // Removing the workspace gives its org and its portal back.
    await removeWorkspace(harness.deps, ws.id, { force: true }, ADMIN);
    const org = await createSalesforceWorkspace(
      harness.deps,
      { name: 'Org first', connection: salesforceConnection() },
      ADMIN,
    );
    const portal = harness.hubspot.state.portalId;
    const connect = (token: string) =>
      cliOver(
        harness,
        'workspace',
        'connect',
        '--workspace',
        org.id,
        '--crm',
        'hubspot',
        '--hubspot-portal-id',
        portal,
        '--hubspot-token',
        token,
        '--hubspot-client-secret',
        'portal-secret',
        '--json',
      );
    // The token is checked as workspace add checks it: a refused one stores nothing.
    const refused = await connect('pat-na1-mistyped');
    expect(refused.json.error).toMatchObject({ code: 'CRM_SIGN_IN_FAILED', details: { reason: 'CRM_AUTH_FAILED' } });
    expect((await listWorkspaceViews(harness.deps)).find((view) => view.id === org.id)).toMatchObject({
      crm: 'salesforce',
      hubspotPortalId: `salesforce:${sandbox.orgId}`,
    });
    const connected = await connect(harness.hubspot.accessToken);
    expect(connected).toMatchObject({ code: 0, json: { workspaceId: org.id, crm: 'hubspot', accountId: portal } });
    await publishPolicy(harness.deps, org.id, POLICY, ADMIN);
    const edit = propertyChange(Number(portal), { objectId: 4242, propertyName: 'jobtitle', propertyValue: 'CEO' });
    expect((await deliver(harness, [edit], { clientSecret: 'portal-secret' })).status).toBe(200);
    while ((await processWebhookEvents(harness.deps)) > 0);
    // Read as HubSpot reports it: a person's edit in the portal's UI.
    expect(await historyRows(harness.deps.db, org.id)).toEqual([
      expect.objectContaining({ objectType: 'contacts', recordId: '4242', property: 'jobtitle', kind: 'person' }),
    ]);

    // Bootstrap makes the approval object in the portal too; a held write on a portal's contact gets
    // its record there, linked to the contact, and a person's status on it is their decision.
    const bootstrapped = await bootstrapWorkspace(harness.deps, org.id, ADMIN);
    const objectTypeId = customStore(harness.hubspot.state, 'agent_approval')!.schema.objectTypeId;
    expect(bootstrapped.approvalObjects).toEqual([
      { crm: 'salesforce', objectTypeId: 'Agent_Approval__c', created: false },
      { crm: 'hubspot', objectTypeId, created: false },
    ]);
    const agent = await createAgent(harness.deps, org.id, { name: 'enricher', role: 'enrichment' }, ADMIN);
    await setPersonRole(harness.deps, org.id, { crmUserId: '501', role: 'approver' }, ADMIN);
    const contact = seedRecord(harness.hubspot.state, 'contacts', {
      properties: { email: 'second@acme.com', phone: '+1 555 0100' },
    });
    await submit(agent.token, 'hs-second', 'contacts', { [contact]: { phone: '+1 555 0142' } });
    const approvalId = await pendingApprovalOf(org.adminToken, 'hs-second', contact);
    expect((await syncWorkspaceMirror(harness.deps, org.id)).failed).toEqual([]);
    const approvalRecord = hsApprovalRecordOf(approvalId);
    expect(approvalRecord).toMatchObject({ ag_status: 'pending' });
    expect(associationsOf(harness.hubspot.state, 'agent_approval', approvalRecord!.id)).toEqual([`0-1:${contact}`]);
    expect(sfApprovalRecordOf(approvalId)).toBeUndefined();

    const decision = propertyChange(Number(portal), {
      subscriptionType: 'object.propertyChange',
      objectTypeId,
      objectId: Number(approvalRecord!.id),
      propertyName: 'ag_status',
      propertyValue: 'approved',
      sourceId: 'userId:501',
    });
    expect((await deliver(harness, [decision], { clientSecret: 'portal-secret' })).status).toBe(200);
    while ((await processWebhookEvents(harness.deps)) > 0);
    const status = async () =>
      (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!.status;
    expect(await status()).toBe('approved');
    expect(await retryDueApplies(harness.deps, { workspaceId: org.id })).toBe(1);
    expect(await status()).toBe('applied');
    expect(recordValues(harness.hubspot.state, 'contacts', contact)).toMatchObject({ phone: '+1 555 0142' });

    // The portal's teams are listed to give roles to, though the org (which has none) is the first CRM.
    await setPersonRole(harness.deps, org.id, { crmUserId: REP, role: 'revops_admin' }, ADMIN);
    const teams = await consoleCall(harness, await signInAs(harness, org.id, REP), 'GET', '/console/api/teams');
    expect(teams.status).toBe(200);
    expect(((await teams.json()) as { teams: unknown[] }).teams).toEqual(
      [...harness.hubspot.state.teams].map(([id, name]) => ({ id, name })),
    );
  }, 60_000);
});
