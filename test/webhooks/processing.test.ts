import { and, count, eq, isNull, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editAsWorkflow, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import {
  verifyAudit,
  bootstrapWorkspace,
  publishPolicy,
  setPersonRole,
} from '../../server/src/services/governance/index.ts';
import { decide, proposeHeld } from '../support/approvals.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import { fieldHistory } from '../../server/src/store/field-history-store.ts';
import { auditEvents, killSwitches, webhookEvents } from '../../server/src/store/schema.ts';
import { ADMIN, api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';
import { APP_ID, deliver, historyRows, propertyChange, seedWebhookWorkspace } from '../support/webhooks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWebhookWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWebhookWorkspace(harness);
  await publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, ADMIN);
});
afterEach(() => harness.close());

const send = (events: unknown[]) => deliver(harness, events, { clientSecret: ws.clientSecret });
const bypass = (overrides = {}) =>
  propertyChange(ws.portalId, { changeSource: 'INTEGRATION', sourceId: '555000', ...overrides });
async function drain(options: Parameters<typeof processWebhookEvents>[1] = {}) {
  while ((await processWebhookEvents(harness.deps, options)) > 0);
}
async function auditCount(type: string) {
  const [row] = await harness.deps.db
    .select({ n: count() })
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, type)));
  return row!.n;
}
async function pendingCount() {
  const [row] = await harness.deps.db
    .select({ n: count() })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.workspaceId, ws.workspaceId), isNull(webhookEvents.processedAt)));
  return row!.n;
}
async function publishMonitoring(monitoring: object) {
  await publishPolicy(harness.deps, ws.workspaceId, { ...(EXAMPLE_POLICY as object), monitoring }, ADMIN);
}

