import { and, eq, like } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncApprovalMirror } from '../../server/src/services/held/index.ts';
import { verifyAudit, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import { customStore } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { timelineOf } from '../../server/src/sandbox/hubspot/engagement-routes.ts';
import { actions, auditEvents } from '../../server/src/store/schema.ts';
import { emailAction, EMAIL_EVIDENCE, publishActionTiers, submitAction } from '../support/actions.ts';
import { givePeopleRoles, seedContact } from '../support/approvals.ts';
import { api, startHarness, type Harness } from '../support/harness.ts';
import { deliver, propertyChange, seedWebhookWorkspace } from '../support/webhooks.ts';

/** Issue 5: a status a person sets on a held draft's Agent Approval record inside HubSpot is their decision, by the API's rules. */

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWebhookWorkspace>>;
let agentToken: string;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWebhookWorkspace(harness);
  // No send window: these tests run at any hour on the real clock, as webhook signatures need.
  await publishActionTiers(harness, ws.workspaceId, {}, { windows: [] });
  await bootstrapWorkspace(harness.deps, ws.workspaceId, { type: 'admin', via: 'api', name: 'test' });
  agentToken = (
    await api(harness, 'POST', '/v1/admin/agents', {
      token: ws.adminToken,
      body: { name: 'outreach-agent', role: 'outreach' },
    })
  ).body.token;
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '9001': 'rep' });
});
afterEach(() => harness.close());

async function receive(events: unknown[]): Promise<void> {
  expect((await deliver(harness, events, { clientSecret: ws.clientSecret })).status).toBe(200);
  while ((await processWebhookEvents(harness.deps)) > 0);
}

/** Mirrors the draft into HubSpot and answers how a person's status change on its approval record arrives. */
async function mirrored(draftId: string) {
  await syncApprovalMirror(harness.deps);
  const store = customStore(harness.hubspot.state, 'agent_approval')!;
  const [row] = await harness.database.db.select().from(actions).where(eq(actions.id, draftId));
  const objectId = row!.approvalObjectId!;
  return {
    record: store.records.get(objectId)!,
    statusChange: (userId: string, value: string) =>
      propertyChange(ws.portalId, {
        subscriptionType: 'object.propertyChange',
        objectTypeId: store.schema.objectTypeId,
        objectId: Number(objectId),
        propertyName: 'ag_status',
        propertyValue: value,
        sourceId: `userId:${userId}`,
      }),
  };
}

const draft = async (id: string) =>
  (await api(harness, 'GET', `/v1/admin/actions/${id}`, { token: ws.adminToken })).body;

describe('a held draft decided on its approval record inside HubSpot', () => {
  it('refuses a rep who may not decide and puts HubSpot’s status back, then an approver’s approval creates the note', async () => {
    const contactId = seedContact(harness, { hubspot_owner_id: '1001' });
    const submitted = await submitAction(harness, agentToken, {
      kind: 'create_note',
      objectType: 'contacts',
      recordId: contactId,
      body: 'Asked for the pricing sheet.',
      evidence: EMAIL_EVIDENCE,
    });
    expect(submitted.body.status).toBe('pending');
    const { record, statusChange } = await mirrored(submitted.body.id);

    record.properties['ag_status'] = 'approved';
    await receive([statusChange('9001', 'approved')]);
    expect((await draft(submitted.body.id)).status).toBe('pending');
    const [refusal] = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'action.decision_refused')));
    expect(refusal).toMatchObject({
      actor: { type: 'person', crmUserId: '9001', via: 'hubspot_app' },
      data: expect.objectContaining({ refusal: 'not_record_owner' }),
    });
    await syncApprovalMirror(harness.deps);
    expect(record.properties['ag_status']).toBe('pending');

    await receive([statusChange('501', 'approved')]);
    const completed = await draft(submitted.body.id);
    expect(completed).toMatchObject({ status: 'completed', approvedBy: ['501'], crmObjectId: expect.any(String) });
    expect(timelineOf(harness.hubspot.state, 'contacts', contactId).map((entry) => entry.id)).toEqual([
      completed.crmObjectId,
    ]);
    await syncApprovalMirror(harness.deps);
    expect(record.properties).toMatchObject({ ag_status: 'applied', ag_decided_by: '501' });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('rejects an email on the approval record, and releases another to its agent with a token', async () => {
    const rejectedContact = seedContact(harness);
    const rejected = await submitAction(harness, agentToken, emailAction(rejectedContact));
    const approvedContact = seedContact(harness);
    const approved = await submitAction(harness, agentToken, emailAction(approvedContact));
    const first = await mirrored(rejected.body.id);
    const second = await mirrored(approved.body.id);

    await receive([first.statusChange('501', 'rejected'), second.statusChange('501', 'approved')]);
    expect(await draft(rejected.body.id)).toMatchObject({
      status: 'rejected',
      message: 'Rejected in HubSpot on the approval record.',
    });
    const events = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.recordId, rejectedContact), like(auditEvents.type, 'action.%')));
    expect(events.map((event) => event.type)).toEqual(['action.submitted', 'action.held', 'action.rejected']);
    const read = await api(harness, 'GET', `/v1/actions/${approved.body.id}`, { token: agentToken });
    expect(read.body).toMatchObject({
      status: 'released',
      approvedBy: ['501'],
      releaseToken: expect.stringMatching(/^rel_/),
    });

    await syncApprovalMirror(harness.deps);
    expect(first.record.properties).toMatchObject({ ag_status: 'rejected', ag_decided_by: '501' });
    expect(second.record.properties).toMatchObject({ ag_status: 'approved', ag_decided_by: '501' });
  });
});
