import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSalesforceSandboxServer,
  type SalesforceSandboxServer,
} from '../../server/src/sandbox/salesforce/http-server.ts';
import {
  addClient,
  createRecord,
  createSalesforceSandboxState,
  type SalesforceSandboxState,
} from '../../server/src/sandbox/salesforce/state.ts';
import { submitChangeSet } from '../../server/src/services/change-sets/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { authenticateAgent, setKillSwitch } from '../../server/src/services/governance/index.ts';
import { claimAndRunRollback, startRollback } from '../../server/src/services/rollbacks/index.ts';
import type { Database } from '../../server/src/store/database.ts';
import { createTestDatabase } from '../support/database.ts';
import { enrichedSalesforceWorkspace, salesforceTestDeps, TEST_SALESFORCE_APP } from '../support/salesforce.ts';

// Issue 20: the API calls a change set and a rollback make against the local Salesforce are the
// floor (reads at 2,000 ids a call; writes at 200 records a call, or one Bulk job's four calls),
// plus describe once. Counts are deterministic; times are the benchmark's (bench/salesforce.ts).
const BULK_THRESHOLD = 300;
const ADMIN = { type: 'admin', via: 'cli', name: 'test' } as const;
let database: Database;
let state: SalesforceSandboxState;
let sandbox: SalesforceSandboxServer;
let deps: ServiceDeps;
let ids: string[];
let workspaceId: string;
let agentToken: string;

beforeAll(async () => {
  database = await createTestDatabase();
  state = createSalesforceSandboxState({ apiLimit: 1_000_000 });
  addClient(state, TEST_SALESFORCE_APP);
  const contact = state.objects.get('Contact')!;
  contact.fields.set('Score', { name: 'Score', label: 'Score', type: 'string', updateable: true, custom: false });
  ids = Array.from({ length: 2_100 }, (_, i) =>
    createRecord(state, 'Contact', { LastName: `Person ${i}`, Title: `Title ${i}` }, { userId: '', origin: '' }),
  );
  sandbox = createSalesforceSandboxServer(state);
  const url = await sandbox.listen(0);
  deps = salesforceTestDeps(database.db, { bulkThreshold: BULK_THRESHOLD, bulkPollIntervalMs: 10 });
  ({ workspaceId, agentToken } = await enrichedSalesforceWorkspace(deps, {
    loginUrl: url,
    name: 'Calls',
    properties: ['Title', 'Score'],
  }));
});
afterAll(async () => {
  await sandbox?.close();
  await database?.close();
});

const evidence = { source: 'test', confidence: 0.9, reason: 'test' };
const kinds = () =>
  state.calls.map((call) => `${call.method} ${call.path.replace(/\/jobs\/ingest\/\w+/, '/jobs/ingest/{job}')}`);

/** The records read, then one Bulk job opened and uploaded while the decisions were stored, then aborted: never closed, nothing written. */
function expectJobAbortedNothingWritten(): void {
  expect(kinds()).toEqual([
    'POST /composite/sobjects/Contact',
    'POST /jobs/ingest',
    'PUT /jobs/ingest/{job}/batches',
    'PATCH /jobs/ingest/{job}',
  ]);
  expect([...state.bulkJobs.values()].map((job) => job.state)).toEqual(['Aborted']);
  expect(state.objects.get('Contact')!.records.get(ids[0]!)).toMatchObject({ Title: 'Staged 0' });
}

async function submit(batchId: string, recordIds: string[], properties: (i: number) => Record<string, string>) {
  const { agent, workspace } = await authenticateAgent(deps, agentToken);
  return submitChangeSet(deps, {
    agent,
    workspace,
    request: {
      batchId,
      objectType: 'salesforce:Contact',
      changes: recordIds.map((recordId, i) => ({ recordId, properties: properties(i), evidence })),
    },
  });
}

describe('API calls against the floor on Salesforce', () => {
  it('a change set of 400 records reads them in one call and writes them in one Bulk job; describe is asked once', async () => {
    state.calls.length = 0;
    await submit('two-fields', ids.slice(0, 400), (i) => ({ Title: `New ${i}`, Score: `${i}` }));
    // Describe may be asked while the records are read: the counts, not the order, are the point.
    expect(kinds().sort()).toEqual(
      [
        'GET /sobjects/Contact/describe',
        'POST /composite/sobjects/Contact',
        'POST /jobs/ingest',
        'PUT /jobs/ingest/{job}/batches',
        'PATCH /jobs/ingest/{job}',
        'GET /jobs/ingest/{job}',
      ].sort(),
    );
    expect(state.objects.get('Contact')!.records.get(ids[399]!)).toMatchObject({ Title: 'New 399', Score: '399' });

    state.calls.length = 0;
    await submit('below-threshold', ids.slice(400, 650), (i) => ({ Title: `Small ${i}` }));
    expect(kinds()).toEqual([
      'POST /composite/sobjects/Contact',
      'PATCH /composite/sobjects',
      'PATCH /composite/sobjects',
    ]);
  });

  it('a rollback of 2,100 records reads 2,000 ids a call and writes each step in one Bulk job or Collections calls', async () => {
    for (let start = 0; start < ids.length; start += 1_000)
      await submit('titles', ids.slice(start, start + 1_000), (i) => ({ Title: `Wrong ${start + i}` }));
    state.calls.length = 0;
    const rollback = await startRollback(
      deps,
      workspaceId,
      { selector: { batchId: 'titles' }, dryRun: false, force: false },
      ADMIN,
    );
    const result = await claimAndRunRollback(deps, {
      holder: 'test',
      leaseMs: 60_000,
      only: { workspaceId, id: rollback.id },
    });
    expect(result).toBe('completed');
    // Steps of 2,000 and 100 records: a read each; one Bulk job for the first, one Collections call for
    // the second (the second step is read while the first is written, so the order is not asserted).
    expect(kinds().sort()).toEqual(
      [
        'POST /composite/sobjects/Contact',
        'POST /jobs/ingest',
        'PUT /jobs/ingest/{job}/batches',
        'PATCH /jobs/ingest/{job}',
        'GET /jobs/ingest/{job}',
        'POST /composite/sobjects/Contact',
        'PATCH /composite/sobjects',
      ].sort(),
    );
    const title = (i: number) => state.objects.get('Contact')!.records.get(ids[i]!)?.['Title'];
    expect([title(0), title(400), title(1_999), title(2_050)]).toEqual([
      'New 0',
      'Small 0',
      'Title 1999',
      'Title 2050',
    ]);
  }, 120_000); // three change sets and a rollback of 2,100 records on a loaded machine
});

