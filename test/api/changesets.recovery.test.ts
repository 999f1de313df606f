import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrmPort } from '../../server/src/crm/port.ts';
import { canonicalJson } from '../../server/src/domain/audit-chain.ts';
import { editAsWorkflow, propertyHistory, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { verifyAudit, bootstrapWorkspace, setKillSwitch } from '../../server/src/services/governance/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { recoverInterruptedChangeSet, submitChangeSet } from '../../server/src/services/change-sets/index.ts';
import { findAgent } from '../../server/src/store/agent-store.ts';
import { claimIdempotencyKey } from '../../server/src/store/idempotency-store.ts';
import { auditEvents, changeSets } from '../../server/src/store/schema.ts';
import { findWorkspace } from '../../server/src/store/workspace-store.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Issue 17, defect 2: the server dies (kill -9) after its third CRM batch reached HubSpot but
// before its outcome was stored. Here "dies" means the process stops mid-call: the write lands,
// the call never returns, nothing after it runs. Recovery then runs as another server would.

const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
const RECORDS = 500; // five batches of 100
const KEY = 'enrich-run-17';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let ids: string[];

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  ids = Array.from({ length: RECORDS }, (_, i) =>
    seedRecord(harness.hubspot.state, 'contacts', { properties: { email: `r${i}@example.com` } }),
  );
});
afterEach(() => harness.close());

const evidence = { source: 'apollo', reason: 'profile says so', confidence: 0.95 };
const request = () => ({
  batchId: 'enrich-17',
  objectType: 'contacts' as const,
  changes: ids.map((recordId, i) => ({ recordId, properties: { jobtitle: `Title ${i}` }, evidence })),
});
const apiWrites = (id: string) =>
  propertyHistory(harness.hubspot.state, 'contacts', id, 'jobtitle').filter((entry) => entry.sourceType === 'API')
    .length;

/** Wakes the stalled write, for a test whose "dead" server was only stalled. */
let wakeStalledWrite: () => void;
let stalledSubmission: Promise<unknown>;

/**
 * A CRM whose `dieAtWrite`-th batch write reaches HubSpot and then does not answer, as if our
 * process died waiting (or stalled, until `wakeStalledWrite`).
 */
function dyingCrm(crm: CrmPort, dieAtWrite: number): CrmPort {
  let writes = 0;
  const dying = Object.create(crm) as CrmPort;
  dying.writeBatch = async (input) => {
    writes += 1;
    const outcome = await crm.writeBatch(input);
    if (writes !== dieAtWrite) return outcome;
    return new Promise((resolve) => {
      wakeStalledWrite = () => resolve(outcome);
    });
  };
  return dying;
}

/** Submits through the real service until the third batch's write has landed and the second's outcome is stored, then "dies". */
async function submitAndDie(): Promise<string> {
  const dying: ServiceDeps = {
    ...harness.deps,
    crmFor: (workspace) => dyingCrm(harness.deps.crmFor(workspace), 3),
    changeSetLease: { holder: 'dead-server', leaseMs: 60_000 },
  };
  const workspace = (await findWorkspace(harness.deps.db, ws.workspaceId))!;
  const agent = (await findAgent(harness.deps.db, ws.workspaceId, ws.agents[0]!.id))!;
  stalledSubmission = submitChangeSet(dying, { agent, workspace, request: request(), idempotencyKey: KEY });
  for (;;) {
    const view = await currentView();
    if (view && harness.hubspot.calls.count({ route: UPDATE }) === 3 && view.body.summary.applied === 200)
      return view.body.id as string;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function currentView() {
  const [stored] = await harness.deps.db
    .select({ id: changeSets.id })
    .from(changeSets)
    .where(eq(changeSets.batchId, 'enrich-17'));
  return stored ? api(harness, 'GET', `/v1/changesets/${stored.id}`, { token: ws.agents[0]!.token }) : undefined;
}

/** Another server, an hour later: the dead server's lease has long lapsed. */
const laterServer = (): ServiceDeps => ({
  ...harness.deps,
  clock: () => new Date(Date.now() + 3_600_000),
  changeSetLease: { holder: 'recovering-server', leaseMs: 60_000 },
});

const events = (changeSetId: string, type: string) =>
  harness.deps.db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.workspaceId, ws.workspaceId),
        eq(auditEvents.changeSetId, changeSetId),
        eq(auditEvents.type, type),
      ),
    );

