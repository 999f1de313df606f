import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../server/src/store/schema.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { seedContact, EVIDENCE } from '../support/approvals.ts';
import { cliOver } from '../support/cli.ts';
import { allRowCounts } from '../support/row-counts.ts';

// Issue 18, point 10: a workspace connected with a wrong token can be found, fixed and removed.
let harness: Harness;
let portal: string;

beforeAll(async () => {
  harness = await startHarness();
  portal = harness.hubspot.state.portalId;
});
afterAll(() => harness.close());

const ACCOUNT_DETAILS = 'GET /account-info/v3/details';
const add = (token: string, ...extra: string[]) =>
  cliOver(
    harness,
    'workspace',
    'add',
    '--name',
    'Acme',
    '--hubspot-portal-id',
    portal,
    '--hubspot-token',
    token,
    ...extra,
    '--json',
  );

async function eventsOf(workspaceId: string, type: string) {
  return harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, workspaceId), eq(auditEvents.type, type)));
}

describe('workspace add checks the HubSpot token', () => {
  it('when HubSpot refuses the token, says so and stores nothing', async () => {
    const before = await allRowCounts(harness.database.db);
    const refused = await add('pat-na1-mistyped');
    expect(refused.code).toBe(1);
    expect(refused.json.error).toMatchObject({
      code: 'CRM_AUTH_FAILED',
      message: expect.stringMatching(/token for portal \d+ was refused.*Nothing was stored/s),
    });
    expect(JSON.stringify(refused.json)).not.toContain('pat-na1-mistyped');
    expect(await allRowCounts(harness.database.db)).toEqual(before);
    expect(harness.hubspot.calls.count({ route: ACCOUNT_DETAILS, status: 401 })).toBe(1);
  });

  it('when the token opens another HubSpot account, names that account and stores nothing', async () => {
    const before = await allRowCounts(harness.database.db);
    const other = await cliOver(
      harness,
      'workspace',
      'add',
      '--name',
      'Acme',
      '--hubspot-portal-id',
      '999',
      '--hubspot-token',
      harness.hubspot.accessToken,
      '--json',
    );
    expect(other.json.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining(`opens HubSpot portal ${portal}, not 999`),
    });
    expect(await allRowCounts(harness.database.db)).toEqual(before);
  });

  it('with the account’s token, connects it after one HubSpot call; --no-verify makes none', async () => {
    const calls = harness.hubspot.calls.count();
    const added = await add(harness.hubspot.accessToken);
    expect(added).toMatchObject({
      code: 0,
      json: { id: expect.any(String), adminToken: expect.stringMatching(/^adm_/) },
    });
    expect(harness.hubspot.calls.count() - calls).toBe(1);
    expect((await eventsOf(added.json.id, 'workspace.created'))[0]?.data).toMatchObject({ tokenVerified: true });

    const unchecked = await cliOver(
      harness,
      'workspace',
      'add',
      '--name',
      'Offline',
      '--hubspot-portal-id',
      '4242',
      '--hubspot-token',
      'pat-na1-later',
      '--no-verify',
      '--json',
    );
    expect(unchecked.code).toBe(0);
    expect(harness.hubspot.calls.count() - calls).toBe(1);
  });
});

describe('workspace add --crm salesforce with flags it cannot use', () => {
  const addOrg = (...flags: string[]) =>
    cliOver(harness, 'workspace', 'add', '--crm', 'salesforce', '--name', 'Org', ...flags);
  const loginAndId = ['--salesforce-login-url', 'https://127.0.0.1:9', '--salesforce-client-id', 'app'];

  it('names the flag that is wrong, in one line, and stores nothing', async () => {
    const before = await allRowCounts(harness.database.db);
    const cases: [string[], string][] = [
      [
        ['--salesforce-login-url', 'nope', '--salesforce-client-id', 'app', '--salesforce-client-secret', 's'],
        '--salesforce-login-url: must be the org’s My Domain URL',
      ],
      [
        [...loginAndId, '--salesforce-client-secret', 's', '--salesforce-api-share', 'half'],
        '--salesforce-api-share: must be a number above 0 and at most 1',
      ],
      [
        [...loginAndId, '--salesforce-client-secret', 's', '--salesforce-api-share', '2'],
        '--salesforce-api-share: must be a number above 0 and at most 1',
      ],
      // A secret and a user name are two ways to sign in: neither is chosen for the admin.
      [
        [...loginAndId, '--salesforce-client-secret', 's', '--salesforce-username', 'api@acme.example'],
        '--salesforce-client-secret and --salesforce-username name two ways to sign in',
      ],
    ];
    for (const [flags, message] of cases) {
      const result = await addOrg(...flags, '--json');
      expect(result.code).toBe(1);
      expect(result.json.error).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(result.json.error.message).toContain(message);
      expect(result.json.error.message).not.toContain('\n');
      const human = await addOrg(...flags);
      expect(human.stderr).toBe(`error: ${result.json.error.message}\n`);
    }
    expect(await allRowCounts(harness.database.db)).toEqual(before);
  });

  it('says a flag given no value needs one, whether it ends the line or another flag follows it', async () => {
    for (const args of [
      ['workspace', 'connect', '--workspace', 'w', '--crm', '--json'],
      ['workspace', 'disconnect', '--workspace', 'w', '--json', '--crm'],
    ]) {
      const result = await cliOver(harness, ...args);
      expect(result.code).toBe(1);
      expect(result.json.error).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(result.json.error.message).toMatch(/^--crm needs a value\. Usage: /);
    }
  });
});

