import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, type ServiceDeps, withAuditChain } from '../../server/src/services/common/index.ts';
import { createWorkspace, exportAudit, verifyAudit } from '../../server/src/services/governance/index.ts';
import { erasePerson } from '../../server/src/services/retention/index.ts';
import { unsettledValues } from '../../server/src/store/unsettled-values-store.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';
import { asDatabaseOwner } from '../support/tampering.ts';

const admin: Actor = { type: 'admin', via: 'cli', name: 'tester' };
const agent = { type: 'agent', name: 'enricher' };
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: ServiceDeps;
let workspaceId: string;

/** Events as the services write them: a field change on two contacts, a bypass write, a draft to one of them. */
async function writeEvents(): Promise<void> {
  await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
    audit.append({
      type: 'change.applied',
      actor: agent,
      objectType: 'contacts',
      recordId: '101',
      before: { email: 'ann@old.example', lifecyclestage: 'lead', firstname: 'Ann' },
      after: { email: 'ann@acme.example', lifecyclestage: 'customer', firstname: 'Ann' },
    });
    audit.append({
      type: 'change.applied',
      actor: agent,
      objectType: 'contacts',
      recordId: '202',
      before: { phone: '555-0101' },
      after: { phone: '555-0199' },
    });
    audit.append({
      type: 'crm.bypass_write',
      actor: { type: 'system', name: 'webhooks' },
      objectType: 'contacts',
      recordId: '202',
      property: 'mobilephone',
      before: { value: '555-0000' },
      after: { value: '555-0001' },
    });
    audit.append({
      type: 'action.submitted',
      actor: agent,
      objectType: 'contacts',
      recordId: '303',
      after: { kind: 'send_email', to: 'ann@acme.example', subject: 'Hello', body: 'Hi Ann' },
      data: { actionId: 'a1', tier: 'auto' },
    });
  });
}

async function exported(): Promise<Record<string, any>[]> {
  let text = '';
  for await (const chunk of exportAudit(deps, workspaceId, {}, 'ndjson')) text += chunk;
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

async function storedAfter(seq: number): Promise<unknown> {
  const { rows } = (await database.db.execute(
    sql`select after::text as after from audit_events where workspace_id = ${workspaceId} and seq = ${seq}`,
  )) as unknown as { rows: { after: string }[] };
  return JSON.parse(rows[0]!.after);
}

beforeAll(async () => {
  database = await createTestDatabase();
  deps = testDeps(database.db);
  workspaceId = (
    await createWorkspace(deps, { name: 'Acme', hubspotPortalId: '111', hubspotToken: 'pat-secret' }, admin)
  ).id;
  await writeEvents();
});
afterAll(() => database.close());

describe('personal data in audit events is kept apart', () => {
  it('stores "[redacted]" and a digest in the hashed event, the values apart, and shows them in the export', async () => {
    expect(await storedAfter(2)).toEqual({ email: '[redacted]', lifecyclestage: 'customer', firstname: '[redacted]' });
    expect(await storedAfter(4)).toEqual({ value: '[redacted]' });
    const events = await exported();
    expect(events[1]).toMatchObject({
      after: { email: '[redacted]', lifecyclestage: 'customer' },
      data: { personal: { digest: expect.stringMatching(/^[0-9a-f]{64}$/) } },
      personal: { after: { email: 'ann@acme.example', firstname: 'Ann' } },
    });
    expect(events[4]).toMatchObject({
      after: { kind: 'send_email', to: '[redacted]', subject: '[redacted]', body: '[redacted]' },
      personal: { after: { to: 'ann@acme.example', body: 'Hi Ann' } },
    });
    // Events about no CRM record hold nothing personal and are stored as before.
    expect(events[0]).not.toHaveProperty('personal');
    expect(await verifyAudit(deps, workspaceId)).toEqual({ ok: true, events: 5 });
  });

  it('our own unsettled writes still read the real values, so conditions on a personal field hold', async () => {
    const values = await unsettledValues(database.db, {
      workspaceId,
      objectType: 'contacts',
      recordIds: ['101', '202'],
      sinceSeq: 0,
    });
    expect(values.get('101')).toMatchObject({ email: 'ann@acme.example', lifecyclestage: 'customer' });
    expect(values.get('202')).toMatchObject({ phone: '555-0199' });
  });

  it('keeps a person’s edits to a held personal value apart, and other data as it was', async () => {
    await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
      audit.append({
        type: 'approval.decided',
        actor: { type: 'person', crmUserId: '501' },
        objectType: 'contacts',
        recordId: '505',
        data: { approvalId: 'x', edits: { phone: { proposed: '555-1', edited: '555-2' } } },
      });
    });
    const [event] = (await exported()).slice(-1);
    expect(event).toMatchObject({
      data: { approvalId: 'x', edits: '[redacted]' },
      personal: { data: { edits: { phone: { proposed: '555-1', edited: '555-2' } } } },
    });
  });

  it('salts each digest: the same values in two events give two digests', async () => {
    await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
      for (let i = 0; i < 2; i += 1)
        audit.append({
          type: 'change.applied',
          actor: agent,
          objectType: 'contacts',
          recordId: '404',
          after: { zip: '1000' },
        });
    });
    const events = (await exported()).slice(-2);
    expect(events[0]!.data.personal.digest).not.toBe(events[1]!.data.personal.digest);
  });

  it('verify fails at the event whose apart values were altered, or whose digest was', async () => {
    await database.db.execute(
      sql`update audit_personal_data set values = '{"after":{"phone":"555-6666"}}' where workspace_id = ${workspaceId} and seq = 3`,
    );
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      firstBadEvent: { seq: 3, problem: 'altered' },
    });
    await database.db.execute(sql`delete from audit_personal_data where workspace_id = ${workspaceId} and seq = 3`);
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({ ok: true });

    await asDatabaseOwner(database.db, async () => {
      await database.db.execute(
        sql`update audit_events set data = ${JSON.stringify({ personal: { digest: '0'.repeat(64) } })}::json where workspace_id = ${workspaceId} and seq = 4`,
      );
    });
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      firstBadEvent: { seq: 4, problem: 'altered' },
    });
  });
});

