import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningSalesforceSandbox,
  SANDBOX_SALESFORCE_CLIENT,
  startSalesforceSandbox,
} from '../../server/src/sandbox/salesforce/start.ts';
import { addClient, createRecord, newId } from '../../server/src/sandbox/salesforce/state.ts';
import {
  connectCrm,
  createSalesforceWorkspace,
  createWorkspace,
  requireWorkspace,
} from '../../server/src/services/governance/index.ts';
import { auditEvents, crmConnections, webhookEvents } from '../../server/src/store/schema.ts';
import { followSandboxChangeStreams } from '../support/change-streams.ts';
import { cliOver } from '../support/cli.ts';
import { ADMIN, startHarness, type Harness } from '../support/harness.ts';
import { hubspotOrSalesforce, sandboxSalesforceConnection } from '../support/salesforce.ts';

// Issue 20: `workspace update --crm hubspot|salesforce` rotates the credentials of either of a
// workspace's connections, checked with that CRM first and only for the account it connects.
let harness: Harness;
let sandbox: RunningSalesforceSandbox;
/** A second org, its id not the first's: credentials of it are another account's. */
let otherOrg: RunningSalesforceSandbox;
const ROTATED = { clientId: 'rotated-app', clientSecret: 'rotated-secret' };

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, seed: false });
  addClient(sandbox.state, ROTATED);
  otherOrg = await startSalesforceSandbox({ port: 0, seed: false });
  otherOrg.state.orgId = newId('00D', 2);
  addClient(otherOrg.state, ROTATED);
  harness = await startHarness({ hubspotOverHttp: true, crmFor: hubspotOrSalesforce });
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await sandbox?.close();
  await otherOrg?.close();
});

const update = (workspaceId: string, ...args: string[]) =>
  cliOver(harness, 'workspace', 'update', '--workspace', workspaceId, ...args, '--json');
const salesforceOptions = (loginUrl: string, client: { clientId: string; clientSecret: string }) => [
  '--salesforce-login-url',
  loginUrl,
  '--salesforce-client-id',
  client.clientId,
  '--salesforce-client-secret',
  client.clientSecret,
];

async function connectionOf(workspaceId: string, crm: 'hubspot' | 'salesforce') {
  const [row] = await harness.database.db
    .select()
    .from(crmConnections)
    .where(and(eq(crmConnections.workspaceId, workspaceId), eq(crmConnections.crm, crm)));
  return row!;
}
const streamed = async (workspaceId: string) =>
  (
    await harness.database.db
      .select({ value: webhookEvents.propertyValue })
      .from(webhookEvents)
      .where(eq(webhookEvents.workspaceId, workspaceId))
  ).map((row) => row.value);
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !(await done()); i++) {
    if (i > 400) throw new Error('never happened');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const updates = (workspaceId: string) =>
  harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, workspaceId), eq(auditEvents.type, 'workspace.updated')));

