import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, verifyAudit } from '../../server/src/services/governance/index.ts';
import { withAuditChain, type Actor, type ServiceDeps } from '../../server/src/services/common/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';
import { asDatabaseOwner } from '../support/tampering.ts';

/**
 * Edits a database owner can make with SQL that the walk from event 1 to the head, as the database
 * splices each event, read as intact (issue 23).
 */
const admin: Actor = { type: 'admin', via: 'cli', name: 'tester' };
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: ServiceDeps;
let workspaces = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  deps = testDeps(database.db);
});
afterAll(() => database.close());

/** A workspace whose chain holds four events: its creation and three more. */
async function chainOfFour(): Promise<string> {
  workspaces += 1;
  const workspaceId = (
    await createWorkspace(
      deps,
      { name: `Acme ${workspaces}`, hubspotPortalId: `${500 + workspaces}`, hubspotToken: 'pat-x' },
      admin,
    )
  ).id;
  await withAuditChain(database.db, workspaceId, deps.clock, async (_tx, audit) => {
    for (const batchId of ['b1', 'b2', 'b3']) audit.append({ type: 'test.event', actor: { type: 'system' }, batchId });
  });
  expect(await verifyAudit(deps, workspaceId)).toEqual({ ok: true, events: 4 });
  return workspaceId;
}

const asOwner = (statement: SQL) =>
  asDatabaseOwner(database.db, async () => void (await database.db.execute(statement)));

describe('an event’s time edited by a database owner', () => {
  it('moved into the same date BC is named at its event', async () => {
    const workspaceId = await chainOfFour();
    await asOwner(
      sql`update audit_events set occurred_at = ((to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || ' BC')::timestamp at time zone 'UTC') where workspace_id = ${workspaceId} and seq = 2`,
    );
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 1,
      firstBadEvent: { seq: 2, problem: 'altered' },
    });
  });

  it('moved by less than a millisecond is named at its event', async () => {
    const workspaceId = await chainOfFour();
    await asOwner(
      sql`update audit_events set occurred_at = occurred_at + interval '400 microseconds' where workspace_id = ${workspaceId} and seq = 3`,
    );
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 2,
      firstBadEvent: { seq: 3, problem: 'altered' },
    });
  });
});

describe('a hash a database owner set to NULL', () => {
  it('is named at its event instead of failing verify with an internal error', async () => {
    const workspaceId = await chainOfFour();
    await asOwner(sql`alter table audit_events alter column prev_hash drop not null`);
    await asOwner(sql`update audit_events set prev_hash = null where workspace_id = ${workspaceId} and seq = 2`);
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 1,
      firstBadEvent: { seq: 2, problem: 'relinked' },
    });
    await asOwner(sql`alter table audit_events alter column hash drop not null`);
    await asOwner(sql`update audit_events set hash = null where workspace_id = ${workspaceId} and seq = 1`);
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 0,
      firstBadEvent: { seq: 1, problem: 'altered' },
    });
  });
});

describe('an event stored where the walk from event 1 to the head does not reach', () => {
  const copyOfEvent2At = (workspaceId: string, seq: number) =>
    asOwner(sql`insert into audit_events
      select workspace_id, ${seq}, occurred_at, type, actor, agent_id, batch_id, change_set_id, object_type, record_id,
        property, before, after, evidence, reasons, policy_version, data, prev_hash, hash
      from audit_events where workspace_id = ${workspaceId} and seq = 2`);

  it('inserted past the head (the console’s search shows it as the newest) is named', async () => {
    const workspaceId = await chainOfFour();
    await copyOfEvent2At(workspaceId, 100);
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 4,
      firstBadEvent: { seq: 100, problem: 'inserted' },
    });
  });

  it('inserted before event 1 is named', async () => {
    const workspaceId = await chainOfFour();
    await copyOfEvent2At(workspaceId, 0);
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 4,
      firstBadEvent: { seq: 0, problem: 'inserted' },
    });
  });

  it('left behind when the head is moved back over it is named', async () => {
    const workspaceId = await chainOfFour();
    await asOwner(
      sql`update audit_heads set seq = 3, hash = (select hash from audit_events where workspace_id = ${workspaceId} and seq = 3) where workspace_id = ${workspaceId}`,
    );
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 3,
      firstBadEvent: { seq: 4, problem: 'inserted' },
    });
  });
});

