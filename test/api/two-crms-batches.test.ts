import { followSandboxChangeStreams } from '../support/change-streams.ts';
import { hubspotOrSalesforce, workspaceOfBothCrms } from '../support/salesforce.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSalesforceSandbox, startSalesforceSandbox } from '../../server/src/sandbox/salesforce/start.ts';
import { UI_ORIGIN } from '../../server/src/sandbox/salesforce/http-server.ts';
import { createRecord, newId, updateRecord } from '../../server/src/sandbox/salesforce/state.ts';
import {
  bootstrapWorkspace,
  claimAndRunQuarantine,
  createAgent,
  publishPolicy,
  setKillSwitch,
} from '../../server/src/services/governance/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import { EVIDENCE, runRollback } from '../support/rollbacks.ts';
import { historyRows } from '../support/webhooks.ts';
import { ADMIN, api, type Harness, startHarness } from '../support/harness.ts';

// Issue 20: in a workspace holding a HubSpot portal (first) and a Salesforce org, work on the org's
// records goes in the org's batch sizes (reads of 2,000 ids, writes of 2,000 records spread over
// Collections calls of 200), not HubSpot's 100 that the routed port gives callers naming no object.
let harness: Harness;
let sandbox: RunningSalesforceSandbox;
let ws: { id: string; adminToken: string };
let agent: { id: string; token: string };
let ids: string[];
const RECORDS = 300;

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, seed: false });
  harness = await startHarness({ hubspotOverHttp: true, crmFor: hubspotOrSalesforce });
  ws = await workspaceOfBothCrms(harness, sandbox.url, '4400');
  await publishPolicy(
    harness.deps,
    ws.id,
    {
      name: 'Both',
      timezone: 'UTC',
      objects: {
        contacts: { properties: { jobtitle: { enrichment: 'auto' } } },
        'salesforce:Contact': { properties: { Title: { enrichment: 'auto' } } },
      },
    },
    ADMIN,
  );
  await bootstrapWorkspace(harness.deps, ws.id, ADMIN);
  agent = await createAgent(harness.deps, ws.id, { name: 'enricher', role: 'enrichment' }, ADMIN);
  ids = Array.from({ length: RECORDS }, (_, i) =>
    createRecord(sandbox.state, 'Contact', { LastName: `P${i}`, Title: `Title ${i}` }, { userId: '', origin: '' }),
  );
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await sandbox?.close();
});

/** The org's record calls since the last look: Collections retrieves (POST) and updates (PATCH). */
const recordCalls = () => {
  const calls = sandbox.state.calls
    .filter((call) => call.path.startsWith('/composite/sobjects'))
    .map((call) => `${call.method} ${call.path}`);
  sandbox.state.calls.length = 0;
  return calls;
};