describe('processing stored HubSpot events', () => {
  it('confirms our own applied write when its webhook comes back, naming the change and agent', async () => {
    const agent = await api(harness, 'POST', '/v1/admin/agents', {
      token: ws.adminToken,
      body: { name: 'enricher', role: 'enrichment' },
    });
    await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
    const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'a@example.com' } });
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: agent.body.token,
      body: {
        batchId: 'b1',
        objectType: 'contacts',
        changes: [
          {
            recordId,
            properties: { jobtitle: 'CTO' },
            evidence: { source: 'clearbit', reason: 'site', url: 'https://e.com', confidence: 0.95 },
          },
        ],
      },
    });
    const changeId = submitted.body.results[0].changeId as string;

    await send([
      propertyChange(ws.portalId, {
        objectId: Number(recordId),
        propertyValue: 'CTO',
        changeSource: 'INTEGRATION',
        sourceId: String(APP_ID),
      }),
    ]);
    await drain();

    expect(await historyRows(harness.deps.db, ws.workspaceId)).toEqual([
      expect.objectContaining({
        kind: 'own_write',
        changeId,
        agentId: agent.body.id,
        recordId,
        property: 'jobtitle',
        value: 'CTO',
      }),
    ]);
    expect(await auditCount('crm.bypass_write')).toBe(0);
  });

  it('confirms the value a person edited before approving as our own write when its webhook comes back', async () => {
    const agent = await api(harness, 'POST', '/v1/admin/agents', {
      token: ws.adminToken,
      body: { name: 'enricher', role: 'enrichment' },
    });
    await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
    await setPersonRole(harness.deps, ws.workspaceId, { crmUserId: '501', role: 'approver' }, ADMIN);
    const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'a@example.com' } });
    const approvalId = await proposeHeld(harness, {
      token: agent.body.token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });
    const decided = await decide(harness, ws.adminToken, approvalId, {
      kind: 'approve',
      actingUserId: '501',
      edits: { phone: '+1 555 0100' },
    });
    expect(decided.body.status).toBe('applied');

    await send([
      propertyChange(ws.portalId, {
        objectId: Number(recordId),
        propertyName: 'phone',
        propertyValue: '+1 555 0100',
        changeSource: 'INTEGRATION',
        sourceId: String(APP_ID),
      }),
    ]);
    await drain();

    expect((await historyRows(harness.deps.db, ws.workspaceId)).at(-1)).toMatchObject({
      kind: 'own_write',
      agentId: agent.body.id,
      property: 'phone',
    });
    expect(await auditCount('crm.bypass_write')).toBe(0);
  });

  it('records a person’s edit with who made it', async () => {
    await send([propertyChange(ws.portalId, { objectId: 42, propertyValue: 'Founder' })]);
    await drain();

    expect(await historyRows(harness.deps.db, ws.workspaceId)).toEqual([
      expect.objectContaining({
        kind: 'person',
        changeSource: 'CRM_UI',
        objectType: 'contacts',
        recordId: '42',
        property: 'jobtitle',
        value: 'Founder',
        sourceId: 'userId:9001',
      }),
    ]);
  });

  it('audits a write by another integration as crm.bypass_write, attributed to the agent the policy names for it', async () => {
    const agent = await api(harness, 'POST', '/v1/admin/agents', {
      token: ws.adminToken,
      body: { name: 'sidecar', role: 'enrichment' },
    });
    await publishMonitoring({ integrations: { '555000': 'sidecar' } });
    await send([bypass({ objectId: 7, propertyValue: 'VP' })]);
    await drain();

    const [event] = await harness.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'crm.bypass_write')));
    expect(event).toMatchObject({
      agentId: agent.body.id,
      recordId: '7',
      property: 'jobtitle',
      after: { value: 'VP' },
      data: expect.objectContaining({ sourceId: '555000', changeSource: 'INTEGRATION' }),
    });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('orders a field’s history by when changes happened in the CRM, not by when they arrived', async () => {
    const t = Date.now();
    for (const [offset, value] of [
      [3_000, 'third'],
      [1_000, 'first'],
      [2_000, 'second'],
    ] as const) {
      await send([propertyChange(ws.portalId, { objectId: 9, occurredAt: t + offset, propertyValue: value })]);
    }
    await drain();

    const history = await fieldHistory(harness.deps.db, {
      workspaceId: ws.workspaceId,
      objectType: 'contacts',
      recordId: '9',
      property: 'jobtitle',
    });
    expect(history.map((h) => h.value)).toEqual(['first', 'second', 'third']);
  });

  it('processes an event delivered ten times once', async () => {
    const event = bypass();
    for (let attempt = 0; attempt < 10; attempt++) await send([{ ...event, attemptNumber: attempt }]);
    await drain();

    expect(await historyRows(harness.deps.db, ws.workspaceId)).toHaveLength(1);
    expect(await auditCount('crm.bypass_write')).toBe(1);
  });

  it('marks events of a subscription we do not handle as ignored, with no history', async () => {
    await send([propertyChange(ws.portalId, { subscriptionType: 'contact.associationChange' })]);
    await drain();

    const [row] = await harness.deps.db
      .select()
      .from(webhookEvents)
      .where(eq(webhookEvents.workspaceId, ws.workspaceId));
    expect(row).toMatchObject({ outcome: 'ignored_subscription_type', processedAt: expect.any(Date) });
    expect(await historyRows(harness.deps.db, ws.workspaceId)).toHaveLength(0);
  });

  it('keeps deleted and merged records in the history, with the merge’s ids', async () => {
    await send([
      propertyChange(ws.portalId, {
        subscriptionType: 'contact.deletion',
        objectId: 11,
        propertyName: undefined,
        propertyValue: undefined,
      }),
      propertyChange(ws.portalId, {
        subscriptionType: 'contact.merge',
        objectId: 12,
        propertyName: undefined,
        propertyValue: undefined,
        primaryObjectId: 12,
        mergedObjectIds: [13],
        newObjectId: 12,
      }),
    ]);
    await drain();

    expect(await historyRows(harness.deps.db, ws.workspaceId)).toEqual([
      expect.objectContaining({ kind: 'record_deleted', recordId: '11', property: '' }),
      expect.objectContaining({
        kind: 'record_merged',
        recordId: '12',
        data: { primaryObjectId: 12, mergedObjectIds: [13], newObjectId: 12 },
      }),
    ]);
  });
});

