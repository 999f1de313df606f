import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setDispatcher } from '@jsforce/jsforce-node/lib/request.js';
import { MockAgent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OrgAddresses } from '../../server/src/crm/salesforce/org-addresses.ts';
import { AllowedNetworks, parseNetwork } from '../../server/src/domain/outbound-addresses.ts';
import { salesforceResolver } from '../../server/src/runtime.ts';
import { SANDBOX_SALESFORCE_CLIENT } from '../../server/src/sandbox/salesforce/start.ts';
import { type RunningSalesforceSandbox, startSalesforceSandbox } from '../../server/src/sandbox/salesforce/start.ts';
import { createRecord } from '../../server/src/sandbox/salesforce/state.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import {
  createSalesforceWorkspace,
  createWorkspace,
  listWorkspaceViews,
  recordCrmConnectionRefused,
  requireWorkspace,
} from '../../server/src/services/governance/index.ts';
import { setSalesforceSession } from '../../server/src/store/workspace-store.ts';
import { cliOver } from '../support/cli.ts';
import { refusals, sleep, until } from '../support/connection-refusals.ts';
import { ADMIN, api, startHarness, type Harness } from '../support/harness.ts';
import { hubspotOrSalesforce, sandboxSalesforceConnection } from '../support/salesforce.ts';

// Issue 20: a workspace's admin chooses its org's login URL, and the token endpoint there answers
// the instance URL the server then calls. Neither may aim the server at its own network: both must
// be on Salesforce's domains or in a network OUTBOUND_ALLOWED_NETWORKS lists. This server starts as
// one configured by default (no network listed); a test lists loopback where it says so.
const addresses: OrgAddresses = { networks: new AllowedNetworks([]) };
const allow = (...networks: string[]) => {
  addresses.networks = new AllowedNetworks(networks.map((network) => parseNetwork(network)!));
};

let harness: Harness;
let sandbox: RunningSalesforceSandbox;
/** Something inside the server's network: it records every request that reaches it. */
let internal: { url: string; hits: string[]; server: Server };
let ws: { id: string; adminToken: string };

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, seed: false });
  harness = await startHarness({
    hubspotOverHttp: true,
    outboundAllowedNetworks: [],
    crmFor: (hubspot, deps) => hubspotOrSalesforce(hubspot, deps, addresses),
  });
  const hits: string[] = [];
  const server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"secret":"inside"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  internal = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
  ws = await createWorkspace(
    harness.deps,
    { name: 'Acme', hubspotPortalId: '4300', hubspotToken: harness.hubspot.accessToken },
    ADMIN,
  );
});
afterAll(async () => {
  internal.server.close();
  await harness.close();
  await sandbox.close();
});
afterEach(() => {
  allow();
  // jsforce's own HTTP pool again, whatever a test put in its place.
  setDispatcher();
});

const connect = (loginUrl: string) =>
  api(harness, 'POST', '/v1/admin/workspace/connections', {
    token: ws.adminToken,
    body: { crm: 'salesforce', connection: { ...sandboxSalesforceConnection(sandbox.url), loginUrl } },
  });

/** Salesforce's token endpoint at a My Domain URL, answered at the HTTP boundary (jsforce's dispatcher). */
function salesforceAt(origin: string, instanceUrl: string, orgId = '00D000000000042EAA'): MockAgent {
  const agent = new MockAgent();
  agent
    .get(origin)
    .intercept({ path: '/services/oauth2/token', method: 'POST' })
    .reply(200, {
      access_token: '00D000000000001!token',
      instance_url: instanceUrl,
      id: `${origin}/id/${orgId}/005000000000001AAA`,
      token_type: 'Bearer',
    });
  setDispatcher(agent);
  return agent;
}