describe('an event renumbered by a database owner (moved to a free seq)', () => {
  const renumber = (workspaceId: string, from: number, to: number) =>
    asOwner(sql`update audit_events set seq = ${to} where workspace_id = ${workspaceId} and seq = ${from}`);
  const renumbered = (from: number, to: number) => ({
    seq: from,
    problem: 'renumbered',
    movedTo: to,
    message: `Event ${from} was renumbered: it is missing at seq ${from}, and the same event (its content and hash, linked to ${from === 1 ? 'the start of the chain' : `event ${from - 1}`}) is stored at seq ${to}.`,
  });

  it.each([
    { what: 'past the head', from: 2, to: 100 },
    { what: 'before event 1', from: 3, to: 0 },
    { what: 'the first event, past the head', from: 1, to: 7 },
    { what: 'the newest event, past the head', from: 4, to: 9 },
  ])('$what is named with both seqs, not as removed', async ({ from, to }) => {
    const workspaceId = await chainOfFour();
    await renumber(workspaceId, from, to);
    expect(await verifyAudit(deps, workspaceId)).toEqual({
      ok: false,
      events: from - 1,
      firstBadEvent: renumbered(from, to),
    });
  });

  it('altered as well as moved is not taken for the same event: it is named missing, as removed', async () => {
    const workspaceId = await chainOfFour();
    await asOwner(
      sql`update audit_events set seq = 100, batch_id = 'forged' where workspace_id = ${workspaceId} and seq = 2`,
    );
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 1,
      firstBadEvent: { seq: 2, problem: 'missing' },
    });
  });
});

describe('JSON respelled by a database owner into text that says more than its value', () => {
  async function withData(): Promise<string> {
    const workspaceId = await chainOfFour();
    await withAuditChain(database.db, workspaceId, deps.clock, async (_tx, audit) => {
      audit.append({ type: 'test.event', actor: { type: 'system' }, data: { amount: 12345678901234567000, a: 1 } });
    });
    return workspaceId;
  }

  it('a key given twice, the last as it was (a SIEM may read the first), is named at its event', async () => {
    const workspaceId = await withData();
    await asOwner(
      sql`update audit_events set data = replace(data::text, '"a":1', '"a":9,"a":1')::json where workspace_id = ${workspaceId} and seq = 5`,
    );
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 4,
      firstBadEvent: { seq: 5, problem: 'altered' },
    });
  });

  it('a number changed past what a double holds is named at its event', async () => {
    const workspaceId = await withData();
    await asOwner(
      sql`update audit_events set data = replace(data::text, '12345678901234567000', '12345678901234567001')::json where workspace_id = ${workspaceId} and seq = 5`,
    );
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 4,
      firstBadEvent: { seq: 5, problem: 'altered' },
    });
  });

  it('the same value in jsonb’s spelling (spaces, its key order, exponents written out) still verifies', async () => {
    const workspaceId = await withData();
    await withAuditChain(database.db, workspaceId, deps.clock, async (_tx, audit) => {
      audit.append({ type: 'test.event', actor: { type: 'system' }, data: { big: 1e21, small: 1.5e-7, neg: -0.25 } });
    });
    await asOwner(
      sql`update audit_events set data = (data::jsonb)::text::json, actor = (actor::jsonb)::text::json where workspace_id = ${workspaceId} and seq >= 5`,
    );
    expect(await verifyAudit(deps, workspaceId)).toEqual({ ok: true, events: 6 });
  });
});

describe('the chain head’s row deleted by a database owner', () => {
  it('is named after the newest stored event, not taken for a workspace that does not exist', async () => {
    const workspaceId = await chainOfFour();
    await asOwner(sql`delete from audit_heads where workspace_id = ${workspaceId}`);
    expect(await verifyAudit(deps, workspaceId)).toEqual({
      ok: false,
      events: 4,
      firstBadEvent: {
        seq: 5,
        problem: 'truncated',
        message:
          'The chain head is missing: its row was deleted, so events after 4, the newest stored, may have been removed unseen.',
      },
    });
  });

  it('still lets an event altered before it be named first', async () => {
    const workspaceId = await chainOfFour();
    await asOwner(sql`delete from audit_heads where workspace_id = ${workspaceId}`);
    await asOwner(sql`update audit_events set batch_id = 'forged' where workspace_id = ${workspaceId} and seq = 3`);
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 2,
      firstBadEvent: { seq: 3, problem: 'altered' },
    });
  });

  it('refuses what would be recorded, saying the head is missing', async () => {
    const workspaceId = await chainOfFour();
    await asOwner(sql`delete from audit_heads where workspace_id = ${workspaceId}`);
    await expect(
      withAuditChain(database.db, workspaceId, deps.clock, async (_tx, audit) => {
        audit.append({ type: 'test.event', actor: { type: 'system' } });
      }),
    ).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining(`The audit chain head of workspace ${workspaceId} is missing`),
    });
  });
});
