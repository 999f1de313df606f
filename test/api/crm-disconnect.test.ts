import { followSandboxChangeStreams } from '../support/change-streams.ts';
import { hubspotOrSalesforce, sandboxSalesforceConnection } from '../support/salesforce.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import {
  type RunningSalesforceSandbox,
  SANDBOX_SALESFORCE_CLIENT,
  startSalesforceSandbox,
} from '../../server/src/sandbox/salesforce/start.ts';
import { createRecord, newId } from '../../server/src/sandbox/salesforce/state.ts';
import {
  createAgent,
  createSalesforceWorkspace,
  createWorkspace,
  publishPolicy,
  setPersonRole,
} from '../../server/src/services/governance/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import { crmEventStreams } from '../../server/src/store/crm-event-stream-schema.ts';
import { renewStreamLease, STREAMED_CHANGE_TYPE } from '../../server/src/store/crm-event-stream-store.ts';
import { webhookEvents } from '../../server/src/store/schema.ts';
import { cliOver } from '../support/cli.ts';
import { EVIDENCE } from '../support/rollbacks.ts';
import { deliver, propertyChange } from '../support/webhooks.ts';
import { ADMIN, api, startHarness, type Harness } from '../support/harness.ts';

// Issue 20: a workspace connected to both CRMs gives the one it connected second back with
// `workspace disconnect` / DELETE /v1/admin/workspace/connections/{crm}, refused while that would
// strand the policy or unfinished work; its events stop reaching the workspace.
let harness: Harness;
let sandbox: RunningSalesforceSandbox;
/** Moved forward to let the webhook intake's memory of a portal (30 s) lapse. */
let clockOffsetMs = 0;
const REP = newId('005', 1);
const APPROVER = '501';

const HUBSPOT_ONLY = {
  name: 'Portal only',
  timezone: 'America/New_York',
  objects: { contacts: { properties: { jobtitle: { enrichment: 'auto' } } } },
};
const BOTH = {
  ...HUBSPOT_ONLY,
  name: 'Both CRMs',
  objects: {
    ...HUBSPOT_ONLY.objects,
    'salesforce:Contact': { properties: { Department: { enrichment: 'approval' } } },
  },
};
const salesforceConnection = () => sandboxSalesforceConnection(sandbox.url);

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, seed: false });
  harness = await startHarness({
    hubspotOverHttp: true,
    webhooks: { appClientSecret: 'app-secret' },
    clock: () => new Date(Date.now() + clockOffsetMs),
    crmFor: hubspotOrSalesforce,
  });
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await sandbox?.close();
});

const disconnect = (token: string, crm: string) =>
  api(harness, 'DELETE', `/v1/admin/workspace/connections/${crm}`, { token });

async function streamedEvents(workspaceId: string): Promise<number> {
  const rows = await harness.database.db
    .select({ eventId: webhookEvents.eventId })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.workspaceId, workspaceId), eq(webhookEvents.subscriptionType, STREAMED_CHANGE_TYPE)));
  return rows.length;
}

