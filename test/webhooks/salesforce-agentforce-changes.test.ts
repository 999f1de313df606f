import { and, eq } from 'drizzle-orm';
import { followSandboxChangeStreams } from '../support/change-streams.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceSandbox, type RunningSalesforceSandbox } from '../../server/src/sandbox/salesforce/start.ts';
import { AGENTFORCE_USER_ID, newId } from '../../server/src/sandbox/salesforce/state.ts';
import { submitChangeSet } from '../../server/src/services/change-sets/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import {
  authenticateAgent,
  bootstrapWorkspace,
  createAgent,
  createSalesforceWorkspace,
  publishPolicy,
} from '../../server/src/services/governance/index.ts';
import { syncApprovalMirror } from '../../server/src/services/held/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import type { Database } from '../../server/src/store/database.ts';
import { approvals, auditEvents, recordPropertyChanges } from '../../server/src/store/schema.ts';
import { createTestDatabase } from '../support/database.ts';
import { sandboxSalesforceConnection, salesforceTestDeps } from '../support/salesforce.ts';

// Issue 20, point 5: the change-stream follower asks the org, through the workspace's adapter, what
// kind of user made each change. An Agentforce agent user's edit of a held field is an AI agent
// writing around our governance: a bypass (audited, counted by the kill trigger), not a person's
// edit, so it does not make the approval stale; a person's edit still does. The local Salesforce
// answers the User query and publishes both edits; the real Pub/Sub client reads them.
let database: Database;
let sandbox: RunningSalesforceSandbox;
let deps: ServiceDeps;
let workspaceId: string;
const ADMIN = { type: 'admin', via: 'cli', name: 'test' } as const;
const CONTACT = newId('003', 3);

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSalesforceSandbox({ port: 0 });
  deps = salesforceTestDeps(database.db);
  ({ id: workspaceId } = await createSalesforceWorkspace(
    deps,
    { name: 'Acme', connection: sandboxSalesforceConnection(sandbox.url) },
    ADMIN,
  ));
  await publishPolicy(
    deps,
    workspaceId,
    {
      name: 'held departments',
      timezone: 'UTC',
      objects: { 'salesforce:Contact': { properties: { Department: { enrichment: 'approval' } } } },
      monitoring: { killTriggers: { bypassWrites: { threshold: 1, windowMinutes: 60 } } },
    },
    ADMIN,
  );
  await bootstrapWorkspace(deps, workspaceId, ADMIN);
});
afterAll(async () => {
  await sandbox?.close();
  await database?.close();
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await read();
    if (done(value)) return value;
    if (i > 600) throw new Error(`never happened; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const edit = (values: Record<string, string>, userId?: string, object = 'Contact', id = CONTACT) =>
  fetch(`${sandbox.url}/_sandbox/edit`, {
    method: 'POST',
    body: JSON.stringify({ object, id, values, ...(userId ? { userId } : {}) }),
  });

/** Processes stored changes until the record's history holds `count` rows not written by us (ours are left out). */
const processedChanges = (count: number, recordId = CONTACT) =>
  until(
    async () => (await recordHistory(recordId)).filter((row) => row.source !== 'our_app'),
    (rows) => rows.length >= count,
  );
const recordHistory = async (recordId: string) => {
  while ((await processWebhookEvents(deps)) > 0);
  return database.db
    .select({
      property: recordPropertyChanges.property,
      kind: recordPropertyChanges.kind,
      source: recordPropertyChanges.changeSource,
      sourceId: recordPropertyChanges.sourceId,
    })
    .from(recordPropertyChanges)
    .where(and(eq(recordPropertyChanges.workspaceId, workspaceId), eq(recordPropertyChanges.recordId, recordId)))
    .orderBy(recordPropertyChanges.occurredAt);
};

const approvalStatus = async (id: string) =>
  (await database.db.select({ status: approvals.status }).from(approvals).where(eq(approvals.id, id)))[0]?.status;
const userQueries = () => sandbox.state.calls.filter((call) => call.path === '/query').length;
const auditTypes = async () =>
  (
    await database.db
      .select({ type: auditEvents.type, property: auditEvents.property })
      .from(auditEvents)
      .where(eq(auditEvents.workspaceId, workspaceId))
  ).map((row) => `${row.type}${row.property ? ` ${row.property}` : ''}`);

describe('an Agentforce agent user’s changes in Salesforce', () => {
  it('are a bypass that trips the kill trigger, neither stale-making nor a decision; a person’s edit makes the approval stale', async () => {
    const token = (await createAgent(deps, workspaceId, { name: 'enricher', role: 'enrichment' }, ADMIN)).token;
    const { agent, workspace } = await authenticateAgent(deps, token);
    const submitted = await submitChangeSet(deps, {
      agent,
      workspace,
      request: {
        batchId: 'departments',
        objectType: 'salesforce:Contact',
        changes: [
          {
            recordId: CONTACT,
            properties: { Department: 'Research' },
            evidence: { source: 'test', confidence: 0.9, reason: 'test' },
          },
        ],
      },
    });
    const [held] = await database.db
      .select({ id: approvals.id })
      .from(approvals)
      .where(eq(approvals.changeSetId, submitted.response.id));
    expect(held).toBeDefined();
    const approvalId = held!.id;
    await syncApprovalMirror(deps);
    const [mirrored] = [...sandbox.state.objects.get('Agent_Approval__c')!.records.keys()];
    expect(mirrored).toBeDefined();

    const followers = followSandboxChangeStreams(deps, sandbox.pubSubEndpoint);
    try {
      expect((await edit({ Department: 'Agent pick' }, AGENTFORCE_USER_ID)).status).toBe(200);
      await processedChanges(1);
      const asked = userQueries();
      expect((await edit({ Title: 'Agent title' }, AGENTFORCE_USER_ID)).status).toBe(200);
      expect(await processedChanges(2)).toEqual([
        { property: 'Department', kind: 'bypass', source: 'ai_agent', sourceId: AGENTFORCE_USER_ID },
        { property: 'Title', kind: 'bypass', source: 'ai_agent', sourceId: AGENTFORCE_USER_ID },
      ]);
      // The agent user is asked about once: the stream keeps what it learned.
      expect(userQueries()).toBe(asked);
      expect(await approvalStatus(approvalId)).toBe('pending');
      // Approvals are people's to decide: an agent user's status on the approval record is not a decision.
      const approved = await edit({ Agent_status__c: 'Approved' }, AGENTFORCE_USER_ID, 'Agent_Approval__c', mirrored);
      expect(approved.status).toBe(200);
      expect(await processedChanges(1, mirrored)).toEqual([
        { property: 'ag_status', kind: 'bypass', source: 'ai_agent', sourceId: AGENTFORCE_USER_ID },
      ]);
      expect(await approvalStatus(approvalId)).toBe('pending');
      const audited = await auditTypes();
      expect(audited).toEqual(expect.arrayContaining(['crm.bypass_write Department', 'crm.bypass_write Title']));
      expect(audited).toContain('kill_switch.engaged');

      expect((await edit({ Department: 'Person pick' })).status).toBe(200);
      expect((await processedChanges(3))[2]).toEqual({
        property: 'Department',
        kind: 'person',
        source: 'person',
        sourceId: newId('005', 1),
      });
      expect(await approvalStatus(approvalId)).toBe('stale');
      // The approval mirror's own fields on the contact are known as ours, not as another integration's writes.
      const ours = (await recordHistory(CONTACT)).filter((row) => row.source === 'our_app');
      expect(ours.map((row) => [row.property, row.kind])).toEqual(
        expect.arrayContaining([
          ['ag_proposed_Department', 'own_write'],
          ['ag_pending_approvals', 'own_write'],
        ]),
      );
    } finally {
      await followers.stop();
    }
  }, 60_000);
});