describe('erasure of one person', () => {
  let other: string;

  beforeAll(async () => {
    workspaceId = (await createWorkspace(deps, { name: 'Beta', hubspotPortalId: '222', hubspotToken: 'pat-2' }, admin))
      .id;
    await writeEvents();
    other = (await createWorkspace(deps, { name: 'Gamma', hubspotPortalId: '333', hubspotToken: 'pat-3' }, admin)).id;
    const keep = workspaceId;
    workspaceId = other;
    await writeEvents();
    workspaceId = keep;
  });

  it('by record and address: their values go, the chain verifies, the export shows "[redacted]"', async () => {
    const result = await erasePerson(
      deps,
      workspaceId,
      { objectType: 'contacts', recordId: '101', email: 'ann@acme.example' },
      admin,
    );
    expect(result.erased.auditPersonalData).toBe(2); // the change on 101 and the draft to her address on 303
    const events = await exported();
    expect(events[1]).not.toHaveProperty('personal');
    expect(events[1]!.after).toEqual({ email: '[redacted]', lifecyclestage: 'customer', firstname: '[redacted]' });
    expect(events[4]).not.toHaveProperty('personal');
    // Another person's values stay.
    expect(events[2]).toMatchObject({ personal: { after: { phone: '555-0199' } } });
    expect(events.at(-1)).toMatchObject({
      type: 'person.erased',
      recordId: '101',
      data: { byEmail: true, erased: { auditPersonalData: 2 } },
    });
    expect(JSON.stringify(events.at(-1))).not.toContain('ann@acme.example');
    expect(await verifyAudit(deps, workspaceId)).toEqual({ ok: true, events: 6 });
  });

  it('touches no other workspace', async () => {
    const { rows } = (await database.db.execute(
      sql`select count(*)::int as n from audit_personal_data where workspace_id = ${other}`,
    )) as unknown as { rows: { n: number }[] };
    expect(rows[0]!.n).toBe(4);
    expect(await verifyAudit(deps, other)).toEqual({ ok: true, events: 5 });
  });
});