describe('a change set whose server died after its third batch reached HubSpot', () => {
  it('stays applying until recovery, which records the landed batch as applied, sends the rest once, and completes it', async () => {
    const id = await submitAndDie();
    const crashed = (await api(harness, 'GET', `/v1/changesets/${id}`, { token: ws.agents[0]!.token })).body;
    expect(crashed).toMatchObject({ status: 'applying', summary: { applied: 200, applying: 300 } });
    expect(ids.slice(0, 300).every((record) => apiWrites(record) === 1)).toBe(true); // HubSpot holds 300

    expect(await recoverInterruptedChangeSet(laterServer())).toBe('completed');

    const view = (await api(harness, 'GET', `/v1/changesets/${id}`, { token: ws.agents[0]!.token })).body;
    expect(view).toMatchObject({ status: 'completed', summary: { applied: RECORDS, applying: 0, failed: 0 } });
    expect(ids.every((record) => apiWrites(record) === 1)).toBe(true); // the landed batch was not sent again
    expect(await events(id, 'change.applied')).toHaveLength(RECORDS);
    const [recovered] = await events(id, 'change_set.recovered');
    expect(recovered?.data).toMatchObject({ previousHolder: 'dead-server', landed: 100, resent: 200 });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
    expect(await recoverInterruptedChangeSet(laterServer())).toBe('none');
  });

  it('lets a writer that only stalled wake after recovery took over, sending and recording nothing twice', async () => {
    const id = await submitAndDie();
    expect(await recoverInterruptedChangeSet(laterServer())).toBe('completed');

    wakeStalledWrite();
    await stalledSubmission;

    expect(ids.every((record) => apiWrites(record) === 1)).toBe(true);
    expect(await events(id, 'change.applied')).toHaveLength(RECORDS);
    const view = (await api(harness, 'GET', `/v1/changesets/${id}`, { token: ws.agents[0]!.token })).body;
    expect(view).toMatchObject({ status: 'completed', summary: { applied: RECORDS, applying: 0, failed: 0 } });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('answers the agent’s retry with the same Idempotency-Key with the recovered change set, calling HubSpot no more', async () => {
    const id = await submitAndDie();
    await recoverInterruptedChangeSet(laterServer());
    const calls = harness.hubspot.calls.entries.length;
    const retry = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      headers: { 'idempotency-key': KEY },
      body: request(),
    });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ id, status: 'completed', summary: { applied: RECORDS } });
    expect(harness.hubspot.calls.entries.length).toBe(calls);
  });

  it('runs the retry afresh at once when the first attempt’s server died before deciding, and says “in progress” while it lives', async () => {
    // A dead server leaves its claim with no change set and stops renewing it; a live one keeps renewing.
    const requestHash = createHash('sha256').update(canonicalJson(request())).digest('hex');
    const claim = (key: string, leaseExpiresAt: Date) =>
      claimIdempotencyKey(harness.deps.db, {
        workspaceId: ws.workspaceId,
        agentId: ws.agents[0]!.id,
        key,
        requestHash,
        createdAt: new Date(Date.now() - 1_000),
        leaseExpiresAt,
      });
    await claim('died-reading', new Date(Date.now() - 1));
    await claim('still-reading', new Date(Date.now() + 60_000));
    const retry = (key: string) =>
      api(harness, 'POST', '/v1/changesets', {
        token: ws.agents[0]!.token,
        headers: { 'idempotency-key': key },
        body: request(),
      });

    expect(await retry('still-reading')).toMatchObject({
      status: 409,
      body: { error: { code: 'IDEMPOTENCY_IN_PROGRESS' } },
    });
    const afresh = await retry('died-reading');
    expect(afresh).toMatchObject({ status: 201, body: { status: 'completed', summary: { applied: RECORDS } } });
    expect(await retry('died-reading')).toMatchObject({ status: 200, body: { id: afresh.body.id } });
  });

  it('lets a rollback dry run see every value the batch wrote', async () => {
    await submitAndDie();
    await recoverInterruptedChangeSet(laterServer());
    const dryRun = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'enrich-17' }, dryRun: true },
    });
    expect(dryRun.body).toMatchObject({ dryRun: true, total: RECORDS, counts: { revert: RECORDS, conflict: 0 } });
  });

  it('fails the writes never sent with kill_switch_engaged when a kill switch was engaged meanwhile, and still records the landed ones', async () => {
    const id = await submitAndDie();
    await setKillSwitch(
      harness.deps,
      ws.workspaceId,
      { scope: 'agent', target: ws.agents[0]!.id, engaged: true, reason: 'bad enrichment run' },
      ADMIN,
    );
    const calls = harness.hubspot.calls.count({ route: UPDATE });

    expect(await recoverInterruptedChangeSet(laterServer())).toBe('completed');

    const view = (await api(harness, 'GET', `/v1/changesets/${id}`, { token: ws.agents[0]!.token })).body;
    expect(view).toMatchObject({ status: 'completed', summary: { applied: 300, failed: 200, applying: 0 } });
    expect(view.results[299]).toMatchObject({ decision: 'applied' });
    expect(view.results[300]).toMatchObject({ decision: 'failed', reasons: ['tier_auto', 'kill_switch_engaged'] });
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(calls);
    expect(await events(id, 'change.failed')).toHaveLength(200);
  });

  it('knows a landed write from its history after a later writer replaced it, and resends one that never landed', async () => {
    const id = await submitAndDie();
    const later = Date.now() + 1_000;
    // A workflow rewrites a landed record's title and provenance; an unsent record gets a title of its own.
    editAsWorkflow(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: ids[250]!,
      properties: { jobtitle: 'Workflow title', ag_last_change_id: 'someone-else' },
      workflowId: 'wf-1',
      at: later,
    });
    editAsWorkflow(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: ids[350]!,
      properties: { jobtitle: 'Workflow title' },
      workflowId: 'wf-1',
      at: later,
    });

    expect(await recoverInterruptedChangeSet(laterServer())).toBe('completed');

    expect(apiWrites(ids[250]!)).toBe(1);
    expect(propertyHistory(harness.hubspot.state, 'contacts', ids[250]!, 'jobtitle')[0]?.value).toBe('Workflow title');
    expect(apiWrites(ids[350]!)).toBe(1);
    const view = (await api(harness, 'GET', `/v1/changesets/${id}`, { token: ws.agents[0]!.token })).body;
    expect(view).toMatchObject({ status: 'completed', summary: { applied: RECORDS } });
  });

  it('leaves a change set alone while its writer’s lease runs, even on the writer’s own server', async () => {
    await submitAndDie();
    const otherServer: ServiceDeps = {
      ...harness.deps,
      changeSetLease: { holder: 'recovering-server', leaseMs: 60_000 },
    };
    expect(await recoverInterruptedChangeSet(otherServer)).toBe('none');
    // The writer's own recovery job shares its holder name, and must not write beside it.
    const writersOwnJob: ServiceDeps = { ...harness.deps, changeSetLease: { holder: 'dead-server', leaseMs: 60_000 } };
    expect(await recoverInterruptedChangeSet(writersOwnJob)).toBe('none');
  });
});
