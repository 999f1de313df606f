import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openChangeEventStream } from '../../server/src/crm/salesforce/change-events/index.ts';
import { startPubSubSandbox, type PubSubSandbox, UI_CLIENT } from '../../server/src/sandbox/salesforce/pubsub/index.ts';
import type { RecordChange } from '../../server/src/sandbox/salesforce/pubsub/event-bus.ts';
import { editAsPerson } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace, publishPolicy } from '../../server/src/services/governance/index.ts';
import { syncApprovalMirror } from '../../server/src/services/held/index.ts';
import {
  followChangeStream,
  type OpenChangeStream,
  processWebhookEvents,
} from '../../server/src/services/webhooks/index.ts';
import { readStreamPositions } from '../../server/src/store/crm-event-stream-store.ts';
import { approvals, auditEvents } from '../../server/src/store/schema.ts';
import { givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';
import { historyRows, seedWebhookWorkspace, storedEventCount } from '../support/webhooks.ts';

/**
 * Change events streamed by the CRM (issue 20, point 5): the real Pub/Sub client against the
 * local endpoint, the stream followed into the same processing as HubSpot's webhooks.
 */

const ORG = '00D000000000001EAA';
const TOKEN = `${ORG}!stream-token`;
const OUR_CLIENT = 'agent-governance';
const PERSON = '005000000000009AAA';

let harness: Harness;
let sandbox: PubSubSandbox;
let ws: Awaited<ReturnType<typeof seedWebhookWorkspace>>;

beforeEach(async () => {
  harness = await startHarness({ hubspotOverHttp: true });
  sandbox = await startPubSubSandbox({ accessToken: TOKEN, organizationId: ORG });
  ws = await seedWebhookWorkspace(harness);
});
afterEach(async () => {
  await sandbox.close();
  await harness.close();
});

const open: OpenChangeStream = (positions, onBatch) =>
  openChangeEventStream(
    {
      accessToken: TOKEN,
      instanceUrl: 'https://sandbox.my.salesforce.com',
      organizationId: ORG,
      pubSubEndpoint: sandbox.endpoint,
      rejectUnauthorizedSsl: false,
      ourClientId: OUR_CLIENT,
      objectTypes: { Contact: 'contacts', Opportunity: 'deals' },
      approvalObject: { entity: 'Agent_Approval__c', statusField: 'Status__c' },
    },
    positions,
    onBatch,
  );

/** Follows the stream as `holder` until `stored` events are stored, then stops it. */
async function follow(stored: number, holder = 'server-a'): Promise<string> {
  const controller = new AbortController();
  const startCount = await storedEventCount(harness.deps.db, ws.workspaceId);
  const ended = followChangeStream(harness.deps, {
    workspaceId: ws.workspaceId,
    connection: { crm: 'hubspot', accountId: String(ws.portalId) } as const,
    holder,
    open,
    signal: controller.signal,
    onStored: () =>
      void storedEventCount(harness.deps.db, ws.workspaceId).then((n) => {
        if (n - startCount >= stored) controller.abort();
      }),
  });
  return ended;
}

/** The example policy in force, the workspace bootstrapped, and an enrichment agent's token. */
async function governedEnricher(): Promise<string> {
  await publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, ADMIN);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  const created = await api(harness, 'POST', '/v1/admin/agents', {
    token: ws.adminToken,
    body: { name: 'enricher', role: 'enrichment' },
  });
  return created.body.token;
}

const contactChange = (
  recordId: string,
  values: Record<string, string | null>,
  origin: string | null,
): RecordChange => ({
  entity: 'Contact',
  recordIds: [recordId],
  changeType: 'UPDATE',
  changedFields: Object.keys(values),
  values,
  origin,
  commitUser: PERSON,
});