async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !(await done()); i++) {
    if (i > 400) throw new Error(`${what} never happened`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('disconnecting the CRM a workspace connected second', () => {
  it('refuses what would strand the workspace, its policy or its work, then gives the org back and stops its stream', async () => {
    const ws = await createWorkspace(
      harness.deps,
      { name: 'Acme', hubspotPortalId: harness.hubspot.state.portalId, hubspotToken: harness.hubspot.accessToken },
      ADMIN,
    );
    const alone = await createWorkspace(
      harness.deps,
      { name: 'Alone', hubspotPortalId: '4200', hubspotToken: harness.hubspot.accessToken },
      ADMIN,
    );
    const connected = await api(harness, 'POST', '/v1/admin/workspace/connections', {
      token: ws.adminToken,
      body: { crm: 'salesforce', connection: salesforceConnection() },
    });
    expect(connected.status).toBe(201);

    const unknown = await disconnect(ws.adminToken, 'pipedrive');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('must be hubspot or salesforce');
    const first = await disconnect(ws.adminToken, 'hubspot');
    expect(first.status).toBe(409);
    expect(first.body.error.details).toMatchObject({ reason: 'first_connection', crm: 'hubspot' });
    const only = await disconnect(alone.adminToken, 'hubspot');
    expect(only.status).toBe(409);
    expect(only.body.error.details).toMatchObject({ reason: 'only_connection', accountId: '4200' });
    expect(only.body.error.message).toContain('remove the workspace instead');
    const none = await disconnect(alone.adminToken, 'salesforce');
    expect(none.status).toBe(404);
    expect(none.body.error.details).toMatchObject({ reason: 'not_connected' });

    // The policy in force governs Salesforce's contacts: it must drop them first.
    await publishPolicy(harness.deps, ws.id, BOTH, ADMIN);
    const governed = await disconnect(ws.adminToken, 'salesforce');
    expect(governed.status).toBe(409);
    expect(governed.body.error.details).toEqual({
      reason: 'policy_governs',
      crm: 'salesforce',
      objectTypes: ['salesforce:Contact'],
    });

    // A write held for approval on the org is work under way, even under a policy without it.
    const agent = await createAgent(harness.deps, ws.id, { name: 'enricher', role: 'enrichment' }, ADMIN);
    await setPersonRole(harness.deps, ws.id, { crmUserId: APPROVER, role: 'approver' }, ADMIN);
    const contact = createRecord(
      sandbox.state,
      'Contact',
      { LastName: 'Held', OwnerId: REP },
      { userId: REP, origin: '' },
    );
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: agent.token,
      body: {
        batchId: 'held',
        objectType: 'salesforce:Contact',
        changes: [{ recordId: contact, properties: { Department: 'Legal' }, evidence: EVIDENCE }],
      },
    });
    expect(submitted.status).toBe(201);
    await publishPolicy(harness.deps, ws.id, HUBSPOT_ONLY, ADMIN);
    const busy = await disconnect(ws.adminToken, 'salesforce');
    expect(busy.status).toBe(409);
    expect(busy.body.error.details).toMatchObject({ reason: 'work_in_flight', approvals: 1, rollbacks: 0 });
    expect(busy.body.error.message).toContain('1 approval(s) pending or not yet written');
    const held = await api(harness, 'GET', '/v1/admin/approvals?batch=held&status=pending', { token: ws.adminToken });
    const rejected = await api(harness, 'POST', `/v1/admin/approvals/${held.body.approvals[0].id}/decisions`, {
      token: ws.adminToken,
      body: { kind: 'reject', actingUserId: APPROVER, reason: 'Leaving Salesforce.' },
    });
    expect(rejected.body.status).toBe('rejected');

    // The org's change stream is followed until the org is disconnected, and not after.
    const followers = followSandboxChangeStreams(harness.deps, sandbox.pubSubEndpoint);
    const edit = (department: string) =>
      fetch(`${sandbox.url}/_sandbox/edit`, {
        method: 'POST',
        body: JSON.stringify({ object: 'Contact', id: contact, values: { Department: department } }),
      });
    try {
      expect((await edit('Sales')).status).toBe(200);
      await until('a streamed change stored', async () => (await streamedEvents(ws.id)) > 0);
      const listedBefore = await cliOver(harness, 'workspace', 'list', '--json');
      expect(listedBefore.json.workspaces.find((view: { id: string }) => view.id === ws.id).connections).toEqual([
        { crm: 'hubspot', accountId: harness.hubspot.state.portalId },
        { crm: 'salesforce', accountId: sandbox.orgId },
      ]);

      const done = await disconnect(ws.adminToken, 'salesforce');
      expect(done).toMatchObject({
        status: 200,
        body: { workspaceId: ws.id, crm: 'salesforce', accountId: sandbox.orgId },
      });
      const stored = await streamedEvents(ws.id);
      await new Promise((resolve) => setTimeout(resolve, 300)); // several rounds of the followers
      expect((await edit('Finance')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await streamedEvents(ws.id)).toBe(stored);
      const streams = await harness.database.db
        .select()
        .from(crmEventStreams)
        .where(eq(crmEventStreams.workspaceId, ws.id));
      expect(streams.filter((stream) => stream.leaseHolder !== null)).toEqual([]);
    } finally {
      await followers.stop();
    }
    // A follower elsewhere renewing its lease after the disconnection finds it gone: its stream ends.
    const late = { workspaceId: ws.id, holder: 'late-server', now: new Date(), leaseMs: 60_000 };
    expect(await renewStreamLease(harness.database.db, late)).toBe(false);
    expect(
      await harness.database.db.select().from(crmEventStreams).where(eq(crmEventStreams.workspaceId, ws.id)),
    ).toEqual([]);

    // Audited with the CRM and the org, never a credential.
    const exported = await fetch(`${harness.url}/v1/admin/audit/export`, {
      headers: { authorization: `Bearer ${ws.adminToken}` },
    });
    const lines = (await exported.text()).trim().split('\n');
    const audited = lines.map((line) => JSON.parse(line)).find((event) => event.type === 'workspace.disconnected');
    expect(audited.data).toEqual({ crm: 'salesforce', accountId: sandbox.orgId });
    expect(lines.join('\n')).not.toContain(SANDBOX_SALESFORCE_CLIENT.clientSecret);

    const listed = await cliOver(harness, 'workspace', 'list', '--json');
    expect(listed.json.workspaces.find((view: { id: string }) => view.id === ws.id)).toMatchObject({
      crm: 'hubspot',
      hubspotPortalId: harness.hubspot.state.portalId,
      connections: [{ crm: 'hubspot', accountId: harness.hubspot.state.portalId }],
    });
    const human = await cliOver(harness, 'workspace', 'list');
    expect(human.stdout).toContain(`Acme  (hubspot ${harness.hubspot.state.portalId})`);

    // The org is free: another workspace connects it, and the CLI disconnects it again.
    const cli = (...args: string[]) => cliOver(harness, 'workspace', ...args, '--workspace', alone.id, '--json');
    const taken = await api(harness, 'POST', '/v1/admin/workspace/connections', {
      token: alone.adminToken,
      body: { crm: 'salesforce', connection: salesforceConnection() },
    });
    expect(taken.status).toBe(201);
    const again = await cli('disconnect', '--crm', 'salesforce');
    expect(again).toMatchObject({
      code: 0,
      json: { workspaceId: alone.id, crm: 'salesforce', accountId: sandbox.orgId },
    });
    const refused = await cli('disconnect', '--crm', 'hubspot');
    expect(refused.code).not.toBe(0);
    expect(refused.json.error).toMatchObject({ code: 'CONFLICT', details: { reason: 'only_connection' } });
  }, 120_000);

  it('leaves a disconnected portal’s webhooks unknown, and reads nothing of those taken before', async () => {
    const org = await createSalesforceWorkspace(
      harness.deps,
      { name: 'Org', connection: salesforceConnection() },
      ADMIN,
    );
    const connected = await api(harness, 'POST', '/v1/admin/workspace/connections', {
      token: org.adminToken,
      body: {
        crm: 'hubspot',
        hubspotPortalId: '4300',
        hubspotToken: harness.hubspot.accessToken,
        hubspotClientSecret: 'portal-secret',
        verifyToken: false,
      },
    });
    expect(connected.status).toBe(201);
    const change = () => propertyChange(4300, { objectId: 4242, propertyName: 'jobtitle', propertyValue: 'CEO' });
    const before = await deliver(harness, [change()], { clientSecret: 'portal-secret' });
    expect(before.body).toMatchObject({ stored: 1 });

    const done = await api(harness, 'DELETE', '/v1/admin/workspace/connections/hubspot', { token: org.adminToken });
    expect(done).toMatchObject({ status: 200, body: { crm: 'hubspot', accountId: '4300' } });
    // Taken while it was connected, it is passed over, not read with the org's port.
    while ((await processWebhookEvents(harness.deps)) > 0);
    const outcomes = await harness.database.db
      .select({ outcome: webhookEvents.outcome })
      .from(webhookEvents)
      .where(eq(webhookEvents.workspaceId, org.id));
    expect(outcomes).toEqual([{ outcome: 'crm_disconnected' }]);

    clockOffsetMs += 31_000; // past the intake's memory of the portal
    // Signed with the app's secret, as HubSpot signs every portal's deliveries.
    const after = await deliver(harness, [change()], {
      clientSecret: 'app-secret',
      timestamp: Date.now() + clockOffsetMs,
    });
    expect(after).toMatchObject({ status: 200, body: { stored: 0, unknownPortal: 1 } });
  }, 60_000);
});
