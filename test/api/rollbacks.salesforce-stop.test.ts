import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSalesforceSandboxServer,
  type SalesforceSandboxServer,
  UI_ORIGIN,
} from '../../server/src/sandbox/salesforce/http-server.ts';
import {
  addClient,
  createRecord,
  createSalesforceSandboxState,
  newId,
  type SalesforceSandboxState,
  updateRecord,
} from '../../server/src/sandbox/salesforce/state.ts';
import { submitChangeSet } from '../../server/src/services/change-sets/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { authenticateAgent, setKillSwitch } from '../../server/src/services/governance/index.ts';
import {
  claimAndRunRollback,
  getRollback,
  setRollbackPaused,
  startRollback,
} from '../../server/src/services/rollbacks/index.ts';
import type { Database } from '../../server/src/store/database.ts';
import { rollbackItems } from '../../server/src/store/schema.ts';
import { createTestDatabase } from '../support/database.ts';
import { enrichedSalesforceWorkspace, salesforceTestDeps, TEST_SALESFORCE_APP } from '../support/salesforce.ts';

// Issue 20: a rollback marks its next step while the step before is written (a Bulk job of 2,000
// records), so the next write starts as soon as that one ends. A kill switch engaged, or a pause,
// while the Bulk job is in flight must still stop the next write; its marked items are re-read
// when the rollback resumes, as after a crash between mark and write, never blindly written.
const RECORDS = 2_100; // a step of 2,000 (a Bulk job), then one of 100 (a Collections call)
const ADMIN = { type: 'admin', via: 'cli', name: 'test' } as const;
const PERSON = newId('005', 1);
let database: Database;
let state: SalesforceSandboxState;
let sandbox: SalesforceSandboxServer;
let deps: ServiceDeps;
let workspaceId: string;
let agentToken: string;

beforeAll(async () => {
  database = await createTestDatabase();
  state = createSalesforceSandboxState({ apiLimit: 1_000_000 });
  addClient(state, TEST_SALESFORCE_APP);
  sandbox = createSalesforceSandboxServer(state);
  const url = await sandbox.listen(0);
  deps = salesforceTestDeps(database.db, { bulkThreshold: 300, bulkPollIntervalMs: 10 });
  ({ workspaceId, agentToken } = await enrichedSalesforceWorkspace(deps, {
    loginUrl: url,
    name: 'Stops',
    properties: ['Title'],
  }));
}, 60_000);
afterEach(async () => {
  // A case that failed half way leaves no stop behind for the next one.
  state.faults.hold = null;
  await setKillSwitch(deps, workspaceId, { scope: 'workspace', engaged: false, reason: 'next case' }, ADMIN);
});
afterAll(async () => {
  await sandbox?.close();
  await database?.close();
});

const title = (id: string) => state.objects.get('Contact')!.records.get(id)?.['Title'];
const writes = () =>
  state.calls.filter(
    (call) => call.path === '/jobs/ingest' || (call.method === 'PATCH' && call.path === '/composite/sobjects'),
  );

/** `records` contacts titled `Title i`, then a batch setting them to `Wrong i`, 1,000 a change set. */
async function wrongTitles(batchId: string, records = RECORDS): Promise<string[]> {
  const ids = Array.from({ length: records }, (_, i) =>
    createRecord(state, 'Contact', { LastName: `P${i}`, Title: `Title ${i}` }, { userId: '', origin: '' }),
  );
  const { agent, workspace } = await authenticateAgent(deps, agentToken);
  for (let start = 0; start < records; start += 1_000)
    await submitChangeSet(deps, {
      agent,
      workspace,
      request: {
        batchId,
        objectType: 'salesforce:Contact',
        changes: ids.slice(start, start + 1_000).map((recordId, i) => ({
          recordId,
          properties: { Title: `Wrong ${start + i}` },
          evidence: { source: 'test', confidence: 0.9, reason: 'test' },
        })),
      },
    });
  return ids;
}

const itemsIn = async (rollbackId: string, itemState: 'writing') =>
  (
    await database.db
      .select({ recordId: rollbackItems.recordId })
      .from(rollbackItems)
      .where(and(eq(rollbackItems.rollbackId, rollbackId), eq(rollbackItems.state, itemState)))
  ).map((row) => row.recordId);

const run = (id: string) => claimAndRunRollback(deps, { holder: 'test', leaseMs: 60_000, only: { workspaceId, id } });