describe("a workspace's Salesforce connection", () => {
  it('is refused 422 DESTINATION_NOT_ALLOWED, before anything is sent, at a login URL off Salesforce and the allowed networks', async () => {
    const before = await listWorkspaceViews(harness.deps);
    const port = new URL(internal.url).port;
    const refused: [string, string, string][] = [
      [internal.url, 'address_not_public', 'loopback'],
      [`http://[::ffff:127.0.0.1]:${port}`, 'address_not_public', 'loopback'],
      [`http://0x7f.1:${port}`, 'address_not_public', 'loopback'],
      ['http://169.254.169.254/latest/meta-data', 'address_not_public', 'link-local'],
      ['https://10.0.0.5:8443', 'address_not_public', 'private'],
      // A public name that is not Salesforce's, whatever it resolves to; and Salesforce's own only over https.
      ['https://login.example.com', 'host_not_allowed', 'login.example.com'],
      ['https://acme.my.salesforce.com.example.com', 'host_not_allowed', 'acme.my.salesforce.com.example.com'],
      [`https://login.salesforce.com@127.0.0.1:${port}`, 'address_not_public', 'loopback'],
      ['http://acme.my.salesforce.com', 'host_not_allowed', 'acme.my.salesforce.com'],
    ];
    for (const [loginUrl, reason, named] of refused) {
      const answer = await connect(loginUrl);
      expect(answer.status, loginUrl).toBe(422);
      expect(answer.body.error, loginUrl).toMatchObject({
        code: 'DESTINATION_NOT_ALLOWED',
        details: { path: 'connection.loginUrl', reason, setting: 'OUTBOUND_ALLOWED_NETWORKS' },
      });
      expect(answer.body.error.message, loginUrl).toContain(named);
      expect(answer.body.error.message).toContain("Salesforce's own domains");
    }
    // The CLI's workspace add refuses it the same way.
    const added = await cliOver(
      harness,
      'workspace',
      'add',
      '--crm',
      'salesforce',
      '--name',
      'Inside',
      '--salesforce-login-url',
      internal.url,
      '--salesforce-client-id',
      'x',
      '--salesforce-client-secret',
      'y',
      '--json',
    );
    expect(added.code).not.toBe(0);
    expect(added.json.error).toMatchObject({
      code: 'DESTINATION_NOT_ALLOWED',
      details: { path: 'connection.loginUrl' },
    });
    expect(internal.hits).toEqual([]);
    expect(await listWorkspaceViews(harness.deps)).toEqual(before);
  });

  it('signs in at a login URL on Salesforce’s domains, and in a network the operator allows', async () => {
    const agent = salesforceAt('https://acme.my.salesforce.com', 'https://acme.my.salesforce.com');
    agent.disableNetConnect();
    const other = await createWorkspace(
      harness.deps,
      { name: 'Beta', hubspotPortalId: '4301', hubspotToken: harness.hubspot.accessToken },
      ADMIN,
    );
    const connected = await api(harness, 'POST', '/v1/admin/workspace/connections', {
      token: other.adminToken,
      body: {
        crm: 'salesforce',
        connection: { ...sandboxSalesforceConnection(''), loginUrl: 'https://acme.my.salesforce.com' },
      },
    });
    expect(connected).toMatchObject({ status: 201, body: { crm: 'salesforce', accountId: '00D000000000042EAA' } });
    agent.assertNoPendingInterceptors();
    setDispatcher();
    // Its connection cannot be moved inside the network afterwards, not even unverified.
    const moved = await cliOver(
      harness,
      'workspace',
      'update',
      '--workspace',
      other.id,
      '--crm',
      'salesforce',
      '--salesforce-login-url',
      'http://169.254.169.254',
      '--salesforce-client-id',
      'x',
      '--salesforce-client-secret',
      'y',
      '--no-verify',
      '--json',
    );
    expect(moved.json.error).toMatchObject({
      code: 'DESTINATION_NOT_ALLOWED',
      details: { path: 'salesforceConnection.loginUrl', reason: 'address_not_public' },
    });

    // An org reached through a proxy inside the operator's network, which OUTBOUND_ALLOWED_NETWORKS lists.
    allow('10.1.2.0/24');
    salesforceAt('https://10.1.2.3', 'https://10.1.2.3', '00D000000000043EAA').disableNetConnect();
    expect(await connect('https://10.1.2.3')).toMatchObject({ status: 201, body: { accountId: '00D000000000043EAA' } });
  });

  it('fails the sign-in when the token endpoint answers an instance URL inside the server’s network, and calls nothing there', async () => {
    const third = await createWorkspace(
      harness.deps,
      { name: 'Gamma', hubspotPortalId: '4302', hubspotToken: harness.hubspot.accessToken },
      ADMIN,
    );
    // Requests the interceptor does not answer go out for real, so a call to the instance URL would reach it.
    salesforceAt('https://gamma.my.salesforce.com', internal.url);
    const answer = await api(harness, 'POST', '/v1/admin/workspace/connections', {
      token: third.adminToken,
      body: {
        crm: 'salesforce',
        connection: { ...sandboxSalesforceConnection(''), loginUrl: 'https://gamma.my.salesforce.com' },
      },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({
      code: 'CRM_SIGN_IN_FAILED',
      details: { reason: 'CRM_AUTH_FAILED', oauthError: 'instance_url_not_allowed' },
    });
    expect(answer.body.error.message).toContain('instance URL this server may not reach');
    expect(answer.body.error.message).not.toContain(internal.url);
    expect(internal.hits).toEqual([]);
    expect((await requireWorkspace(harness.deps, third.id)).connections).toHaveLength(1);
  });
});

describe('a stored Salesforce connection the operator no longer allows', () => {
  it('is refused at use, recorded once as a refused connection, with nothing sent to it', async () => {
    const loopback = { networks: new AllowedNetworks([parseNetwork('127.0.0.0/8')!]) };
    const resolver = (orgAddresses: OrgAddresses, deps: () => ServiceDeps) =>
      salesforceResolver({
        secrets: harness.deps.secrets,
        addresses: orgAddresses,
        saveSession: (id, sealed) => setSalesforceSession(harness.database.db, id, sealed),
        onBudgetStop: async () => {},
        onAuthRefused: (id, refusal) =>
          recordCrmConnectionRefused(deps(), id, { crm: 'salesforce', ...refusal, seenBy: 'crm-adapter' }),
      });
    // Connected while the server allowed loopback, with a token minted and stored.
    const before: ServiceDeps = { ...harness.deps, crmFor: resolver(loopback, () => before) };
    const created = await createSalesforceWorkspace(
      before,
      {
        name: 'Stored',
        connection: { loginUrl: sandbox.url, auth: { kind: 'client_credentials', ...SANDBOX_SALESFORCE_CLIENT } },
      },
      ADMIN,
    );
    const id = createRecord(sandbox.state, 'Contact', { LastName: 'Lovelace' }, { userId: '', origin: '' });
    const read = () =>
      after
        .crmFor(workspaceRow)
        .readBatch({ objectType: 'salesforce:Contact', recordIds: [id], properties: ['LastName'] });
    let workspaceRow = await requireWorkspace(before, created.id);
    await before
      .crmFor(workspaceRow)
      .readBatch({ objectType: 'salesforce:Contact', recordIds: [id], properties: ['LastName'] });
    for (let i = 0; !(await requireWorkspace(before, created.id)).salesforceSessionEnc; i++) {
      if (i > 50) throw new Error('the session was never stored');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    workspaceRow = await requireWorkspace(before, created.id);

    // The server restarts with OUTBOUND_ALLOWED_NETWORKS unset: the stored URL and token lead nowhere.
    const after: ServiceDeps = {
      ...harness.deps,
      crmFor: resolver({ networks: new AllowedNetworks([]) }, () => after),
    };
    const calls = sandbox.state.calls.length;
    const sessions = sandbox.state.sessions.size;
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(read()).rejects.toMatchObject({
        code: 'CRM_AUTH_FAILED',
        details: { revoked: true, oauthError: 'login_url_not_allowed' },
        message: expect.stringContaining('workspace update'),
      });
    expect(sandbox.state.calls.length).toBe(calls);
    expect(sandbox.state.sessions.size).toBe(sessions);
    const recorded = await until(
      () => refusals(harness.deps, created.id),
      (events) => events.length > 0,
    );
    await sleep(100);
    expect(await refusals(harness.deps, created.id)).toHaveLength(1);
    expect(recorded[0]?.data).toMatchObject({ crm: 'salesforce', reason: 'login_url_not_allowed' });
  });
});
