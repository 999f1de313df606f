import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { propertyHistory, recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import type { CrmPort } from '../../server/src/crm/port.ts';
import { AppError } from '../../server/src/errors.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { changes } from '../../server/src/store/schema.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { runRollback, seedContacts, submitTitles } from '../support/rollbacks.ts';

const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let ids: string[];

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  ids = seedContacts(
    harness,
    Array.from({ length: 150 }, (_, i) => `Engineer ${i}`),
  );
  await submitTitles(harness, ws.agents[0]!.token, 'enrich-1', Object.fromEntries(ids.map((id) => [id, 'CTO'])));
});
afterEach(() => harness.close());

const admin = (method: string, path: string, body?: unknown) =>
  api(harness, method, path, { token: ws.adminToken, ...(body === undefined ? {} : { body }) });
const start = (selector: object = { batchId: 'enrich-1' }) => admin('POST', '/v1/admin/rollbacks', { selector });
const titles = () => ids.map((id) => recordValues(harness.hubspot.state, 'contacts', id)?.jobtitle);
const restored = () => ids.map((_, i) => `Engineer ${i}`);
/** How many times our app wrote this record's job title in HubSpot: the batch once, the rollback once. */
const apiWrites = (id: string) =>
  propertyHistory(harness.hubspot.state, 'contacts', id, 'jobtitle').filter((entry) => entry.sourceType === 'API')
    .length;

describe('selectors that match nothing, and bad input', () => {
  it.each([
    { name: 'an unknown batch', selector: { batchId: 'never-ran' } },
    { name: 'an agent with no changes in the range', selector: { agentId: '00000000-0000-4000-8000-000000000000' } },
    { name: 'a batch narrowed to records it did not touch', selector: { batchId: 'enrich-1', recordIds: ['999999'] } },
  ])('answers 404 NOTHING matched for $name, dry run or not, and stores nothing', async ({ selector }) => {
    for (const dryRun of [true, false]) {
      const res = await admin('POST', '/v1/admin/rollbacks', { selector, dryRun });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining('Nothing to roll back'),
      });
    }
    expect(await start()).toMatchObject({ status: 202 }); // the failed attempts left no active rollback behind
  });

  it.each([
    { name: 'an empty selector', body: { selector: {} }, path: 'selector' },
    {
      name: 'since after until',
      body: {
        selector: {
          agentId: '00000000-0000-4000-8000-000000000000',
          since: '2026-11-23T10:00:00Z',
          until: '2026-11-22T10:00:00Z',
        },
      },
      path: 'selector',
    },
    { name: 'a record id that is not one', body: { selector: { recordIds: ['abc'] } }, path: 'selector.recordIds' },
    { name: 'an unknown field', body: { selector: { batchId: 'x' }, everything: true }, path: '' },
  ])('refuses $name with 400 naming the path', async ({ body, path }) => {
    const res = await admin('POST', '/v1/admin/rollbacks', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    if (path) expect(res.body.error.message).toContain(path);
  });

  it('answers 404 for an unknown or malformed rollback id', async () => {
    expect((await admin('GET', '/v1/admin/rollbacks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await admin('GET', '/v1/admin/rollbacks/not-an-id')).status).toBe(404);
    expect((await admin('GET', '/v1/admin/rollbacks/not-an-id/report')).status).toBe(404);
  });
});

describe('two rollbacks of the same batch', () => {
  it('refuses the second with 409 naming the first while it is active, even when both arrive at once', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const [accepted, refused] = a.status === 202 ? [a, b] : [b, a];
    expect(accepted.status).toBe(202);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'CONFLICT', details: { rollbackId: accepted.body.id } });
    expect((await start({ batchId: 'enrich-1', recordIds: [ids[0]] })).status).toBe(409); // part of the same batch, too
    await runRollback(harness, accepted.body.id);
    expect(titles()).toEqual(restored());
    expect(ids.every((id) => apiWrites(id) === 2)).toBe(true);
    expect((await start({ batchId: 'enrich-1', recordIds: [ids[0]] })).status).toBe(202); // once completed, the batch may be rolled back again
  });
});