describe('a rollback stopped while a Bulk job writes its step', () => {
  it.each([
    {
      what: 'a workspace kill switch',
      stop: () =>
        setKillSwitch(deps, workspaceId, { scope: 'workspace', engaged: true, reason: 'incident' }, ADMIN).then(
          () => {},
        ),
      reason: 'incident',
      go: async (id: string) => {
        await setKillSwitch(deps, workspaceId, { scope: 'workspace', engaged: false, reason: 'over' }, ADMIN);
        await setRollbackPaused(deps, workspaceId, id, false, ADMIN);
      },
    },
    {
      what: 'an admin’s pause',
      stop: (id: string) => setRollbackPaused(deps, workspaceId, id, true, ADMIN).then(() => {}),
      reason: 'Paused by test',
      go: (id: string) => setRollbackPaused(deps, workspaceId, id, false, ADMIN).then(() => {}),
    },
  ])(
    '$what writes no further step; resumed, the marked step is read again and each record written once',
    async ({ what, stop, reason, go }) => {
      const ids = await wrongTitles(what);
      const rollback = await startRollback(
        deps,
        workspaceId,
        { selector: { batchId: what }, dryRun: false, force: false },
        ADMIN,
      );
      // The Bulk job's last call (its state) waits until the next step is marked, then the stop comes.
      let markedAhead: string[] = [];
      state.faults.hold = (request) => {
        if (request.method !== 'GET' || !request.path.includes('/jobs/ingest/')) return undefined;
        state.faults.hold = null;
        return (async () => {
          for (let i = 0; i < 500 && markedAhead.length < RECORDS; i++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            markedAhead = await itemsIn(rollback.id, 'writing');
          }
          await stop(rollback.id);
        })();
      };
      state.calls.length = 0;
      expect(await run(rollback.id)).toBe('paused');
      // Both steps' items were marked while the Bulk job was in flight; only that job wrote.
      expect(markedAhead).toHaveLength(RECORDS);
      expect(writes().map((call) => `${call.method} ${call.path}`)).toEqual(['POST /jobs/ingest']);
      const unwritten = await itemsIn(rollback.id, 'writing');
      expect(unwritten).toHaveLength(RECORDS - 2_000);
      expect(unwritten.map(title)).toEqual(unwritten.map((id) => `Wrong ${ids.indexOf(id)}`));
      expect(ids.filter((id) => title(id) === `Title ${ids.indexOf(id)}`)).toHaveLength(2_000);
      const paused = await getRollback(deps, workspaceId, rollback.id);
      expect(paused).toMatchObject({ status: 'paused', statusReason: expect.stringContaining(reason), done: 2_000 });

      // A person edits one of the marked records meanwhile: read again on resume, it is a conflict, left alone.
      const edited = unwritten[0]!;
      updateRecord(state, 'Contact', edited, { Title: 'Head of Sales' }, { userId: PERSON, origin: UI_ORIGIN });
      await go(rollback.id);
      state.calls.length = 0;
      expect(await run(rollback.id)).toBe('completed');
      expect(writes().map((call) => `${call.method} ${call.path}`)).toEqual(['PATCH /composite/sobjects']);
      expect(await getRollback(deps, workspaceId, rollback.id)).toMatchObject({
        status: 'completed',
        counts: { reverted: RECORDS - 1, conflict: 1, alreadyReverted: 0, failed: 0 },
      });
      expect(title(edited)).toBe('Head of Sales');
      expect(ids.filter((id) => id !== edited).every((id) => title(id) === `Title ${ids.indexOf(id)}`)).toBe(true);
    },
    180_000, // two change sets and a rollback of 2,100 records each, on a loaded machine
  );
});

