import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { propertyHistory, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { submissionRowCounts } from '../support/row-counts.ts';

const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
const READ = 'POST /crm/v3/objects/{type}/batch/read';

let harness: Harness;
let token: string;

beforeEach(async () => {
  harness = await startHarness();
  const ws = await seedWorkspace(harness);
  token = ws.agents[0]!.token;
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
});
afterEach(() => harness.close());

const evidence = { source: 'apollo', reason: 'profile says so', confidence: 0.95 };
const contacts = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    seedRecord(harness.hubspot.state, 'contacts', { properties: { email: `c${i}@example.com` } }),
  );
const submit = (ids: string[], title = 'CTO') =>
  api(harness, 'POST', '/v1/changesets', {
    token,
    body: {
      batchId: 'faults',
      objectType: 'contacts',
      changes: ids.map((recordId) => ({ recordId, properties: { jobtitle: title }, evidence })),
    },
  });

/** How many times HubSpot recorded our app writing this property: more than one means a double write. */
const apiWrites = (id: string) =>
  propertyHistory(harness.hubspot.state, 'contacts', id, 'jobtitle').filter((entry) => entry.sourceType === 'API')
    .length;

describe('HubSpot faults in the middle of a change set', () => {
  it('a 207 partial failure fails only the rejected records, with HubSpot’s message, and writes the rest', async () => {
    const ids = contacts(3);
    harness.hubspot.faults.rejectUpdatesOf('contacts', ids[1]!, 'Property values were not valid: jobtitle is locked');
    const res = await submit(ids);
    expect(res.body.results.map((r: { decision: string }) => r.decision)).toEqual(['applied', 'failed', 'applied']);
    expect(res.body.results[1]).toMatchObject({
      reasons: ['tier_auto', 'crm_rejected'],
      message: expect.stringContaining('jobtitle is locked'),
    });
    expect(recordValues(harness.hubspot.state, 'contacts', ids[0]!)!.jobtitle).toBe('CTO');
    expect(recordValues(harness.hubspot.state, 'contacts', ids[1]!)!.jobtitle).toBeUndefined();
    // The answer is built from the rows in memory; what the database holds must read back the same.
    expect((await api(harness, 'GET', `/v1/changesets/${res.body.id}`, { token })).body).toEqual(res.body);
  });

  it('a 429 storm on the writes is waited out as the headers say, and every record is written exactly once', async () => {
    const ids = contacts(150);
    harness.hubspot.faults.failNext(3, { status: 429, intervalMs: 5 }, UPDATE);
    const res = await submit(ids);
    expect(res.body.summary).toMatchObject({ applied: 150, failed: 0 });
    expect(harness.hubspot.calls.count({ route: UPDATE, status: 429 })).toBe(3);
    expect(ids.every((id) => apiWrites(id) === 1)).toBe(true);
  });

  it('a 5xx on a write is retried with backoff, and nothing is written twice', async () => {
    const ids = contacts(120);
    harness.hubspot.faults.failNext(1, { status: 502 }, UPDATE);
    harness.hubspot.faults.failNext(1, { status: 'connection-reset' }, UPDATE);
    const res = await submit(ids);
    expect(res.body.summary).toMatchObject({ applied: 120, failed: 0 });
    expect(ids.every((id) => apiWrites(id) === 1)).toBe(true);
  });

  it('an outage that outlasts the retries fails that batch’s records as crm_unavailable, and the other batches still land', async () => {
    const ids = contacts(200);
    harness.hubspot.faults.failNext(5, { status: 503 }, UPDATE); // the adapter's five attempts at the first batch
    const res = await submit(ids);
    expect(res.body.summary).toMatchObject({ applied: 100, failed: 100 });
    expect(res.body.results[0]).toMatchObject({ decision: 'failed', reasons: ['tier_auto', 'crm_unavailable'] });
    expect(res.body.results[150]).toMatchObject({ decision: 'applied' });
    expect((await api(harness, 'GET', `/v1/changesets/${res.body.id}`, { token })).body).toEqual(res.body);
  });

  it('when HubSpot cannot be read, the submission fails with 503 and stores nothing, so the agent can retry', async () => {
    const ids = contacts(2);
    await submit(ids); // warms the property cache so the read is the first call
    harness.hubspot.faults.failNext(5, { status: 503 }, READ);
    const before = await submissionRowCounts(harness.database.db);
    const res = await api(harness, 'POST', '/v1/changesets', {
      token,
      headers: { 'idempotency-key': 'retry-me' },
      body: {
        batchId: 'faults',
        objectType: 'contacts',
        changes: [{ recordId: ids[0], properties: { city: 'Lyon' }, evidence }],
      },
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('CRM_UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(await submissionRowCounts(harness.database.db)).toEqual(before);
    const retry = await api(harness, 'POST', '/v1/changesets', {
      token,
      headers: { 'idempotency-key': 'retry-me' },
      body: {
        batchId: 'faults',
        objectType: 'contacts',
        changes: [{ recordId: ids[0], properties: { city: 'Lyon' }, evidence }],
      },
    });
    expect(retry.status).toBe(201);
  });
});