// Issue 20: a Bulk write is staged (the job opened, its CSV uploaded) while the change set's decisions
// are stored, and committed (closed) only once they are; Salesforce processes nothing before then.
describe('A Bulk write staged while the decisions are stored', () => {
  const storedDecisions = async (batchId: string) => {
    const result = await deps.db.execute(
      sql`select (select count(*)::int from changes c join change_sets s on s.id = c.change_set_id
                   where s.batch_id = ${batchId} and c.decision = 'applying') as decisions,
                 (select count(*)::int from audit_events where batch_id = ${batchId} and type = 'change.decided') as events`,
    );
    return (result as unknown as { rows: { decisions: number; events: number }[] }).rows[0];
  };

  it('is closed only once every decision and the records’ events are stored', async () => {
    const closing: unknown[] = [];
    state.faults.hold = (request) => {
      if (request.method !== 'PATCH' || !/\/jobs\/ingest\/\w+$/.test(request.path)) return undefined;
      return storedDecisions('staged').then((stored) => void closing.push(stored));
    };
    try {
      state.calls.length = 0;
      await submit('staged', ids.slice(0, 400), (i) => ({ Title: `Staged ${i}`, Score: `s${i}` }));
    } finally {
      state.faults.hold = null;
    }
    expect(closing).toEqual([{ decisions: 800, events: 400 }]);
    expect(kinds()).toEqual([
      'POST /composite/sobjects/Contact',
      'POST /jobs/ingest',
      'PUT /jobs/ingest/{job}/batches',
      'PATCH /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}',
    ]);
    expect(state.objects.get('Contact')!.records.get(ids[399]!)).toMatchObject({ Title: 'Staged 399', Score: 's399' });
  });

  it('is aborted, nothing written, when the agent’s kill switch is engaged before it is made', async () => {
    const { agent } = await authenticateAgent(deps, agentToken);
    const killSwitch = (engaged: boolean) =>
      setKillSwitch(deps, workspaceId, { scope: 'agent', target: agent.id, engaged, reason: 'stop now' }, ADMIN);
    // Engaged while the records are read, after the submission's own check: the decisions are stored, the write is not made.
    state.faults.hold = (request) => {
      if (request.method !== 'POST' || !request.path.endsWith('/composite/sobjects/Contact')) return undefined;
      state.faults.hold = null;
      return killSwitch(true).then(() => undefined);
    };
    try {
      state.calls.length = 0;
      state.bulkJobs.clear();
      const { response } = await submit('killed', ids.slice(0, 400), (i) => ({ Title: `Killed ${i}` }));
      expect(response.summary).toMatchObject({ failed: 400 });
      expect(response.results[0]).toMatchObject({ decision: 'failed', reasons: ['tier_auto', 'kill_switch_engaged'] });
    } finally {
      state.faults.hold = null;
      await killSwitch(false);
    }
    expectJobAbortedNothingWritten();
  });

  it('is aborted, nothing written, when the decisions fail to be stored', async () => {
    // The database refuses one decision's row, as a lost connection mid-transaction would.
    await deps.db.execute(
      sql.raw(
        `create function refuse_poison() returns trigger language plpgsql as $$ begin if new.proposed_value = 'poison' then raise exception 'storage failed'; end if; return new; end $$`,
      ),
    );
    await deps.db.execute(
      sql.raw('create trigger refuse_poison before insert on changes for each row execute function refuse_poison()'),
    );
    try {
      state.calls.length = 0;
      state.bulkJobs.clear();
      await expect(
        submit('poisoned', ids.slice(0, 400), (i) => ({ Title: i === 399 ? 'poison' : `Poisoned ${i}` })),
      ).rejects.toThrow();
    } finally {
      await deps.db.execute(sql.raw('drop trigger refuse_poison on changes'));
    }
    expectJobAbortedNothingWritten();
    expect(await storedDecisions('poisoned')).toEqual({ decisions: 0, events: 0 });
  });
});
