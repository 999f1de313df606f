import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../server/src/sandbox/salesforce/state.ts';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from './support/processes.ts';
import { migratedDataFolder } from '../support/data-folders.ts';

// Issue 20: `npm start -- --salesforce` in demo mode runs the local Salesforce beside the local
// HubSpot, with a workspace connected to each; the server follows the Salesforce org's change
// events from the local Pub/Sub endpoint, so a person's edit there makes a held value stale.
describe('npm start in demo mode with the local Salesforce', () => {
  const data = migratedDataFolder('ag-e2e-demo-sf-');
  let server: NodeProcess;
  let serverUrl: string;
  let salesforceUrl: string;

  beforeAll(async () => {
    server = startNodeProcess(
      'server/src/main.ts',
      serverEnv(data.dir, { SALESFORCE_SANDBOX_PORT: '0', DEMO_BATCH: 'off', CHANGE_STREAM_POLL_MS: '500' }),
      ['--salesforce'],
    );
    salesforceUrl = await urlFromLog(server, 'salesforce demo workspace ready', 180_000);
    serverUrl = await urlFromLog(server, 'listening', 60_000);
    await server.waitForLine((line) => line.startsWith('Try next'), 60_000);
  }, 300_000);
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it('prints a console sign-in for each CRM’s workspace', () => {
    const signIns = server.stdout().match(/web console: +http\S+/g) ?? [];
    expect(signIns).toHaveLength(2);
    expect(server.stdout()).toMatch(/\(org \w+: \d+ Contacts, \d+ Leads, \d+ Opportunities; change events at /);
    expect(server.stdout()).toContain(`one-time sign-in as Salesforce user ${newId('005', 1)}`);
  });

  it('holds a department for approval, and a person’s edit in Salesforce makes it stale through its change event', async () => {
    const agentToken = /enrichment agent: +(\S+) +\(shown this once\)/.exec(server.stdout())?.[1];
    const adminToken = /admin token: +(\S+) +\(shown this once\)/.exec(server.stdout())?.[1];
    const contact = newId('003', 1);
    const held = await http('POST', `${serverUrl}/v1/changesets`, {
      token: agentToken,
      body: {
        batchId: 'demo-departments',
        objectType: 'salesforce:Contact',
        changes: [
          {
            recordId: contact,
            properties: { Department: 'Finance' },
            evidence: { source: 'crm', confidence: 0.9, reason: 'Org chart' },
          },
        ],
      },
    });
    expect(held.body.results[0].decision).toBe('pending_approval');
    const approval = async () =>
      (
        (await http('GET', `${serverUrl}/v1/admin/approvals`, { token: adminToken })).body.approvals as {
          recordId: string;
          status: string;
        }[]
      ).find((found) => found.recordId === contact);
    expect((await approval())?.status).toBe('pending');
    await http('POST', `${salesforceUrl}/_sandbox/edit`, {
      body: { object: 'Contact', id: contact, values: { Department: 'Set by a person' } },
    });
    for (let i = 0; (await approval())?.status !== 'stale'; i++) {
      if (i > 300) throw new Error(`the approval never went stale:\n${server.stdout().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 120_000);

  // Runs after the change event above went through, so the server's Pub/Sub client has connected.
  it('prints no warning a new user would have to wonder about, such as Node’s on a TLS server name', () => {
    expect(server.stderr()).not.toMatch(/DEP0123|DeprecationWarning|Warning:/);
  });
});
