import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncApprovalMirror, retryDueApplies } from '../../server/src/services/held/index.ts';
import { verifyAudit, bootstrapWorkspace, publishPolicy } from '../../server/src/services/governance/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import { customStore } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { approvals, auditEvents, killSwitches } from '../../server/src/store/schema.ts';
import { decide, EVIDENCE, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';
import { deliver, propertyChange, seedWebhookWorkspace } from '../support/webhooks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWebhookWorkspace>>;
let token: string;
/** How far the app's clock runs ahead of the real one: webhook signatures are checked against the real clock. */
let ahead = 0;

beforeEach(async () => {
  ahead = 0;
  harness = await startHarness({ clock: () => new Date(Date.now() + ahead) });
  ws = await seedWebhookWorkspace(harness);
  await publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, ADMIN);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  token = (
    await api(harness, 'POST', '/v1/admin/agents', {
      token: ws.adminToken,
      body: { name: 'enricher', role: 'enrichment' },
    })
  ).body.token;
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '9001': 'rep' });
});
afterEach(() => harness.close());

async function receive(events: unknown[]): Promise<void> {
  expect((await deliver(harness, events, { clientSecret: ws.clientSecret })).status).toBe(200);
  while ((await processWebhookEvents(harness.deps)) > 0);
}