describe('pause and resume', () => {
  it('stops before the next write when paused, and finishes when resumed', async () => {
    const started = await start();
    expect((await admin('POST', `/v1/admin/rollbacks/${started.body.id}/pause`)).body).toMatchObject({
      status: 'paused',
      statusReason: expect.stringContaining('Paused by'),
    });
    expect(await runRollback(harness, started.body.id)).toBe('none');
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(2); // the batch's own two writes
    expect((await admin('POST', `/v1/admin/rollbacks/${started.body.id}/resume`)).body).toMatchObject({
      status: 'running',
      statusReason: null,
    });
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    expect(titles()).toEqual(restored());
    expect((await admin('POST', `/v1/admin/rollbacks/${started.body.id}/pause`)).status).toBe(409);
  });

  it('pauses itself when the workspace kill switch is engaged, and is resumed once it is released', async () => {
    const started = await start();
    await admin('PUT', '/v1/admin/kill-switches', { scope: 'workspace', engaged: true, reason: 'incident' });
    expect(await runRollback(harness, started.body.id)).toBe('paused');
    expect((await admin('GET', `/v1/admin/rollbacks/${started.body.id}`)).body).toMatchObject({
      status: 'paused',
      statusReason: expect.stringContaining('incident'),
      done: 0,
    });
    expect(titles().every((t) => t === 'CTO')).toBe(true);
    await admin('PUT', '/v1/admin/kill-switches', { scope: 'workspace', engaged: false, reason: 'over' });
    await admin('POST', `/v1/admin/rollbacks/${started.body.id}/resume`);
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    expect(titles()).toEqual(restored());
  });

  it('obeys a kill switch engaged while its first step is read, before writing anything', async () => {
    const started = await start();
    const writes = harness.hubspot.calls.count({ route: UPDATE });
    const read = harness.hubspot.faults.hold('POST /crm/v3/objects/{type}/batch/read');
    const run = runRollback(harness, started.body.id);
    await read.arrived;
    await admin('PUT', '/v1/admin/kill-switches', { scope: 'workspace', engaged: true, reason: 'incident' });
    read.release();
    expect(await run).toBe('paused');
    expect((await admin('GET', `/v1/admin/rollbacks/${started.body.id}`)).body).toMatchObject({
      status: 'paused',
      statusReason: expect.stringContaining('incident'),
      done: 0,
    });
    expect(titles().every((t) => t === 'CTO')).toBe(true);
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(writes);
  });

  it('is not stopped by the kill switch of the agent whose batch it undoes', async () => {
    await admin('PUT', '/v1/admin/kill-switches', {
      scope: 'agent',
      target: ws.agents[0]!.id,
      engaged: true,
      reason: 'bad batch',
    });
    const started = await start();
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    expect(titles()).toEqual(restored());
  });
});

describe('HubSpot faults while rolling back', () => {
  it('retries a record HubSpot rejects (207), then reports it failed with HubSpot’s message; the rest land', async () => {
    harness.hubspot.faults.rejectUpdatesOf('contacts', ids[1]!, 'Property values were not valid: jobtitle is locked');
    const started = await start();
    await runRollback(harness, started.body.id);
    const view = await admin('GET', `/v1/admin/rollbacks/${started.body.id}`);
    expect(view.body).toMatchObject({ status: 'completed', counts: { reverted: 149, failed: 1 } });
    const report = await admin('GET', `/v1/admin/rollbacks/${started.body.id}/report`);
    expect(report.body.items[1]).toMatchObject({
      recordId: ids[1],
      outcome: 'failed',
      explanation: expect.stringContaining('jobtitle is locked'),
    });
    expect(recordValues(harness.hubspot.state, 'contacts', ids[1]!)?.jobtitle).toBe('CTO');
    // The batch's two writes; the rollback's first pass (100 + 50 records), then the rejected record alone twice more.
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(2 + 2 + 2);
  });

  it('waits out a 429 storm and 5xx answers, and writes every record exactly once', async () => {
    harness.hubspot.faults.failNext(3, { status: 429, intervalMs: 5 }, UPDATE);
    harness.hubspot.faults.failNext(1, { status: 502 }, UPDATE);
    harness.hubspot.faults.failNext(1, { status: 'connection-reset' }, UPDATE);
    const started = await start();
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    expect(titles()).toEqual(restored());
    expect(ids.every((id) => apiWrites(id) === 2)).toBe(true);
  });

  it('re-reads a write whose answer was lost after HubSpot made it, instead of writing it again', async () => {
    let lose = true;
    // HubSpot writes the first batch, then the connection drops before its answer reaches us.
    const losingFirstAnswer = (real: CrmPort): CrmPort => ({
      ...real,
      writeBatch: async (input) => {
        const outcomes = await real.writeBatch(input);
        if (!lose) return outcomes;
        lose = false;
        throw new AppError('CRM_UNAVAILABLE', 'The connection dropped before HubSpot answered.');
      },
    });
    const deps: ServiceDeps = {
      ...harness.deps,
      crmFor: (workspace) => losingFirstAnswer(harness.deps.crmFor(workspace)),
    };
    const started = await start();
    expect(await runRollback(harness, started.body.id, deps)).toBe('completed');
    const view = (await admin('GET', `/v1/admin/rollbacks/${started.body.id}`)).body;
    expect(view.counts).toMatchObject({ reverted: 150, alreadyReverted: 0, failed: 0 });
    expect(titles()).toEqual(restored());
    expect(ids.every((id) => apiWrites(id) === 2)).toBe(true);
    // The rollback's change set records those writes as applied, so undoing the rollback finds them.
    const rows = await harness.deps.db
      .select({ decision: changes.decision })
      .from(changes)
      .where(eq(changes.changeSetId, view.changeSetIds.contacts));
    expect(rows.map((r) => r.decision)).toEqual(Array(150).fill('applied'));
  });

  it('after an outage outlasting the retries, tries that batch again and reports nothing lost', async () => {
    harness.hubspot.faults.failNext(5, { status: 503 }, UPDATE); // all of the adapter's attempts at the first batch
    const started = await start();
    await runRollback(harness, started.body.id);
    expect((await admin('GET', `/v1/admin/rollbacks/${started.body.id}`)).body.counts).toMatchObject({
      reverted: 150,
      failed: 0,
    });
    expect(titles()).toEqual(restored());
  });
});
