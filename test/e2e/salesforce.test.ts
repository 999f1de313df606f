import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../server/src/sandbox/salesforce/state.ts';
import { SANDBOX_SALESFORCE_CLIENT } from '../../server/src/sandbox/salesforce/start.ts';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from './support/processes.ts';
import { migratedDataFolder } from '../support/data-folders.ts';
import { LOOPBACK_ALLOWED } from '../support/outbound.ts';

const run = promisify(execFile);
const CONTACTS = [1, 2, 3, 4, 5].map((n) => newId('003', n));

// Issue 20: the local Salesforce, the CLI and the server each in their own process; every call to
// Salesforce goes through the real jsforce over HTTP.
describe('a Salesforce org governed end to end', () => {
  const data = migratedDataFolder('ag-e2e-sf-');
  let sandbox: NodeProcess;
  let sandboxUrl: string;
  let pubSubEndpoint: string;
  let server: NodeProcess | undefined;
  let env: Record<string, string>;
  let workspaceId: string;
  let adminToken: string;

  async function cli(...args: string[]) {
    const result = await run(process.execPath, [path.resolve('server/src/cli/main.ts'), ...args, '--json'], {
      env,
    }).catch((error: { stdout: string; code: number }) => error);
    return JSON.parse(result.stdout.trim());
  }
  const record = async (id: string) =>
    (await http('GET', `${sandboxUrl}/_sandbox/records/Contact/${id}`)).body as {
      values: Record<string, string | null>;
      history: { field: string; newValue: string | null; origin: string }[];
    };

  beforeAll(async () => {
    sandbox = startNodeProcess('server/src/sandbox/main.ts', { SANDBOX_PORT: '0' }, ['--crm', 'salesforce']);
    const listening = await sandbox.waitForLine(
      (line) => line.includes('"message":"salesforce sandbox listening"'),
      120_000,
    );
    ({ url: sandboxUrl, pubSubEndpoint } = JSON.parse(listening) as { url: string; pubSubEndpoint: string });
    // The local Salesforce listens on loopback, which a server reaches only where its operator allows it.
    env = { ...process.env, ...serverEnv(data.dir, LOOPBACK_ALLOWED) } as Record<string, string>;
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await sandbox?.stop();
    data.remove();
  });

  it('workspace add --crm salesforce signs in through the External Client App and names the org; a wrong secret stores nothing', async () => {
    const base = ['workspace', 'add', '--crm', 'salesforce', '--name', 'Acme SF', '--salesforce-login-url', sandboxUrl];
    const refused = await cli(
      ...base,
      '--salesforce-client-id',
      SANDBOX_SALESFORCE_CLIENT.clientId,
      '--salesforce-client-secret',
      'wrong',
    );
    expect(refused.error).toMatchObject({
      code: 'CRM_AUTH_FAILED',
      message: expect.stringContaining('Nothing was stored'),
    });
    const added = await cli(
      ...base,
      '--salesforce-client-id',
      SANDBOX_SALESFORCE_CLIENT.clientId,
      '--salesforce-client-secret',
      SANDBOX_SALESFORCE_CLIENT.clientSecret,
    );
    expect(added).toMatchObject({ id: expect.any(String), orgId: expect.stringMatching(/^00D/) });
    workspaceId = added.id;
    adminToken = added.adminToken;
    const listed = await cli('workspace', 'list');
    expect(JSON.stringify(listed)).not.toContain(SANDBOX_SALESFORCE_CLIENT.clientSecret);
  }, 400_000);

  it('refuses a policy naming a field the org does not have, with the field named', async () => {
    const policy = JSON.parse(fs.readFileSync('examples/salesforce-policy.json', 'utf8'));
    policy.objects['salesforce:Contact'].properties.Score__c = { enrichment: 'auto' };
    const file = path.join(data.dir, 'bad-policy.json');
    fs.writeFileSync(file, JSON.stringify(policy));
    const refused = await cli('policy', 'apply', '--workspace', workspaceId, file);
    expect(refused.error).toMatchObject({
      code: 'POLICY_INVALID',
      message: expect.stringContaining('objects.salesforce:Contact.properties.Score__c'),
    });
  }, 180_000);

  it('publishes the policy and bootstraps the org through the Metadata API, twice without change', async () => {
    const applied = await cli(
      'policy',
      'apply',
      '--workspace',
      workspaceId,
      path.resolve('examples/salesforce-policy.json'),
      '--bootstrap',
    );
    expect(applied).toMatchObject({ version: 1 });
    const again = await cli('bootstrap', '--workspace', workspaceId);
    expect(JSON.stringify(again)).not.toMatch(/"created":\["/);
    expect(again.approvalObject).toEqual({ objectTypeId: 'Agent_Approval__c', created: false });
  }, 180_000);

  it('applies an agent’s auto writes with provenance, tagged with our client id; a wrong id is refused by its key prefix', async () => {
    const agent = await cli(
      'agents',
      'create',
      '--workspace',
      workspaceId,
      '--name',
      'enricher',
      '--role',
      'enrichment',
    );
    // The server follows the org's change events from the sandbox's Pub/Sub endpoint (its certificate is self-signed).
    server = startNodeProcess(
      'server/src/main.ts',
      serverEnv(data.dir, {
        ...LOOPBACK_ALLOWED,
        SALESFORCE_PUBSUB_ENDPOINT: pubSubEndpoint,
        SALESFORCE_PUBSUB_INSECURE_TLS: 'true',
        CHANGE_STREAM_POLL_MS: '500',
      }),
    );
    const serverUrl = await urlFromLog(server, 'listening', 120_000);
    const wrongId = await http('POST', `${serverUrl}/v1/changesets`, {
      token: agent.token,
      body: {
        batchId: 'titles',
        objectType: 'salesforce:Contact',
        changes: [
          {
            recordId: newId('00Q', 1),
            properties: { Title: 'CFO' },
            evidence: { source: 'x', confidence: 0.9, reason: 'r' },
          },
        ],
      },
    });
    expect(wrongId.status).toBe(400);
    expect(JSON.stringify(wrongId.body)).toContain('is not a Contact id (those start with 003)');

    await http('DELETE', `${sandboxUrl}/_sandbox/calls`);
    const submitted = await http('POST', `${serverUrl}/v1/changesets`, {
      token: agent.token,
      body: {
        batchId: 'titles',
        objectType: 'salesforce:Contact',
        changes: CONTACTS.map((recordId, i) => ({
          recordId,
          properties: { Title: `Wrong title ${i}` },
          evidence: { source: 'clearbit', confidence: 0.95, reason: 'Enrichment run 7' },
        })),
      },
    });
    expect(submitted.status).toBe(201);
    expect((submitted.body.results as { decision: string }[]).map((r) => r.decision)).toEqual(
      CONTACTS.map(() => 'applied'),
    );
    const first = await record(CONTACTS[0]!);
    expect(first.values).toMatchObject({ Title: 'Wrong title 0', Agent_last_agent__c: 'enricher' });
    expect(first.history.find((h) => h.field === 'Title')?.origin).toBe(
      'com/salesforce/api/rest/67.0;client=AgentGovernance',
    );
    const calls = (await http('GET', `${sandboxUrl}/_sandbox/calls`)).body.calls as { method: string; path: string }[];
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(1);
  }, 240_000);

  it('holds a department for approval, mirrors it into Salesforce, and writes it when the record’s owner, a rep, approves', async () => {
    const serverUrl = await urlFromLog(server!, 'listening');
    const owner = newId('005', 1); // the seeded records' OwnerId
    const agent = await http('POST', `${serverUrl}/v1/admin/agents`, {
      token: adminToken,
      body: { name: 'dept', role: 'enrichment' },
    });
    expect(
      (await http('PUT', `${serverUrl}/v1/admin/people/${owner}`, { token: adminToken, body: { role: 'rep' } })).status,
    ).toBe(200);
    const held = await http('POST', `${serverUrl}/v1/changesets`, {
      token: agent.body.token,
      body: {
        batchId: 'departments',
        objectType: 'salesforce:Contact',
        changes: [
          {
            recordId: CONTACTS[2],
            properties: { Department: 'Finance' },
            evidence: { source: 'crm', confidence: 0.9, reason: 'Org chart' },
          },
        ],
      },
    });
    expect(held.body.results[0].decision).toBe('pending_approval');
    // The approval job mirrors it: the proposal in Proposed_Department__c and an Agent_Approval__c record linked to the contact.
    for (let i = 0; (await record(CONTACTS[2]!)).values.Proposed_Department__c !== 'Finance'; i++) {
      if (i > 100) throw new Error(`the proposal never reached Salesforce:\n${server!.stdout().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const approvals = (await http('GET', `${serverUrl}/v1/admin/approvals`, { token: adminToken })).body.approvals as {
      id: string;
    }[];
    const decided = await http('POST', `${serverUrl}/v1/admin/approvals/${approvals[0]!.id}/decisions`, {
      token: adminToken,
      body: { kind: 'approve', actingUserId: owner },
    });
    expect(decided.status).toBe(200);
    expect((await record(CONTACTS[2]!)).values.Department).toBe('Finance');
    const calls = (await http('GET', `${sandboxUrl}/_sandbox/calls`)).body.calls as { method: string; path: string }[];
    expect(calls).toContainEqual(
      expect.objectContaining({ method: 'PATCH', path: '/composite/sobjects/Agent_Approval__c/Agent_approval_id__c' }),
    );
  }, 90_000);

  it('decides the next write under the tier an admin just changed', async () => {
    const serverUrl = await urlFromLog(server!, 'listening');
    const policy = JSON.parse(fs.readFileSync('examples/salesforce-policy.json', 'utf8'));
    policy.objects['salesforce:Lead'].properties.Title = { enrichment: 'approval' };
    expect((await http('POST', `${serverUrl}/v1/admin/policies`, { token: adminToken, body: policy })).status).toBe(
      201,
    );
    const agent = await http('POST', `${serverUrl}/v1/admin/agents`, {
      token: adminToken,
      body: { name: 'leads', role: 'enrichment' },
    });
    const submitted = await http('POST', `${serverUrl}/v1/changesets`, {
      token: agent.body.token,
      body: {
        batchId: 'lead-titles',
        objectType: 'salesforce:Lead',
        changes: [
          {
            recordId: newId('00Q', 1),
            properties: { Title: 'VP Sales', Company: 'Acme' },
            evidence: { source: 'x', confidence: 0.9, reason: 'r' },
          },
        ],
      },
    });
    expect(submitted.body.results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ property: 'Title', decision: 'pending_approval' }),
        expect.objectContaining({ property: 'Company', decision: 'applied' }),
      ]),
    );
    const lead = (await http('GET', `${sandboxUrl}/_sandbox/records/Lead/${newId('00Q', 1)}`)).body;
    expect(lead.values.Company).toBe('Acme');
    expect(lead.values.Title).toBeUndefined();
  }, 90_000);

  it('makes the held lead title stale when a person edits it in Salesforce, seen through its change event', async () => {
    const serverUrl = await urlFromLog(server!, 'listening');
    const lead = newId('00Q', 1);
    const pending = async () =>
      (
        (await http('GET', `${serverUrl}/v1/admin/approvals`, { token: adminToken })).body.approvals as {
          recordId: string;
          items: { property: string }[];
          status: string;
        }[]
      ).find((approval) => approval.recordId === lead && approval.items.some((item) => item.property === 'Title'));
    expect((await pending())?.status).toBe('pending');
    await http('POST', `${sandboxUrl}/_sandbox/edit`, { body: { object: 'Lead', id: lead, values: { Title: 'CEO' } } });
    for (let i = 0; (await pending())?.status !== 'stale'; i++) {
      if (i > 150) throw new Error(`the approval never went stale:\n${server!.stdout().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 90_000);

  it('takes a status a person sets on the Agent_Approval__c record inside Salesforce as their decision, seen through its change event', async () => {
    const serverUrl = await urlFromLog(server!, 'listening');
    const agent = await http('POST', `${serverUrl}/v1/admin/agents`, {
      token: adminToken,
      body: { name: 'dept-2', role: 'enrichment' },
    });
    const held = await http('POST', `${serverUrl}/v1/changesets`, {
      token: agent.body.token,
      body: {
        batchId: 'departments-2',
        objectType: 'salesforce:Contact',
        changes: [
          {
            recordId: CONTACTS[3],
            properties: { Department: 'Legal' },
            evidence: { source: 'crm', confidence: 0.9, reason: 'Org chart' },
          },
        ],
      },
    });
    expect(held.body.results[0].decision).toBe('pending_approval');
    const mirrored = async () =>
      (
        (await http('GET', `${sandboxUrl}/_sandbox/records/Agent_Approval__c`)).body.records as {
          id: string;
          values: Record<string, string | null>;
        }[]
      ).find((found) => found.values.Contact__c === CONTACTS[3]);
    for (let i = 0; (await mirrored()) === undefined; i++) {
      if (i > 150) throw new Error(`the approval was never mirrored:\n${server!.stdout().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The record's owner (a rep) rejects it on the approval record, in Salesforce.
    await http('POST', `${sandboxUrl}/_sandbox/edit`, {
      body: { object: 'Agent_Approval__c', id: (await mirrored())?.id, values: { Agent_status__c: 'Rejected' } },
    });
    const status = async () =>
      (
        (await http('GET', `${serverUrl}/v1/admin/approvals`, { token: adminToken })).body.approvals as {
          recordId: string;
          status: string;
        }[]
      ).find((approval) => approval.recordId === CONTACTS[3])?.status;
    // The change event goes sandbox → Pub/Sub → follower → stored change → worker: under a loaded machine's
    // scheduling that took longer than 30 s, so wait a minute.
    for (let i = 0; (await status()) !== 'rejected'; i++) {
      if (i > 300) throw new Error(`the rejection never arrived:\n${server!.stderr().slice(-6000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect((await record(CONTACTS[3]!)).values.Department).not.toBe('Legal');
  }, 150_000);

  it('rolls the batch back, leaving the record a person edited since as a conflict', async () => {
    const serverUrl = await urlFromLog(server!, 'listening');
    await http('POST', `${sandboxUrl}/_sandbox/edit`, {
      body: { object: 'Contact', id: CONTACTS[1], values: { Title: 'Founder' } },
    });
    const dry = await http('POST', `${serverUrl}/v1/admin/rollbacks`, {
      token: adminToken,
      body: { selector: { batchId: 'titles' }, dryRun: true },
    });
    expect(dry.body.counts).toMatchObject({ revert: 4, conflict: 1 });
    const started = await http('POST', `${serverUrl}/v1/admin/rollbacks`, {
      token: adminToken,
      body: { selector: { batchId: 'titles' } },
    });
    expect(started.status).toBe(202);
    let view = started.body;
    while (view.status !== 'completed') {
      await new Promise((resolve) => setTimeout(resolve, 200));
      view = (await http('GET', `${serverUrl}/v1/admin/rollbacks/${started.body.id}`, { token: adminToken })).body;
    }
    expect(view.counts).toMatchObject({ reverted: 4, conflict: 1, failed: 0 });
    expect((await record(CONTACTS[0]!)).values.Title).toBeNull();
    expect((await record(CONTACTS[1]!)).values.Title).toBe('Founder');
  }, 90_000);
});
