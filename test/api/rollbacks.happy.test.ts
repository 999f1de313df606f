import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editAsPerson, recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { verifyAudit, bootstrapWorkspace, publishPolicy } from '../../server/src/services/governance/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import { ROLLBACK_AGENT_NAME } from '../../server/src/services/rollbacks/index.ts';
import { approvals, auditEvents, changes, changeSets, rollbacks } from '../../server/src/store/schema.ts';
import { ADMIN, api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';
import { EVIDENCE, runRollback, seedContacts, submitTitles } from '../support/rollbacks.ts';
import { deliver, propertyChange, seedWebhookWorkspace } from '../support/webhooks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWebhookWorkspace>>;
let agentToken: string;
let ids: string[];

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWebhookWorkspace(harness);
  await publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, ADMIN);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  const agent = await api(harness, 'POST', '/v1/admin/agents', {
    token: ws.adminToken,
    body: { name: 'enricher', role: 'enrichment' },
  });
  agentToken = agent.body.token;
  ids = seedContacts(harness, ['Engineer', 'Engineer', 'Engineer', 'Engineer']);
  await submitTitles(harness, agentToken, 'enrich-1', Object.fromEntries(ids.map((id) => [id, 'CTO'])));
});
afterEach(() => harness.close());

const UPDATE_ROUTE = 'POST /crm/v3/objects/{type}/batch/update';
const title = (id: string) => recordValues(harness.hubspot.state, 'contacts', id)?.jobtitle;
const admin = (method: string, path: string, body?: unknown) =>
  api(harness, method, path, { token: ws.adminToken, ...(body === undefined ? {} : { body }) });

/** A person edits in HubSpot's UI and HubSpot's webhook reaches us and is processed (issue 6). */
async function personEdits(recordId: string, value: string) {
  editAsPerson(harness.hubspot.state, {
    objectType: 'contacts',
    recordId,
    properties: { jobtitle: value },
    userId: 9001,
  });
  await deliver(
    harness,
    [propertyChange(ws.portalId, { objectId: Number(recordId), propertyValue: value, occurredAt: Date.now() })],
    { clientSecret: ws.clientSecret },
  );
  while ((await processWebhookEvents(harness.deps)) > 0);
}

describe('POST /v1/admin/rollbacks, when a batch wrote values people since edited', () => {
  beforeEach(async () => {
    await personEdits(ids[1]!, 'Founder'); // a later edit: a conflict
    await personEdits(ids[2]!, 'Engineer'); // put back by hand: already reverted
  });

  it('dry-runs with counts and explained samples, writing and storing nothing', async () => {
    const before = harness.hubspot.calls.count({ route: UPDATE_ROUTE });
    const res = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' }, dryRun: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: true,
      total: 4,
      counts: { revert: 2, conflict: 1, alreadyReverted: 1, failed: 0 },
    });
    const conflict = res.body.sample.find((item: { outcome: string }) => item.outcome === 'conflict');
    expect(conflict).toMatchObject({
      recordId: ids[1],
      property: 'jobtitle',
      before: 'Founder',
      restoreValue: 'Engineer',
      conflict: { cause: 'changed_since', origin: 'person', who: '9001', value: 'Founder' },
    });
    expect(conflict.explanation).toContain('person 9001');
    expect(harness.hubspot.calls.count({ route: UPDATE_ROUTE })).toBe(before);
    expect(await harness.deps.db.select().from(rollbacks)).toEqual([]);
    expect(ids.map(title)).toEqual(['CTO', 'Founder', 'Engineer', 'CTO']);
  });

  it('restores what the batch still owns, leaves the person’s edit, and is a change set of its own', async () => {
    const started = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', total: 4, done: 0 });
    expect(await runRollback(harness, started.body.id)).toBe('completed');

    expect(ids.map(title)).toEqual(['Engineer', 'Founder', 'Engineer', 'Engineer']);
    const view = await admin('GET', `/v1/admin/rollbacks/${started.body.id}`);
    expect(view.body).toMatchObject({
      status: 'completed',
      total: 4,
      done: 4,
      counts: { reverted: 2, conflict: 1, alreadyReverted: 1, failed: 0 },
    });
    const changeSetId = view.body.changeSetIds.contacts as string;
    expect(recordValues(harness.hubspot.state, 'contacts', ids[0]!)).toMatchObject({
      ag_last_change_id: changeSetId,
      ag_last_agent: ROLLBACK_AGENT_NAME,
      ag_last_source: 'rollback',
      ag_last_changed_properties: 'jobtitle',
    });
    expect(recordValues(harness.hubspot.state, 'contacts', ids[1]!)?.ag_last_change_id).not.toBe(changeSetId);

    const [set] = await harness.deps.db.select().from(changeSets).where(eq(changeSets.id, changeSetId));
    expect(set).toMatchObject({ batchId: started.body.id, status: 'completed', objectType: 'contacts' });
    const rows = await harness.deps.db.select().from(changes).where(eq(changes.changeSetId, changeSetId));
    expect(rows.map((r) => [r.recordId, r.beforeValue, r.proposedValue, r.decision]).sort()).toEqual([
      [ids[0], 'CTO', 'Engineer', 'applied'],
      [ids[3], 'CTO', 'Engineer', 'applied'],
    ]);

    const types = (
      await harness.deps.db
        .select({ type: auditEvents.type, actor: auditEvents.actor })
        .from(auditEvents)
        .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.batchId, started.body.id)))
        .orderBy(auditEvents.seq)
    ).map((e) => e.type);
    expect(types).toEqual([
      'rollback.planned',
      'rollback.started',
      'rollback.record_reverted',
      'rollback.record_reverted',
      'rollback.completed',
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('reports every item as CSV and JSON with before, restored value, outcome and explanation', async () => {
    const started = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' } });
    await runRollback(harness, started.body.id);
    const json = await admin('GET', `/v1/admin/rollbacks/${started.body.id}/report?format=json`);
    expect(json.status).toBe(200);
    expect(json.body.items.map((i: { recordId: string; outcome: string }) => [i.recordId, i.outcome])).toEqual([
      [ids[0], 'reverted'],
      [ids[1], 'conflict'],
      [ids[2], 'already_reverted'],
      [ids[3], 'reverted'],
    ]);
    expect(json.body.items[1]).toMatchObject({
      before: 'Founder',
      restoreValue: 'Engineer',
      explanation: expect.stringContaining('person 9001'),
    });
    const csv = await fetch(`${harness.url}/v1/admin/rollbacks/${started.body.id}/report?format=csv`, {
      headers: { authorization: `Bearer ${ws.adminToken}` },
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe(
      'objectType,recordId,property,before,restoreValue,outcome,forced,explanation,conflictOrigin,conflictWho,conflictAt,conflictCause',
    );
    expect(lines).toHaveLength(5);
    expect(lines[2]).toContain(`contacts,${ids[1]},jobtitle,Founder,Engineer,conflict,false`);
    expect(lines[2]).toMatch(/,changed_since$/);
  });

  it('with force, overwrites the person’s edit too, and says so in the audit', async () => {
    const started = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' }, force: true });
    await runRollback(harness, started.body.id);
    expect(ids.map(title)).toEqual(['Engineer', 'Engineer', 'Engineer', 'Engineer']);
    const view = await admin('GET', `/v1/admin/rollbacks/${started.body.id}`);
    expect(view.body).toMatchObject({ force: true, counts: { reverted: 3, conflict: 0, alreadyReverted: 1 } });
    const events = await harness.deps.db
      .select()
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.workspaceId, ws.workspaceId),
          eq(auditEvents.recordId, ids[1]!),
          eq(auditEvents.type, 'rollback.record_reverted'),
        ),
      );
    expect(events[0]?.data).toMatchObject({ forced: ['jobtitle'] });
    const [planned] = await harness.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'rollback.planned')));
    expect(planned?.data).toMatchObject({ force: true });
  });
});