describe('following a CRM change stream', () => {
  it('sorts changes by who made them, and a person edit makes an approval stale as a webhook would', async () => {
    const token = await governedEnricher();
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });

    sandbox.publishRecordChanges([contactChange(recordId, { phone: '+1 555 0777' }, UI_CLIENT)]);
    sandbox.publishRecordChanges([contactChange(recordId, { jobtitle: 'CEO' }, 'zapier-sync')]);
    sandbox.publishRecordChanges([contactChange(recordId, { ag_last_change_id: 'x' }, OUR_CLIENT)]);
    expect(await follow(3)).toBe('closed');
    while ((await processWebhookEvents(harness.deps)) > 0);

    const history = await historyRows(harness.deps.db, ws.workspaceId);
    expect(history.map((row) => [row.property, row.kind, row.sourceId])).toEqual([
      ['phone', 'person', PERSON],
      ['jobtitle', 'bypass', 'zapier-sync'],
      ['ag_last_change_id', 'own_write', PERSON],
    ]);
    const [approval] = await harness.deps.db.select().from(approvals).where(eq(approvals.id, approvalId));
    expect(approval?.status).toBe('stale');
    const bypassAudits = await harness.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'crm.bypass_write')));
    expect(bypassAudits).toHaveLength(1);
    expect(bypassAudits[0]).toMatchObject({ property: 'jobtitle', recordId });
  });

  it('resumes after the last stored event when followed again: nothing missed, nothing twice', async () => {
    for (let i = 0; i < 3; i += 1)
      sandbox.publishRecordChanges([contactChange(`10${i}`, { jobtitle: `T${i}` }, UI_CLIENT)]);
    await follow(3);
    const positions = await readStreamPositions(harness.deps.db, ws.workspaceId);
    expect([...positions.keys()]).toEqual(['/data/ContactChangeEvent']);
    // Published while no server followed the stream.
    for (let i = 3; i < 5; i += 1)
      sandbox.publishRecordChanges([contactChange(`10${i}`, { jobtitle: `T${i}` }, UI_CLIENT)]);
    await follow(2, 'server-b');
    while ((await processWebhookEvents(harness.deps)) > 0);
    const history = await historyRows(harness.deps.db, ws.workspaceId);
    expect(history.map((row) => row.value)).toEqual(['T0', 'T1', 'T2', 'T3', 'T4']);
  });

  it('lets one server follow a workspace stream at a time', async () => {
    sandbox.publishRecordChanges([contactChange('100', { jobtitle: 'A' }, UI_CLIENT)]);
    const controller = new AbortController();
    let storedOnce: () => void = () => {};
    const first = new Promise<void>((resolve) => (storedOnce = resolve));
    const connection = { crm: 'hubspot', accountId: String(ws.portalId) } as const;
    const following = followChangeStream(harness.deps, {
      workspaceId: ws.workspaceId,
      connection,
      holder: 'server-a',
      open,
      signal: controller.signal,
      onStored: () => storedOnce(),
    });
    await first;
    expect(
      await followChangeStream(harness.deps, { workspaceId: ws.workspaceId, connection, holder: 'server-b', open }),
    ).toBe('held_elsewhere');
    controller.abort();
    expect(await following).toBe('closed');
  });

  it('gives the lease back when the stream cannot be opened, so another server tries at once', async () => {
    const connection = { crm: 'hubspot', accountId: String(ws.portalId) } as const;
    const refused: OpenChangeStream = () => Promise.reject(new Error('invalid_grant: the app was revoked'));
    await expect(
      followChangeStream(harness.deps, { workspaceId: ws.workspaceId, connection, holder: 'server-a', open: refused }),
    ).rejects.toThrow('invalid_grant');
    sandbox.publishRecordChanges([contactChange('100', { jobtitle: 'A' }, UI_CLIENT)]);
    expect(await follow(1, 'server-b')).toBe('closed');
  });

  it('reads a record again after a gap event and records what it holds now', async () => {
    const token = await governedEnricher();
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    await proposeHeld(harness, { token, adminToken: ws.adminToken, recordId, properties: { phone: '+1 555 0199' } });
    // The change that the gap stands for, made where no event reports it.
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId,
      properties: { phone: '+1 555 0300' },
      userId: 9,
    });
    sandbox.bus.publishGap('Contact', [recordId], 'GAP_UPDATE', PERSON);
    await follow(1);
    while ((await processWebhookEvents(harness.deps)) > 0);
    const history = await historyRows(harness.deps.db, ws.workspaceId);
    expect(history.map((row) => [row.recordId, row.property, row.value, row.kind])).toEqual([
      [recordId, 'phone', '+1 555 0300', 'system'],
    ]);
  });

  it('records a record deleted during a gap once, however many of its properties are governed', async () => {
    const token = await governedEnricher();
    const deleted = seedContact(harness, { phone: '+1 555 0100' });
    const kept = seedContact(harness, { phone: '+1 555 0200' });
    for (const recordId of [deleted, kept])
      await proposeHeld(harness, {
        token,
        adminToken: ws.adminToken,
        recordId,
        properties: { phone: '+1 555 0199', mobilephone: '+1 555 0198' },
      });
    harness.hubspot.state.objects.contacts.records.delete(deleted);
    sandbox.bus.publishGap('Contact', [deleted, kept], 'GAP_UPDATE', PERSON);
    await follow(1);
    while ((await processWebhookEvents(harness.deps)) > 0);
    const history = await historyRows(harness.deps.db, ws.workspaceId);
    expect(history.map((row) => [row.recordId, row.property, row.value, row.kind])).toEqual([
      [deleted, '', null, 'record_deleted'],
      [kept, 'mobilephone', null, 'system'],
      [kept, 'phone', '+1 555 0200', 'system'],
    ]);
  });

  it('reads governed records again when the stored replay id is past retention, then goes on from the earliest kept', async () => {
    await sandbox.close();
    let now = Date.now();
    sandbox = await startPubSubSandbox({ accessToken: TOKEN, organizationId: ORG, now: () => now });
    const token = await governedEnricher();
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    await proposeHeld(harness, { token, adminToken: ws.adminToken, recordId, properties: { phone: '+1 555 0199' } });
    sandbox.publishRecordChanges([contactChange('100', { jobtitle: 'T0' }, UI_CLIENT)]);
    await follow(1);
    // While no server followed: a change, then three days on, so it left the retention unseen.
    sandbox.publishRecordChanges([contactChange('100', { jobtitle: 'T1' }, UI_CLIENT)]);
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId,
      properties: { phone: '+1 555 0300' },
      userId: 9,
    });
    now += 73 * 60 * 60 * 1000;
    sandbox.publishRecordChanges([contactChange('100', { jobtitle: 'T2' }, UI_CLIENT)]);
    // The first stream finds its replay id refused: it reads the governed record again and ends.
    expect(await follow(1, 'server-b')).toBe('closed');
    await follow(1, 'server-b');
    while ((await processWebhookEvents(harness.deps)) > 0);
    const history = await historyRows(harness.deps.db, ws.workspaceId);
    expect(history.map((row) => [row.property, row.value, row.kind])).toEqual([
      ['jobtitle', 'T0', 'person'],
      ['phone', '+1 555 0300', 'system'],
      ['jobtitle', 'T2', 'person'],
    ]);
  });

  it('takes a status set on the approval object as that person’s decision, by the same rules', async () => {
    const token = await governedEnricher();
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });
    await syncApprovalMirror(harness.deps);
    const [mirrored] = await harness.deps.db.select().from(approvals).where(eq(approvals.id, approvalId));
    // The commit user is named as this workspace's CRM port names its users (the HubSpot fake's
    // `userId:` form here; a Salesforce port's user ids are the commit user ids themselves).
    sandbox.publishRecordChanges([
      {
        entity: 'Agent_Approval__c',
        recordIds: [mirrored?.crmObjectId ?? ''],
        changeType: 'UPDATE',
        changedFields: ['Status__c'],
        values: { Status__c: 'Approved' },
        origin: UI_CLIENT,
        commitUser: 'userId:501',
      },
    ]);
    await follow(1);
    while ((await processWebhookEvents(harness.deps)) > 0);
    const [decided] = await harness.deps.db.select().from(approvals).where(eq(approvals.id, approvalId));
    expect(decided).toMatchObject({ status: 'approved', decidedBy: ['501'] });
  });
});