describe('workspace list, update and remove', () => {
  it('lists workspaces with their portal and status, never a token or secret', async () => {
    const listed = await cliOver(harness, 'workspace', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(listed.json.workspaces).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'Acme',
          hubspotPortalId: portal,
          status: 'active',
          hasClientSecret: false,
          removedAt: null,
        }),
      ]),
    );
    expect(listed.stdout).not.toMatch(/pat-na1|adm_|Enc/);
  });

  it('rotates the token only once HubSpot accepts the new one, and audits the rotation without the token', async () => {
    const { workspaceId } = await seedWorkspace(harness);
    const refused = await cliOver(
      harness,
      'workspace',
      'update',
      '--workspace',
      workspaceId,
      '--hubspot-token',
      'pat-na1-wrong',
      '--json',
    );
    expect(refused.json.error.code).toBe('CRM_AUTH_FAILED');
    expect(await eventsOf(workspaceId, 'workspace.updated')).toEqual([]);

    // seedWorkspace's portal is not the fake's, so the check would name the mismatch: this rotation is unchecked.
    const rotated = await cliOver(
      harness,
      'workspace',
      'update',
      '--workspace',
      workspaceId,
      '--hubspot-token',
      'pat-na1-rotated',
      '--hubspot-client-secret',
      'shh-secret',
      '--name',
      'Acme EU',
      '--no-verify',
      '--json',
    );
    expect(rotated.json).toMatchObject({ id: workspaceId, name: 'Acme EU', hasClientSecret: true, status: 'active' });
    const [event] = await eventsOf(workspaceId, 'workspace.updated');
    expect(event).toMatchObject({
      before: { name: 'Acme' },
      after: { name: 'Acme EU' },
      data: { changed: ['name', 'hubspotToken', 'hubspotClientSecret'], tokenVerified: false },
    });
    expect(JSON.stringify(event) + rotated.stdout).not.toMatch(/pat-na1-rotated|shh-secret/);
    expect((await cliOver(harness, 'workspace', 'update', '--workspace', workspaceId, '--json')).json.error.code).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('removes a workspace that holds no submitted work: its tokens stop working, its audit log stays, its portal is free again', async () => {
    const acme = (await cliOver(harness, 'workspace', 'list', '--json')).json.workspaces.find(
      (w: { hubspotPortalId: string }) => w.hubspotPortalId === portal,
    );
    const ws = await seedWorkspace(harness);
    const removed = await cliOver(harness, 'workspace', 'remove', '--workspace', ws.workspaceId, '--json');
    expect(removed).toMatchObject({
      code: 0,
      json: {
        workspace: { id: ws.workspaceId, status: 'removed', removedAt: expect.any(String) },
        revokedAgents: [ws.agents[0]!.id],
      },
    });

    const admin = await api(harness, 'GET', '/v1/admin/agents', { token: ws.adminToken });
    expect(admin).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('which was removed') } },
    });
    expect(
      (await api(harness, 'GET', '/v1/changesets/00000000-0000-4000-8000-000000000000', { token: ws.agents[0]!.token }))
        .body.error.code,
    ).toBe('AGENT_NOT_ACTIVE');
    expect(
      (await cliOver(harness, 'agents', 'list', '--workspace', ws.workspaceId, '--json')).json.error,
    ).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('was removed') });
    expect((await cliOver(harness, 'audit', 'verify', '--workspace', ws.workspaceId, '--json')).json).toMatchObject({
      ok: true,
    });
    expect((await eventsOf(ws.workspaceId, 'workspace.removed'))[0]?.data).toMatchObject({
      force: false,
      hadSubmittedWork: false,
    });

    // The fake's portal, connected above: removed, it can be connected again.
    expect((await add(harness.hubspot.accessToken)).json.error.code).toBe('CONFLICT');
    expect((await cliOver(harness, 'workspace', 'remove', '--workspace', acme.id, '--json')).code).toBe(0);
    expect((await add(harness.hubspot.accessToken)).code).toBe(0);
  });

  it('refuses to remove a workspace agents submitted work to, unless --force, which engages its kill switch first', async () => {
    const ws = await seedWorkspace(harness);
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      body: {
        batchId: 'b1',
        objectType: 'contacts',
        changes: [{ recordId: seedContact(harness), properties: { jobtitle: 'CTO' }, evidence: EVIDENCE }],
      },
    });
    expect(submitted.status).toBe(201);
    const refused = await cliOver(harness, 'workspace', 'remove', '--workspace', ws.workspaceId, '--json');
    expect(refused.json.error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('--force') });
    expect(
      (await cliOver(harness, 'workspace', 'list', '--json')).json.workspaces.find(
        (w: { id: string }) => w.id === ws.workspaceId,
      ).status,
    ).toBe('active');

    const forced = await cliOver(harness, 'workspace', 'remove', '--workspace', ws.workspaceId, '--force', '--json');
    expect(forced.json.workspace.status).toBe('removed');
    expect(await eventsOf(ws.workspaceId, 'kill_switch.engaged')).toHaveLength(1);
    expect((await cliOver(harness, 'audit', 'verify', '--workspace', ws.workspaceId, '--json')).json).toMatchObject({
      ok: true,
    });
  });
});