describe('a rollback whose next step is a Bulk job too', () => {
  it('stages that job while the one before writes, and a kill switch engaged meanwhile aborts it unclosed', async () => {
    const records = 2_400; // a Bulk job of 2,000, then one of 400
    const ids = await wrongTitles('staged', records);
    const rollback = await startRollback(
      deps,
      workspaceId,
      { selector: { batchId: 'staged' }, dryRun: false, force: false },
      ADMIN,
    );
    const uploads = () => state.calls.filter((call) => call.method === 'PUT' && call.path.endsWith('/batches'));
    // The first job's state waits until the next step is marked and its job uploaded, then the switch is engaged.
    state.faults.hold = (request) => {
      if (request.method !== 'GET' || !request.path.includes('/jobs/ingest/')) return undefined;
      state.faults.hold = null;
      return (async () => {
        for (let i = 0; i < 500; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (uploads().length === 2 && (await itemsIn(rollback.id, 'writing')).length === records) break;
        }
        await setKillSwitch(deps, workspaceId, { scope: 'workspace', engaged: true, reason: 'incident' }, ADMIN);
      })();
    };
    const jobsBefore = new Set(state.bulkJobs.keys());
    state.calls.length = 0;
    expect(await run(rollback.id)).toBe('paused');
    const [first, second] = [...state.bulkJobs.values()].filter((job) => !jobsBefore.has(job.id));
    const calls = state.calls.map((call) => `${call.method} ${call.path}`);
    // The second job was opened before the first was done, and uploaded; never closed, it was aborted.
    expect(calls.filter((call) => call.includes(second!.id))).toEqual([
      `PUT /jobs/ingest/${second!.id}/batches`,
      `PATCH /jobs/ingest/${second!.id}`,
    ]);
    expect(calls.lastIndexOf('POST /jobs/ingest')).toBeLessThan(calls.indexOf(`GET /jobs/ingest/${first!.id}`));
    expect(second!.state).toBe('Aborted');
    expect(first!.state).toBe('JobComplete');
    const unwritten = await itemsIn(rollback.id, 'writing');
    expect(unwritten).toHaveLength(records - 2_000);
    expect(unwritten.map(title)).toEqual(unwritten.map((id) => `Wrong ${ids.indexOf(id)}`));

    await setKillSwitch(deps, workspaceId, { scope: 'workspace', engaged: false, reason: 'over' }, ADMIN);
    await setRollbackPaused(deps, workspaceId, rollback.id, false, ADMIN);
    state.calls.length = 0;
    expect(await run(rollback.id)).toBe('completed');
    expect(writes().map((call) => `${call.method} ${call.path}`)).toEqual(['POST /jobs/ingest']);
    expect(await getRollback(deps, workspaceId, rollback.id)).toMatchObject({
      status: 'completed',
      counts: { reverted: records, conflict: 0, alreadyReverted: 0, failed: 0 },
    });
    expect(ids.every((id) => title(id) === `Title ${ids.indexOf(id)}`)).toBe(true);
  }, 180_000);
});

describe('a rollback paused while its first step is read', () => {
  it('had that step’s Bulk job staged while the mark found it paused, and aborts the job unclosed', async () => {
    const records = 400; // one step, a Bulk job
    const ids = await wrongTitles('refused', records);
    const rollback = await startRollback(
      deps,
      workspaceId,
      { selector: { batchId: 'refused' }, dryRun: false, force: false },
      ADMIN,
    );
    // The read's answer waits until an admin pauses the rollback: its mark then finds it paused.
    state.faults.hold = (request) => {
      if (request.method !== 'POST' || !request.path.includes('/composite/sobjects/')) return undefined;
      state.faults.hold = null;
      return setRollbackPaused(deps, workspaceId, rollback.id, true, ADMIN).then(() => {});
    };
    const jobsBefore = new Set(state.bulkJobs.keys());
    state.calls.length = 0;
    expect(await run(rollback.id)).toBe('paused');
    const [job, other] = [...state.bulkJobs.values()].filter((j) => !jobsBefore.has(j.id));
    expect(other).toBeUndefined();
    expect(state.calls.filter((call) => call.path.startsWith('/jobs/ingest')).map((call) => call.method)).toEqual([
      'POST',
      'PUT',
      'PATCH',
    ]);
    expect(job!.state).toBe('Aborted');
    expect(ids.every((id) => title(id) === `Wrong ${ids.indexOf(id)}`)).toBe(true);
    expect(await itemsIn(rollback.id, 'writing')).toEqual([]);

    await setRollbackPaused(deps, workspaceId, rollback.id, false, ADMIN);
    state.calls.length = 0;
    expect(await run(rollback.id)).toBe('completed');
    expect(writes().map((call) => `${call.method} ${call.path}`)).toEqual(['POST /jobs/ingest']);
    expect(ids.every((id) => title(id) === `Title ${ids.indexOf(id)}`)).toBe(true);
  }, 180_000);
});
