import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withAuditChain } from '../../server/src/services/common/index.ts';
import { publishPolicy, verifyAudit } from '../../server/src/services/governance/index.ts';
import { auditEvents, auditPersonalData } from '../../server/src/store/schema.ts';
import { givePeopleRoles } from '../support/approvals.ts';
import { cliOver } from '../support/cli.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Issue 21: erasing a person under the workspace's dual control, by the admin API and the CLI.
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

beforeEach(async () => {
  ws = await seedWorkspace(harness);
  await publishPolicy(
    harness.deps,
    ws.workspaceId,
    { ...(EXAMPLE_POLICY as object), dualControl: { killSwitchRelease: false, tierLowering: false, erasure: true } },
    ADMIN,
  );
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'owner', '502': 'revops_admin' });
  await withAuditChain(harness.deps.db, ws.workspaceId, harness.deps.clock, async (_tx, audit) => {
    for (const recordId of ['1', '2'])
      audit.append({
        type: 'change.applied',
        actor: { type: 'agent', name: 'enricher' },
        objectType: 'contacts',
        recordId,
        after: { email: `person${recordId}@example.com` },
      });
  });
});

const erase = (body: unknown) => api(harness, 'POST', '/v1/admin/erasures', { token: ws.adminToken, body });
const decide = (id: string, decision: 'confirm' | 'cancel', actingUserId: string) =>
  api(harness, 'POST', `/v1/admin/governance-requests/${id}/${decision}`, {
    token: ws.adminToken,
    body: { actingUserId },
  });

async function personalValuesKept(): Promise<number> {
  return (await harness.database.db.select().from(auditPersonalData)).filter(
    (row) => row.workspaceId === ws.workspaceId,
  ).length;
}

async function eventsOf(type: string) {
  return harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, type)));
}

describe('erasure under dual control', () => {
  it('waits for a second admin, who erases it on confirmation; the one who asked cannot confirm', async () => {
    const unnamed = await erase({ objectType: 'contacts', recordId: '1' });
    expect([unnamed.status, unnamed.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(unnamed.body.error?.message).toContain('actingUserId');

    const asked = await erase({
      objectType: 'contacts',
      recordId: '1',
      email: 'person1@example.com',
      actingUserId: '501',
    });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({
      kind: 'erasure',
      status: 'pending',
      requestedBy: 'person:501',
      reasons: [{ code: 'erasure' }],
      payload: { objectType: 'contacts', recordId: '1', email: 'person1@example.com' },
    });
    expect(await personalValuesKept()).toBe(2);
    // The hashed log never holds the address asked about.
    const [requested] = await eventsOf('governance.requested');
    expect(JSON.stringify(requested)).not.toContain('person1@example.com');
    expect(requested!.data).toMatchObject({ kind: 'erasure', payload: { recordId: '1', byEmail: true } });

    const own = await decide(asked.body.id, 'confirm', '501');
    expect([own.status, own.body.error?.details?.refusal]).toEqual([403, 'same_person']);
    expect(await personalValuesKept()).toBe(2);

    const confirmed = await decide(asked.body.id, 'confirm', '502');
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'confirmed', decidedBy: 'person:502' });
    expect(confirmed.body.payload).toEqual({ objectType: 'contacts', recordId: '1', byEmail: true });
    expect(await personalValuesKept()).toBe(1);
    const [erased] = await eventsOf('person.erased');
    expect(erased).toMatchObject({ recordId: '1', actor: { type: 'person', crmUserId: '502' } });
    expect(erased!.data).toMatchObject({ erased: { auditPersonalData: 1 } });
    const listed = await api(harness, 'GET', '/v1/admin/governance-requests', { token: ws.adminToken });
    expect(JSON.stringify(listed.body)).not.toContain('person1@example.com');
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('erases nothing when the request is cancelled, and keeps no address on it', async () => {
    const asked = await erase({ email: 'person2@example.com', actingUserId: '501' });
    const cancelled = await decide(asked.body.id, 'cancel', '502');
    expect(cancelled.body).toMatchObject({ status: 'cancelled', payload: { byEmail: true } });
    expect(JSON.stringify(cancelled.body)).not.toContain('person2@example.com');
    expect(await personalValuesKept()).toBe(2);
    expect(await eventsOf('person.erased')).toHaveLength(0);
  });

  it('asks from the CLI too, naming the admin asking', async () => {
    const unnamed = await cliOver(harness, 'erase', '--workspace', ws.workspaceId, '--email', 'person2@example.com');
    expect(unnamed.code).not.toBe(0);
    expect(unnamed.stderr).toContain('actingUserId');

    const asked = await cliOver(
      harness,
      'erase',
      '--workspace',
      ws.workspaceId,
      '--email',
      'person2@example.com',
      '--acting-user',
      '501',
    );
    expect(asked.code).toBe(0);
    expect(asked.stdout).toContain('Nothing erased yet');
    const [pending] = (
      await api(harness, 'GET', '/v1/admin/governance-requests?status=pending', { token: ws.adminToken })
    ).body.requests;
    expect(pending).toMatchObject({ kind: 'erasure', requestedBy: 'person:501' });
    expect(await personalValuesKept()).toBe(2);
    expect((await decide(pending.id, 'confirm', '502')).body.status).toBe('confirmed');
    expect(await personalValuesKept()).toBe(1);
  });
});