describe('processing with several workers and failures', () => {
  it('gives each event exactly one effect when two workers run at once', async () => {
    const events = Array.from({ length: 300 }, (_, i) => bypass({ objectId: 100 + i }));
    for (let i = 0; i < events.length; i += 100) await send(events.slice(i, i + 100));

    await Promise.all([drain({ batchSize: 40 }), drain({ batchSize: 40 })]);

    expect(await pendingCount()).toBe(0);
    expect(await auditCount('crm.bypass_write')).toBe(300);
    expect(await historyRows(harness.deps.db, ws.workspaceId)).toHaveLength(300);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('leaves a batch whose worker failed mid-way unprocessed, and a later worker finishes it with one effect each', async () => {
    const events = Array.from({ length: 90 }, (_, i) =>
      i % 3 === 0 ? bypass({ objectId: 500 + i }) : propertyChange(ws.portalId, { objectId: 500 + i }),
    );
    await send(events);
    // The database refuses one row of the second batch, as a worker dying mid-batch would leave it.
    await harness.deps.db.execute(
      sql.raw(
        `create function refuse_record_545() returns trigger language plpgsql as $$ begin if new.record_id = '545' then raise exception 'worker died'; end if; return new; end $$`,
      ),
    );
    await harness.deps.db.execute(
      sql.raw(
        'create trigger refuse_record_545 before insert on record_property_changes for each row execute function refuse_record_545()',
      ),
    );

    await expect(drain({ batchSize: 30 })).rejects.toThrow();
    expect(await pendingCount()).toBe(60);
    expect(await auditCount('crm.bypass_write')).toBe(10);

    await harness.deps.db.execute(sql.raw('drop trigger refuse_record_545 on record_property_changes'));
    await drain({ batchSize: 30 });
    expect(await pendingCount()).toBe(0);
    expect(await auditCount('crm.bypass_write')).toBe(30);
    expect(await historyRows(harness.deps.db, ws.workspaceId)).toHaveLength(90);
  });
});

describe('automated kill triggers and reverts', () => {
  it('engages the workspace kill switch, audited with the reason, when unattributed bypass writes pass the threshold', async () => {
    await publishMonitoring({ killTriggers: { bypassWrites: { threshold: 2, windowMinutes: 60 } } });
    await send([bypass(), bypass(), bypass()]);
    await drain();

    const [killSwitch] = await harness.deps.db
      .select()
      .from(killSwitches)
      .where(eq(killSwitches.workspaceId, ws.workspaceId));
    expect(killSwitch).toMatchObject({
      scope: 'workspace',
      engaged: true,
      changedBy: 'system:kill-trigger',
      reason: expect.stringContaining('bypass_writes: 3'),
    });
    expect(await auditCount('kill_switch.engaged')).toBe(1);

    await send([bypass()]);
    await drain();
    expect(await auditCount('kill_switch.engaged')).toBe(1);
  });

  it('engages only the named agent’s switch when its integration writes around the API', async () => {
    const agent = await api(harness, 'POST', '/v1/admin/agents', {
      token: ws.adminToken,
      body: { name: 'sidecar', role: 'enrichment' },
    });
    await publishMonitoring({
      integrations: { '555000': 'sidecar' },
      killTriggers: { bypassWrites: { threshold: 1 } },
    });
    await send([bypass(), bypass()]);
    await drain();

    const rows = await harness.deps.db.select().from(killSwitches).where(eq(killSwitches.workspaceId, ws.workspaceId));
    expect(rows).toEqual([expect.objectContaining({ scope: 'agent', target: agent.body.id, engaged: true })]);
  });

  it('writes a bypassed field back to its previous value when the policy says to revert, and audits it', async () => {
    await publishMonitoring({ revertBypassWrites: true });
    const recordId = seedRecord(harness.hubspot.state, 'contacts', {
      properties: { email: 'r@example.com', jobtitle: 'Engineer' },
    });
    const t = Date.now();
    await send([
      propertyChange(ws.portalId, { objectId: Number(recordId), propertyValue: 'Engineer', occurredAt: t - 1_000 }),
    ]);
    await send([bypass({ objectId: Number(recordId), propertyValue: 'Spam King', occurredAt: t })]);
    await drain();

    expect(recordValues(harness.hubspot.state, 'contacts', recordId)?.jobtitle).toBe('Engineer');
    const [reverted] = await harness.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'crm.bypass_reverted')));
    expect(reverted).toMatchObject({
      recordId,
      property: 'jobtitle',
      before: { value: 'Spam King' },
      after: { value: 'Engineer' },
    });

    // The revert's own webhook is recognised as ours, not as another bypass.
    await send([
      propertyChange(ws.portalId, {
        objectId: Number(recordId),
        propertyValue: 'Engineer',
        changeSource: 'INTEGRATION',
        sourceId: String(APP_ID),
        occurredAt: t + 1_000,
      }),
    ]);
    await drain();
    expect((await historyRows(harness.deps.db, ws.workspaceId)).at(-1)).toMatchObject({ kind: 'own_write' });
    expect(await auditCount('crm.bypass_write')).toBe(1);
  });

  it('reverts every field an integration bypassed on one record, and other records’ beside them', async () => {
    await publishMonitoring({ revertBypassWrites: true });
    const values = { jobtitle: 'Engineer', company: 'Acme' };
    const [first, second] = [0, 1].map(() =>
      seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'r@example.com', ...values } }),
    );
    const t = Date.now();
    const known = [first!, second!].flatMap((recordId) =>
      Object.entries(values).map(([propertyName, propertyValue]) =>
        propertyChange(ws.portalId, { objectId: Number(recordId), propertyName, propertyValue, occurredAt: t - 1_000 }),
      ),
    );
    await send(known);
    await drain();
    // The integration writes two fields of the first record at once, and one of the second.
    const integration = { objectType: 'contacts', workflowId: '555000' } as const;
    editAsWorkflow(harness.hubspot.state, {
      ...integration,
      recordId: first!,
      properties: { jobtitle: 'Spam King', company: 'Spam Inc' },
    });
    editAsWorkflow(harness.hubspot.state, {
      ...integration,
      recordId: second!,
      properties: { jobtitle: 'Spam Queen' },
    });
    await send([
      bypass({ objectId: Number(first), propertyName: 'jobtitle', propertyValue: 'Spam King', occurredAt: t }),
      bypass({ objectId: Number(first), propertyName: 'company', propertyValue: 'Spam Inc', occurredAt: t }),
      bypass({ objectId: Number(second), propertyName: 'jobtitle', propertyValue: 'Spam Queen', occurredAt: t }),
    ]);
    await drain();

    expect(recordValues(harness.hubspot.state, 'contacts', first!)).toMatchObject(values);
    expect(recordValues(harness.hubspot.state, 'contacts', second!)).toMatchObject(values);
    expect(await auditCount('crm.bypass_reverted')).toBe(3);
    expect(await auditCount('crm.bypass_not_reverted')).toBe(0);
  });

  it('audits a revert HubSpot could not take and still stops the agent a trigger names', async () => {
    const agent = await api(harness, 'POST', '/v1/admin/agents', {
      token: ws.adminToken,
      body: { name: 'sidecar', role: 'enrichment' },
    });
    await publishMonitoring({
      revertBypassWrites: true,
      integrations: { '555000': 'sidecar' },
      killTriggers: { bypassWrites: { threshold: 1 } },
    });
    const recordId = seedRecord(harness.hubspot.state, 'contacts', {
      properties: { email: 'r@example.com', jobtitle: 'Engineer' },
    });
    const t = Date.now();
    await send([
      propertyChange(ws.portalId, { objectId: Number(recordId), propertyValue: 'Engineer', occurredAt: t - 1_000 }),
    ]);
    await drain();
    harness.hubspot.faults.failNext(20, { status: 503 }, 'POST /crm/v3/objects/{type}/batch/update');
    await send([
      bypass({ objectId: Number(recordId), propertyValue: 'Spam King', occurredAt: t }),
      bypass({ objectId: Number(recordId), propertyName: 'company', propertyValue: 'Spam Inc', occurredAt: t }),
    ]);
    await drain();

    const [notReverted] = await harness.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'crm.bypass_not_reverted')));
    expect(notReverted).toMatchObject({ recordId, data: expect.objectContaining({ crmMessage: expect.any(String) }) });
    const rows = await harness.deps.db.select().from(killSwitches).where(eq(killSwitches.workspaceId, ws.workspaceId));
    expect(rows).toEqual([expect.objectContaining({ scope: 'agent', target: agent.body.id, engaged: true })]);
  });
});
