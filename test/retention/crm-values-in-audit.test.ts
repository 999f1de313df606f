import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootstrapWorkspace, verifyAudit } from '../../server/src/services/governance/index.ts';
import { editAsPerson } from '../../server/src/sandbox/hubspot/state.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { approvalEvents, decide, EVIDENCE, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Issue 21: values the CRM sends back (a refusal's message, the values that made an approval stale)
// are personal data too: kept out of the hashed event, which SIEMs receive and nothing can erase.
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
});
afterEach(() => harness.close());

/** The event as the chain hashes it and a SIEM receives it: no personal values written back. */
async function storedEvent(recordId: string, type: string) {
  const [row] = await harness.database.db
    .select()
    .from(auditEvents)
    .where(
      and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.recordId, recordId), eq(auditEvents.type, type)),
    );
  return row!;
}

async function exported(): Promise<string> {
  const res = await fetch(`${harness.url}/v1/admin/audit/export?format=ndjson`, {
    headers: { authorization: `Bearer ${ws.adminToken}` },
  });
  return res.text();
}

describe('values the CRM sends back, in the audit trail', () => {
  it('a refusal quoting a person’s address is kept apart from the hashed event, and an erasure by that address removes it', async () => {
    const id = seedContact(harness, { email: 'ann@acme.example' });
    // HubSpot's VALIDATION_ERROR message quotes the values it refused.
    harness.hubspot.faults.rejectUpdatesOf(
      'contacts',
      id,
      'Property values were not valid: [{"isValid":false,"message":"A contact with the email ann@acme.example already exists.","error":"CONTACT_EXISTS","name":"email"}]',
    );
    const res = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      body: {
        batchId: 'refused',
        objectType: 'contacts',
        changes: [{ recordId: id, properties: { jobtitle: 'CTO' }, evidence: EVIDENCE }],
      },
    });
    expect(res.body.summary).toMatchObject({ failed: 1 });

    const failed = await storedEvent(id, 'change.failed');
    expect(failed.reasons).toEqual(['tier_auto', 'crm_rejected']);
    expect(failed.data).toMatchObject({ message: '[redacted]', properties: ['jobtitle'] });
    expect(JSON.stringify(failed)).not.toContain('ann@acme.example');
    // While kept, the export still shows why the CRM refused.
    expect(await exported()).toContain('A contact with the email ann@acme.example already exists.');

    const erased = await api(harness, 'POST', '/v1/admin/erasures', {
      token: ws.adminToken,
      body: { email: 'ann@acme.example' },
    });
    expect(erased.status).toBe(200);
    expect(await exported()).not.toContain('ann@acme.example');
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('the CRM’s current values that made an approval stale are kept apart when they are personal', async () => {
    const id = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId: id,
      properties: { phone: '+1 555 0199' },
    });
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: id,
      properties: { phone: '+1 555 0777' },
      userId: 9001,
    });
    const res = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(res.body).toMatchObject({ status: 'stale' });

    const stale = await storedEvent(id, 'approval.stale');
    expect(stale.data).toMatchObject({ approvalId, current: '[redacted]' });
    expect(JSON.stringify(stale)).not.toContain('0777');
    expect(await approvalEvents(harness, id, 'approval.stale')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ current: { phone: '+1 555 0777' } }) }),
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });
});