const statusOf = async (approvalId: string) =>
  (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!;
const later = (ms = 1_000) => Date.now() + ms;

describe('approvals reconciled with what HubSpot says changed', () => {
  it('makes an approval stale when a person edits its property in HubSpot, so approving it overwrites nothing', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });
    await receive([
      propertyChange(ws.portalId, {
        objectId: Number(recordId),
        propertyName: 'phone',
        propertyValue: '+1 555 0777',
        occurredAt: later(),
      }),
    ]);

    expect(await statusOf(approvalId)).toMatchObject({
      status: 'stale',
      message: 'user 9001 changed phone in the CRM after the agent proposed; nothing will be overwritten.',
    });
    // Its items read stale too: none of them will be written, whatever each said before.
    expect(
      (await api(harness, 'GET', `/v1/admin/approvals/${approvalId}`, { token: ws.adminToken })).body,
    ).toMatchObject({ status: 'stale', items: [{ property: 'phone', status: 'stale' }] });
    const [stale] = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.recordId, recordId), eq(auditEvents.type, 'approval.stale')));
    expect(stale).toMatchObject({
      actor: { type: 'system', name: 'hubspot-webhooks' },
      data: expect.objectContaining({ approvalId, cause: 'person', property: 'phone', sourceId: 'userId:9001' }),
    });
    const refused = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(refused).toMatchObject({ status: 409, body: { error: { details: { refusal: 'approval_not_pending' } } } });
    await syncApprovalMirror(harness.deps);
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)).toMatchObject({
      phone: '+1 555 0100',
      ag_proposed_phone: '',
      ag_pending_approvals: '0',
    });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('leaves an approval pending when the edit is to another property, came before the proposal, or sets the value it already had', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });
    await receive([
      propertyChange(ws.portalId, {
        objectId: Number(recordId),
        propertyName: 'jobtitle',
        propertyValue: 'CEO',
        occurredAt: later(),
      }),
      propertyChange(ws.portalId, {
        objectId: Number(recordId),
        propertyName: 'phone',
        propertyValue: '+1 555 0100',
        occurredAt: later(2_000),
      }),
      propertyChange(ws.portalId, {
        objectId: Number(recordId),
        propertyName: 'phone',
        propertyValue: '+1 555 0042',
        occurredAt: Date.now() - 60_000,
      }),
    ]);
    expect((await statusOf(approvalId)).status).toBe('pending');
  });

  it('closes open approvals of a record deleted or merged away in HubSpot, saying why', async () => {
    const deleted = seedContact(harness);
    const merged = seedContact(harness);
    const deletedApproval = await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId: deleted,
      properties: { phone: '+1 555 0001' },
    });
    const mergedApproval = await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId: merged,
      properties: { phone: '+1 555 0002' },
    });
    await receive([
      propertyChange(ws.portalId, {
        subscriptionType: 'contact.deletion',
        objectId: Number(deleted),
        propertyName: undefined,
        propertyValue: undefined,
      }),
      propertyChange(ws.portalId, {
        subscriptionType: 'contact.merge',
        objectId: Number(merged),
        propertyName: undefined,
        propertyValue: undefined,
        primaryObjectId: 99,
        mergedObjectIds: [Number(merged)],
        newObjectId: 99,
      }),
    ]);
    expect(await statusOf(deletedApproval)).toMatchObject({
      status: 'stale',
      message: `Record ${deleted} was deleted in the CRM; nothing will be written.`,
    });
    expect(await statusOf(mergedApproval)).toMatchObject({
      status: 'stale',
      message: `Record ${merged} was merged into record 99 in the CRM; nothing will be written.`,
    });
  });

  it('takes a decision made on the approval record inside HubSpot as that person’s, by the same rules', async () => {
    const recordId = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });
    await syncApprovalMirror(harness.deps);
    const objectTypeId = customStore(harness.hubspot.state, 'agent_approval')!.schema.objectTypeId;
    const crmObjectId = (await statusOf(approvalId)).crmObjectId!;
    const statusChange = (userId: string, value: string) =>
      propertyChange(ws.portalId, {
        subscriptionType: 'object.propertyChange',
        objectTypeId,
        objectId: Number(crmObjectId),
        propertyName: 'ag_status',
        propertyValue: value,
        sourceId: `userId:${userId}`,
        occurredAt: later(),
      });

    // A rep who does not own the contact may not decide: refused and audited, still pending, and HubSpot's copy put back.
    const objectRecord = customStore(harness.hubspot.state, 'agent_approval')!.records.get(crmObjectId)!;
    objectRecord.properties['ag_status'] = 'approved';
    await receive([statusChange('9001', 'approved')]);
    expect((await statusOf(approvalId)).status).toBe('pending');
    await syncApprovalMirror(harness.deps);
    expect(objectRecord.properties['ag_status']).toBe('pending');
    const [refusal] = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'approval.refused')));
    expect(refusal).toMatchObject({
      actor: { type: 'person', crmUserId: '9001', via: 'hubspot_app' },
      data: expect.objectContaining({ refusal: 'not_record_owner' }),
    });

    await receive([statusChange('501', 'approved')]);
    expect((await statusOf(approvalId)).status).toBe('approved');
    expect(await retryDueApplies(harness.deps)).toBe(1);
    expect(await statusOf(approvalId)).toMatchObject({ status: 'applied', decidedBy: ['501'] });
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0199');
    expect(await retryDueApplies(harness.deps)).toBe(0);
  });

  it('keeps a decision made on an approval record before its id was stored, and takes it once the mirror stores the id', async () => {
    const recordId = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });
    // HubSpot creates the approval record, then fails the association call past the adapter's retries:
    // the record exists in HubSpot, and we have not stored its id.
    harness.hubspot.faults.failNext(
      5,
      { status: 503 },
      'POST /crm/v4/associations/{from}/{to}/batch/associate/default',
    );
    expect((await syncApprovalMirror(harness.deps)).failed).toHaveLength(1);
    const store = customStore(harness.hubspot.state, 'agent_approval')!;
    const [crmObjectId, objectRecord] = [...store.records].find(
      ([, record]) => record.properties['ag_approval_id'] === approvalId,
    )!;
    expect((await statusOf(approvalId)).crmObjectId).toBeNull();

    // The approver rejects it on that record in the meantime.
    objectRecord.properties['ag_status'] = 'rejected';
    const rejection = propertyChange(ws.portalId, {
      subscriptionType: 'object.propertyChange',
      objectTypeId: store.schema.objectTypeId,
      objectId: Number(crmObjectId),
      propertyName: 'ag_status',
      propertyValue: 'rejected',
      sourceId: 'userId:501',
      occurredAt: later(),
    });
    await receive([rejection]);
    expect((await statusOf(approvalId)).status).toBe('pending');

    // The mirror's retry stores the id and sends the decision back to processing, which takes it as 501's.
    ahead = 31_000;
    expect(await syncApprovalMirror(harness.deps)).toEqual({ written: 1, failed: [] });
    expect((await statusOf(approvalId)).crmObjectId).toBe(crmObjectId);
    while ((await processWebhookEvents(harness.deps)) > 0);
    expect(await statusOf(approvalId)).toMatchObject({ status: 'rejected', decidedBy: ['501'] });
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).not.toBe('+1 555 0199');
    const decisions = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'approval.decided')));
    expect(decisions).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ type: 'person', crmUserId: '501', via: 'hubspot_app' }),
        data: expect.objectContaining({ kind: 'reject', status: 'rejected' }),
      }),
    ]);
    // Processed once more, it changes nothing: the approval is no longer pending, and nothing is refused.
    expect(await processWebhookEvents(harness.deps)).toBe(0);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('counts rejections made on approval records inside HubSpot toward the agent’s rejection-rate kill trigger', async () => {
    await publishPolicy(
      harness.deps,
      ws.workspaceId,
      {
        ...(EXAMPLE_POLICY as object),
        monitoring: { killTriggers: { rejectionRate: { threshold: 0.5, minDecided: 2 } } },
      },
      ADMIN,
    );
    const approvalIds = [];
    for (let i = 0; i < 2; i += 1)
      approvalIds.push(
        await proposeHeld(harness, {
          token,
          adminToken: ws.adminToken,
          recordId: seedContact(harness),
          properties: { phone: `+1 555 010${i}` },
        }),
      );
    await syncApprovalMirror(harness.deps);
    const objectTypeId = customStore(harness.hubspot.state, 'agent_approval')!.schema.objectTypeId;
    const rejectInHubSpot = async (approvalId: string) => {
      const crmObjectId = (await statusOf(approvalId)).crmObjectId!;
      await receive([
        propertyChange(ws.portalId, {
          subscriptionType: 'object.propertyChange',
          objectTypeId,
          objectId: Number(crmObjectId),
          propertyName: 'ag_status',
          propertyValue: 'rejected',
          sourceId: 'userId:501',
          occurredAt: later(),
        }),
      ]);
    };
    const switches = () =>
      harness.database.db.select().from(killSwitches).where(eq(killSwitches.workspaceId, ws.workspaceId));

    await rejectInHubSpot(approvalIds[0]!);
    expect((await statusOf(approvalIds[0]!)).status).toBe('rejected');
    expect(await switches()).toEqual([]); // one decided: too few to judge
    await rejectInHubSpot(approvalIds[1]!);
    const agentId = (await statusOf(approvalIds[1]!)).agentId;
    expect(await switches()).toEqual([
      expect.objectContaining({
        scope: 'agent',
        target: agentId,
        engaged: true,
        reason: expect.stringContaining('2 of 2 decided proposals'),
      }),
    ]);
    const submit = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'enrich-2',
        objectType: 'contacts',
        changes: [{ recordId: seedContact(harness), properties: { phone: '+1 555 0000' }, evidence: EVIDENCE }],
      },
    });
    expect(submit.status).toBe(423);
  });
});