describe('batch sizes of the org’s records in a workspace of both CRMs', () => {
  it('rolls back Salesforce records in steps of 2,000 and marks them for review in writes of 2,000', async () => {
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: agent.token,
      body: {
        batchId: 'sf-titles',
        objectType: 'salesforce:Contact',
        changes: ids.map((recordId, i) => ({ recordId, properties: { Title: `Wrong ${i}` }, evidence: EVIDENCE })),
      },
    });
    expect(submitted.status).toBe(201);
    recordCalls();

    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'sf-titles' } },
    });
    expect(started.status).toBe(202);
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    // One step: one read of the 300 records, one write sent as Collections calls of 200 (100-record
    // steps were three reads and three writes).
    expect(recordCalls().sort()).toEqual([
      'PATCH /composite/sobjects',
      'PATCH /composite/sobjects',
      'POST /composite/sobjects/Contact',
    ]);
    const contact = (i: number) => sandbox.state.objects.get('Contact')!.records.get(ids[i]!);
    expect([contact(0)?.['Title'], contact(RECORDS - 1)?.['Title']]).toEqual(['Title 0', `Title ${RECORDS - 1}`]);

    // Stopping the agent quarantines what it wrote: the marks go in one write, as Collections calls of 200.
    await setKillSwitch(
      harness.deps,
      ws.id,
      { scope: 'agent', target: agent.id, engaged: true, reason: 'wrong titles' },
      ADMIN,
    );
    expect(await claimAndRunQuarantine(harness.deps, { holder: 'worker' })).toBe('completed');
    expect(recordCalls()).toEqual(['PATCH /composite/sobjects', 'PATCH /composite/sobjects']);
    expect([contact(0)?.['Agent_needs_review__c'], contact(RECORDS - 1)?.['Agent_needs_review__c']]).toEqual([
      'true',
      'true',
    ]);
  }, 120_000);

  it('reads the org’s records again after a gap event in reads of 2,000 ids', async () => {
    recordCalls();
    // The org could not send these records' changes: the follower reads their governed fields again.
    const since = new Date();
    sandbox.bus.publishGap('Contact', ids, 'GAP_UPDATE', newId('005', 1));
    // What is read again is dated when it is read; the events the follower replays, when they were made.
    const reread = async () =>
      (await historyRows(harness.deps.db, ws.id)).filter((row) => row.property === 'Title' && row.occurredAt >= since);
    const followers = followSandboxChangeStreams(harness.deps, sandbox.pubSubEndpoint);
    try {
      for (let i = 0; (await reread()).length < RECORDS; i++) {
        if (i > 600) throw new Error('the records were never read again');
        while ((await processWebhookEvents(harness.deps)) > 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await followers.stop();
    }
    expect(recordCalls().filter((call) => call.startsWith('POST'))).toEqual(['POST /composite/sobjects/Contact']);
  }, 60_000);

  it('reads the org’s records for a segment switch engaged during a change set in reads of 2,000 ids', async () => {
    const second = await createAgent(harness.deps, ws.id, { name: 'second', role: 'enrichment' }, ADMIN);
    const records = Array.from({ length: RECORDS }, (_, i) =>
      createRecord(
        sandbox.state,
        'Contact',
        { LastName: `S${i}`, Department: i % 2 === 0 ? 'Legal' : 'Sales' },
        { userId: '', origin: '' },
      ),
    );
    recordCalls();
    // The change set's read is held while the switch is engaged: its writes must look at the records again.
    let held: () => void = () => {};
    const reading = new Promise<void>((resolve) => {
      sandbox.state.faults.hold = (request) => {
        if (request.method !== 'POST' || !request.path.endsWith('/composite/sobjects/Contact')) return undefined;
        sandbox.state.faults.hold = null;
        resolve();
        return new Promise<void>((release) => (held = release));
      };
    });
    const submitting = api(harness, 'POST', '/v1/changesets', {
      token: second.token,
      body: {
        batchId: 'sf-segment',
        objectType: 'salesforce:Contact',
        changes: records.map((recordId) => ({ recordId, properties: { Title: 'Counsel' }, evidence: EVIDENCE })),
      },
    });
    await reading;
    const engaged = await api(harness, 'PUT', '/v1/admin/kill-switches', {
      token: ws.adminToken,
      body: {
        scope: 'segment',
        condition: { objectType: 'salesforce:Contact', property: 'Department', op: 'eq', value: 'Legal' },
        engaged: true,
        reason: 'legal is off limits',
      },
    });
    expect(engaged.status).toBe(200);
    held();
    const submitted = await submitting;
    expect(submitted.status).toBe(201);
    const decisions = (submitted.body as { results: { decision: string }[] }).results.map((result) => result.decision);
    expect(decisions.filter((decision) => decision === 'applied')).toHaveLength(RECORDS / 2);
    // The change set's read, then one read of the 300 records' Department (not three of 100).
    expect(recordCalls().filter((call) => call.startsWith('POST'))).toEqual([
      'POST /composite/sobjects/Contact',
      'POST /composite/sobjects/Contact',
    ]);
  }, 60_000);

  it('explains a rollback step’s conflicts from the org’s field history in reads of its own batch size', async () => {
    const third = await createAgent(harness.deps, ws.id, { name: 'third', role: 'enrichment' }, ADMIN);
    const records = Array.from({ length: RECORDS }, (_, i) =>
      createRecord(sandbox.state, 'Contact', { LastName: `C${i}`, Title: 'Analyst' }, { userId: '', origin: '' }),
    );
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: third.token,
      body: {
        batchId: 'sf-conflicts',
        objectType: 'salesforce:Contact',
        changes: records.map((recordId) => ({ recordId, properties: { Title: 'Director' }, evidence: EVIDENCE })),
      },
    });
    expect(submitted.status).toBe(201);
    // A person edits every title in Salesforce, unseen by us: the rollback asks the org's history who did.
    for (const id of records)
      updateRecord(sandbox.state, 'Contact', id, { Title: 'Manager' }, { userId: newId('005', 1), origin: UI_ORIGIN });
    recordCalls();
    sandbox.state.calls.length = 0;
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'sf-conflicts' } },
    });
    expect(started.status).toBe(202);
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    const rolledBack = await api(harness, 'GET', `/v1/admin/rollbacks/${started.body.id}`, { token: ws.adminToken });
    expect(rolledBack.body.counts).toMatchObject({ conflict: RECORDS, reverted: 0 });
    // History reads of 200 records (Salesforce's batch), not 100.
    const queries = sandbox.state.calls.filter((call) => call.method === 'GET' && call.path.startsWith('/query'));
    expect(queries).toHaveLength(2);
  }, 60_000);
});
