import { and, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { propertyHistory, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace, publishPolicy, verifyAudit } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { ADMIN, api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';
import { EVIDENCE, runRollback } from '../support/rollbacks.ts';
import { seedWebhookWorkspace } from '../support/webhooks.ts';

// Issue 7: the audit trail, not our editable rows, says what a rollback restores. A database owner
// can edit `changes.before_value` or `rollback_items.restore_value` by hand; the rollback must not
// write such a value to the CRM, and must say so.

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWebhookWorkspace>>;
let ids: string[];

const UPDATE_ROUTE = 'POST /crm/v3/objects/{type}/batch/update';
const admin = (method: string, path: string, body?: unknown) =>
  api(harness, method, path, { token: ws.adminToken, ...(body === undefined ? {} : { body }) });
const values = (id: string) => recordValues(harness.hubspot.state, 'contacts', id);
/** Every value the CRM ever held for the field: what our write requests put there included. */
const everHeld = (id: string, property: string) =>
  propertyHistory(harness.hubspot.state, 'contacts', id, property).map((entry) => entry.value);

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWebhookWorkspace(harness);
  await publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, ADMIN);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  const agent = await api(harness, 'POST', '/v1/admin/agents', {
    token: ws.adminToken,
    body: { name: 'enricher', role: 'enrichment' },
  });
  ids = [0, 1, 2].map((i) =>
    seedRecord(harness.hubspot.state, 'contacts', {
      properties: { email: `p${i}@example.com`, jobtitle: 'Engineer', city: 'Boston' },
    }),
  );
  // A job title and a city (personal: its audited values are kept apart from the hashed events) on each.
  const submitted = await api(harness, 'POST', '/v1/changesets', {
    token: agent.body.token,
    body: {
      batchId: 'enrich-1',
      objectType: 'contacts',
      changes: ids.map((recordId) => ({
        recordId,
        properties: { jobtitle: 'CTO', city: 'Paris' },
        evidence: EVIDENCE,
      })),
    },
  });
  expect(submitted.body.results.map((r: { decision: string }) => r.decision)).toEqual(Array(6).fill('applied'));
});
afterEach(() => harness.close());

async function report(rollbackId: string) {
  const json = await admin('GET', `/v1/admin/rollbacks/${rollbackId}/report?format=json`);
  const csv = await fetch(`${harness.url}/v1/admin/rollbacks/${rollbackId}/report?format=csv`, {
    headers: { authorization: `Bearer ${ws.adminToken}` },
  });
  return { items: json.body.items as Record<string, any>[], csv: (await csv.text()).trim().split('\n') };
}

const itemOf = (items: Record<string, any>[], recordId: string, property: string) =>
  items.find((item) => item.recordId === recordId && item.property === property);

async function refusals(rollbackId: string) {
  return harness.deps.db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.workspaceId, ws.workspaceId),
        eq(auditEvents.batchId, rollbackId),
        eq(auditEvents.type, 'rollback.restore_value_refused'),
      ),
    );
}