describe('re-reading the CRM right before writing', () => {
  it('leaves alone a value a person changed after the rollback was planned, even before HubSpot told us', async () => {
    const started = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' } });
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: ids[0]!,
      properties: { jobtitle: 'VP Sales' },
      userId: 9002,
    });
    await runRollback(harness, started.body.id);
    expect(ids.map(title)).toEqual(['VP Sales', 'Engineer', 'Engineer', 'Engineer']);
    const report = await admin('GET', `/v1/admin/rollbacks/${started.body.id}/report`);
    // No webhook told us yet: HubSpot's property history names the person.
    expect(report.body.items[0]).toMatchObject({
      outcome: 'conflict',
      before: 'VP Sales',
      conflict: { cause: 'value_differs', origin: 'person', who: '9002', value: 'VP Sales' },
    });
    expect(report.body.items[0].explanation).toContain('person 9002');
  });
});

describe('undoing a rollback', () => {
  it('rolls a completed rollback back with the same machinery, its id as the batch', async () => {
    const first = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' } });
    await runRollback(harness, first.body.id);
    expect(ids.map(title)).toEqual(['Engineer', 'Engineer', 'Engineer', 'Engineer']);

    const undo = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: first.body.id } });
    expect(undo.status).toBe(202);
    await runRollback(harness, undo.body.id);
    expect(ids.map(title)).toEqual(['CTO', 'CTO', 'CTO', 'CTO']);
    expect((await admin('GET', `/v1/admin/rollbacks/${undo.body.id}`)).body.counts).toMatchObject({
      reverted: 4,
      conflict: 0,
    });
  });

  it('rolls back one change on one record with a change-id selector (the record card’s revert)', async () => {
    const batch = await submitTitles(harness, agentToken, 'enrich-2', { [ids[0]!]: 'CEO', [ids[1]!]: 'CEO' });
    const changeId = batch.results.find((r) => r.recordId === ids[1])!.changeId;
    const started = await admin('POST', '/v1/admin/rollbacks', { selector: { changeIds: [changeId] } });
    await runRollback(harness, started.body.id);
    expect([title(ids[0]!), title(ids[1]!)]).toEqual(['CEO', 'CTO']);
  });
});

describe('the batch’s writes still waiting for a person', () => {
  it('withdraws the open approvals of the rolled-back batch when the rollback completes', async () => {
    const held = await api(harness, 'POST', '/v1/changesets', {
      token: agentToken,
      body: {
        batchId: 'enrich-3',
        objectType: 'contacts',
        changes: [{ recordId: ids[0], properties: { jobtitle: 'COO', phone: '+1 555 0123' }, evidence: EVIDENCE }],
      },
    });
    expect(held.body.results.map((r: { decision: string }) => r.decision).sort()).toEqual([
      'applied',
      'pending_approval',
    ]);
    const started = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-3' } });
    await runRollback(harness, started.body.id);
    const [approval] = await harness.deps.db
      .select()
      .from(approvals)
      .where(and(eq(approvals.workspaceId, ws.workspaceId), eq(approvals.batchId, 'enrich-3')));
    expect(approval?.status).toBe('withdrawn');
    expect(title(ids[0]!)).toBe('CTO');
    const [completed] = await harness.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'rollback.completed')));
    expect(completed?.data).toMatchObject({ approvalsWithdrawn: 1 });
  });
});