describe('workspace update --crm', () => {
  it('rotates the Salesforce org a HubSpot workspace connected second, once the org accepts the new app and is the one connected', async () => {
    const ws = await createWorkspace(
      harness.deps,
      { name: 'Acme', hubspotPortalId: harness.hubspot.state.portalId, hubspotToken: harness.hubspot.accessToken },
      ADMIN,
    );
    await connectCrm(
      harness.deps,
      ws.id,
      { crm: 'salesforce', connection: sandboxSalesforceConnection(sandbox.url) },
      ADMIN,
    );
    const before = await connectionOf(ws.id, 'salesforce');
    const hubspotBefore = (await requireWorkspace(harness.deps, ws.id)).hubspotTokenEnc;
    // The org revokes the app: the followers' stream of it is refused, and left alone until its credentials change.
    const revoked = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'PUT',
      body: JSON.stringify({ revokeClient: SANDBOX_SALESFORCE_CLIENT.clientId }),
    });
    expect(revoked.status).toBe(200);
    let signInsAsked = 0;
    sandbox.state.faults.hold = (request) => {
      if (request.path === '/services/oauth2/token') signInsAsked++;
      return undefined;
    };
    const followers = followSandboxChangeStreams(harness.deps, sandbox.pubSubEndpoint);
    try {
      // The follower signed in with the revoked app, before the rotation below.
      await until(async () => signInsAsked > 0);
      sandbox.state.faults.hold = null;

      // Another CRM's options, a refused app and another org's app store nothing.
      const salesforceWithoutCrm = await update(ws.id, ...salesforceOptions(sandbox.url, ROTATED));
      expect(salesforceWithoutCrm.json.error).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(salesforceWithoutCrm.json.error.message).toContain('--crm salesforce');
      const hubspotAsSalesforce = await update(ws.id, '--crm', 'salesforce', '--hubspot-token', 'pat-na1-x');
      expect(hubspotAsSalesforce.json.error.message).toContain('--crm hubspot');
      const refused = await update(
        ws.id,
        '--crm',
        'salesforce',
        ...salesforceOptions(sandbox.url, { ...ROTATED, clientSecret: 'wrong' }),
      );
      expect(refused.json.error.code).toBe('CRM_AUTH_FAILED');
      const elsewhere = await update(ws.id, '--crm', 'salesforce', ...salesforceOptions(otherOrg.url, ROTATED));
      expect(elsewhere.json.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: {
          reason: 'other_account',
          crm: 'salesforce',
          accountId: sandbox.orgId,
          credentialsAccountId: otherOrg.state.orgId,
        },
      });
      expect(await connectionOf(ws.id, 'salesforce')).toEqual(before);
      expect(await updates(ws.id)).toEqual([]);

      const rotated = await update(ws.id, '--crm', 'salesforce', ...salesforceOptions(sandbox.url, ROTATED));
      expect(rotated).toMatchObject({
        code: 0,
        json: {
          id: ws.id,
          crm: 'hubspot',
          connections: [
            { crm: 'hubspot', accountId: harness.hubspot.state.portalId },
            { crm: 'salesforce', accountId: sandbox.orgId },
          ],
        },
      });
      const after = await connectionOf(ws.id, 'salesforce');
      expect(JSON.parse(harness.deps.secrets.open(after.credentialsEnc))).toMatchObject({
        loginUrl: sandbox.url,
        auth: { kind: 'client_credentials', ...ROTATED },
      });
      expect(after.sessionEnc).toBeNull();
      // The portal, the workspace's first connection, is untouched.
      expect((await requireWorkspace(harness.deps, ws.id)).hubspotTokenEnc).toBe(hubspotBefore);

      // With the new app the workspace reads the org, and its change stream is followed again.
      const contact = createRecord(
        sandbox.state,
        'Contact',
        { LastName: 'Read' },
        { userId: newId('005', 1), origin: '' },
      );
      const crm = harness.deps.crmFor(await requireWorkspace(harness.deps, ws.id));
      const read = await crm.readBatch({
        objectType: 'salesforce:Contact',
        recordIds: [contact],
        properties: ['LastName'],
      });
      expect(read.get(contact)).toMatchObject({ LastName: 'Read' });
      const edited = await fetch(`${sandbox.url}/_sandbox/edit`, {
        method: 'POST',
        body: JSON.stringify({ object: 'Contact', id: contact, values: { Department: 'Sales' } }),
      });
      expect(edited.status).toBe(200);
      await until(async () => (await streamed(ws.id)).includes('Sales'));
      const [event] = await updates(ws.id);
      expect(event?.data).toEqual({ changed: ['salesforceConnection'], crm: 'salesforce', tokenVerified: true });
      expect(JSON.stringify(event) + rotated.stdout).not.toContain(ROTATED.clientSecret);
    } finally {
      await followers.stop();
    }
  });

  it('rotates the portal a Salesforce workspace connected second, checked against that portal, and the org when --crm is not given', async () => {
    const org = await createSalesforceWorkspace(
      harness.deps,
      { name: 'Org', connection: { loginUrl: otherOrg.url, auth: { kind: 'client_credentials', ...ROTATED } } },
      ADMIN,
    );
    await connectCrm(
      harness.deps,
      org.id,
      {
        crm: 'hubspot',
        hubspotPortalId: '4500',
        hubspotToken: 'pat-na1-first',
        verifyToken: false,
      },
      ADMIN,
    );
    const orgBefore = (await requireWorkspace(harness.deps, org.id)).hubspotTokenEnc;

    const refused = await update(org.id, '--crm', 'hubspot', '--hubspot-token', 'pat-na1-wrong');
    expect(refused.json.error.code).toBe('CRM_AUTH_FAILED');
    // The fake's token opens its own portal, not the one connected.
    const otherPortal = await update(org.id, '--crm', 'hubspot', '--hubspot-token', harness.hubspot.accessToken);
    expect(otherPortal.json.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { tokenPortalId: harness.hubspot.state.portalId },
    });
    expect(harness.deps.secrets.open((await connectionOf(org.id, 'hubspot')).credentialsEnc)).toBe('pat-na1-first');
    const rotated = await update(
      org.id,
      '--crm',
      'hubspot',
      '--hubspot-token',
      'pat-na1-rotated',
      '--hubspot-client-secret',
      'portal-secret',
      '--no-verify',
    );
    expect(rotated.code).toBe(0);
    const portal = await connectionOf(org.id, 'hubspot');
    expect(harness.deps.secrets.open(portal.credentialsEnc)).toBe('pat-na1-rotated');
    expect(harness.deps.secrets.open(portal.clientSecretEnc!)).toBe('portal-secret');
    // The org's connection, the workspace's first, keeps its sealed connection in both places.
    expect((await requireWorkspace(harness.deps, org.id)).hubspotTokenEnc).toBe(orgBefore);
    expect((await connectionOf(org.id, 'salesforce')).credentialsEnc).toBe(orgBefore);

    // Without --crm, the first connection: here the org.
    const first = await update(
      org.id,
      ...salesforceOptions(otherOrg.url, { ...ROTATED, clientSecret: 'wrong' }),
      '--no-verify',
    );
    expect(first.code).toBe(0);
    const row = await requireWorkspace(harness.deps, org.id);
    expect(JSON.parse(harness.deps.secrets.open(row.hubspotTokenEnc))).toMatchObject({
      auth: { clientSecret: 'wrong' },
    });
    expect(row.salesforceSessionEnc).toBeNull();
    expect((await connectionOf(org.id, 'salesforce')).credentialsEnc).toBe(row.hubspotTokenEnc);
    expect((await updates(org.id)).map((event) => event.data)).toEqual([
      { changed: ['hubspotToken', 'hubspotClientSecret'], crm: 'hubspot', tokenVerified: false },
      { changed: ['salesforceConnection'], crm: 'salesforce', tokenVerified: false },
    ]);

    const unconnected = await update(
      (await createWorkspace(harness.deps, { name: 'Alone', hubspotPortalId: '4400', hubspotToken: 't' }, ADMIN)).id,
      '--crm',
      'salesforce',
      ...salesforceOptions(sandbox.url, ROTATED),
    );
    expect(unconnected.json.error).toMatchObject({ code: 'NOT_FOUND', details: { reason: 'not_connected' } });
  });
});