describe('a rollback checks each restore value against the audit trail before writing it', () => {
  it('does not write a before value forged in our change rows, reports it, and restores the rest', async () => {
    await harness.deps.db.execute(
      sql`update changes set before_value = 'Forged' where workspace_id = ${ws.workspaceId} and record_id = ${ids[0]!} and property = 'jobtitle'`,
    );

    const dryRun = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' }, dryRun: true });
    expect(dryRun.body.counts).toMatchObject({ revert: 5, conflict: 1 });
    expect(dryRun.body.sample.find((item: { outcome: string }) => item.outcome === 'conflict')).toMatchObject({
      recordId: ids[0],
      property: 'jobtitle',
      restoreValue: 'Forged',
      conflict: { cause: 'restore_value_not_as_audited', value: 'Engineer' },
    });

    const started = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' } });
    expect(await runRollback(harness, started.body.id)).toBe('completed');

    expect(everHeld(ids[0]!, 'jobtitle')).not.toContain('Forged');
    expect(ids.map((id) => values(id)?.jobtitle)).toEqual(['CTO', 'Engineer', 'Engineer']);
    expect(ids.map((id) => values(id)?.city)).toEqual(['Boston', 'Boston', 'Boston']);
    expect(harness.hubspot.calls.count({ route: UPDATE_ROUTE })).toBe(2); // the batch's write, the rollback's
    expect((await admin('GET', `/v1/admin/rollbacks/${started.body.id}`)).body.counts).toMatchObject({
      reverted: 5,
      conflict: 1,
    });

    const { items, csv } = await report(started.body.id);
    expect(itemOf(items, ids[0]!, 'jobtitle')).toMatchObject({
      outcome: 'conflict',
      restoreValue: 'Forged',
      forced: false,
      conflict: { cause: 'restore_value_not_as_audited', value: 'Engineer' },
      explanation: expect.stringContaining('not what the audit trail recorded'),
    });
    expect(itemOf(items, ids[0]!, 'city')).toMatchObject({ outcome: 'reverted', restoreValue: 'Boston' });
    expect(csv[0]).toBe(
      'objectType,recordId,property,before,restoreValue,outcome,forced,explanation,conflictOrigin,conflictWho,conflictAt,conflictCause',
    );
    expect(csv.find((line) => line.startsWith(`contacts,${ids[0]},jobtitle,`))).toMatch(
      /^contacts,\d+,jobtitle,CTO,Forged,conflict,false,.*,restore_value_not_as_audited$/,
    );

    expect(await refusals(started.body.id)).toMatchObject([
      {
        recordId: ids[0],
        objectType: 'contacts',
        before: { jobtitle: 'CTO' },
        reasons: ['restore_value_not_as_audited'],
        data: { properties: ['jobtitle'], refused: { jobtitle: { cause: 'restore_value_not_as_audited' } } },
      },
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('with force, does not write a restore value forged in the planned rollback item either', async () => {
    const started = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' }, force: true });
    await harness.deps.db.execute(
      sql`update rollback_items set restore_value = 'Forged' where rollback_id = ${started.body.id} and record_id = ${ids[1]!} and property = 'jobtitle'`,
    );
    expect(await runRollback(harness, started.body.id)).toBe('completed');

    expect(everHeld(ids[1]!, 'jobtitle')).not.toContain('Forged');
    expect(ids.map((id) => values(id)?.jobtitle)).toEqual(['Engineer', 'CTO', 'Engineer']);
    expect(ids.map((id) => values(id)?.city)).toEqual(['Boston', 'Boston', 'Boston']);
    const { items } = await report(started.body.id);
    expect(itemOf(items, ids[1]!, 'jobtitle')).toMatchObject({
      outcome: 'conflict',
      forced: false,
      conflict: { cause: 'restore_value_not_as_audited', value: 'Engineer' },
    });
    expect(await refusals(started.body.id)).toMatchObject([{ recordId: ids[1] }]);
  });

  it('does not write a personal value the audit trail no longer holds (past retention), and says why', async () => {
    // What retention's auditPersonalDataDays does to the values kept apart from the record's events.
    await harness.deps.db.execute(
      sql`delete from audit_personal_data where workspace_id = ${ws.workspaceId} and record_id = ${ids[2]!}`,
    );
    const started = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'enrich-1' } });
    expect(await runRollback(harness, started.body.id)).toBe('completed');

    expect(ids.map((id) => values(id)?.city)).toEqual(['Boston', 'Boston', 'Paris']);
    expect(ids.map((id) => values(id)?.jobtitle)).toEqual(['Engineer', 'Engineer', 'Engineer']);
    const { items } = await report(started.body.id);
    expect(itemOf(items, ids[2]!, 'city')).toMatchObject({
      outcome: 'conflict',
      conflict: { cause: 'restore_value_unverifiable', value: null },
      explanation: expect.stringContaining('no longer holds the value before the change'),
    });
    expect(await refusals(started.body.id)).toMatchObject([
      { recordId: ids[2], reasons: ['restore_value_unverifiable'] },
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });
});
