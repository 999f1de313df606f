import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointKeyFromSeed, type AuditCheckpoint } from '../../server/src/domain/audit-checkpoint.ts';
import {
  publishDueCheckpoints,
  type CheckpointPublishing,
  verifyAudit,
  createWorkspace,
} from '../../server/src/services/governance/index.ts';
import type { Actor, ServiceDeps } from '../../server/src/services/common/index.ts';
import { withAuditChain } from '../../server/src/services/common/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';
import { tamper } from '../support/tampering.ts';

// Issue 17, defect 4: with the append-only guard off, removing the newest events (and moving the
// head back) or recomputing the chain after an edit passed `audit verify`. Signed checkpoints,
// kept outside the database, catch both.

const admin: Actor = { type: 'admin', via: 'cli', name: 'tester' };
const key = checkpointKeyFromSeed(randomBytes(32));
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: ServiceDeps;
let now = new Date('2026-11-23T09:00:00Z');
let portal = 7000;

beforeAll(async () => {
  database = await createTestDatabase();
  deps = testDeps(database.db, { clock: () => now });
});
afterAll(() => database.close());

/** A checkpoint "file" in memory, with the same publishing a server does. */
function publishing(every: {
  everyEvents: number;
  everyMs: number;
}): CheckpointPublishing & { lines: AuditCheckpoint[] } {
  const lines: AuditCheckpoint[] = [];
  return {
    key,
    ...every,
    lines,
    publish: async (checkpoint) => void lines.push(JSON.parse(JSON.stringify(checkpoint))),
  };
}

async function workspaceWithEvents(count: number): Promise<string> {
  const id = (
    await createWorkspace(deps, { name: 'Checkpointed', hubspotPortalId: String(portal++), hubspotToken: 'pat' }, admin)
  ).id;
  await appendEvents(id, count - 1);
  return id;
}

async function appendEvents(workspaceId: string, count: number): Promise<void> {
  await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
    for (let i = 0; i < count; i++)
      audit.append({
        type: 'change.decided',
        actor: { type: 'system' },
        recordId: String(i),
        after: { phone: `+1 555 ${i}` },
      });
  });
}

describe('publishing signed checkpoints', () => {
  it('signs a workspace’s head every N events, or after T once any event came, and not otherwise', async () => {
    const publisher = publishing({ everyEvents: 100, everyMs: 60_000 });
    const workspaceId = await workspaceWithEvents(30);
    expect(await publishDueCheckpoints(deps, publisher)).toBeGreaterThanOrEqual(1); // never checkpointed: the first comes at once
    const mine = () => publisher.lines.filter((line) => line.workspaceId === workspaceId);
    expect(mine().map((line) => line.seq)).toEqual([30]);

    await appendEvents(workspaceId, 99);
    await publishDueCheckpoints(deps, publisher);
    expect(mine().map((line) => line.seq)).toEqual([30]); // 99 new events, 0 s: not yet
    await appendEvents(workspaceId, 1);
    await publishDueCheckpoints(deps, publisher);
    expect(mine().map((line) => line.seq)).toEqual([30, 130]);

    await appendEvents(workspaceId, 5);
    now = new Date(now.getTime() + 59_000);
    await publishDueCheckpoints(deps, publisher);
    expect(mine()).toHaveLength(2);
    now = new Date(now.getTime() + 1_000);
    await publishDueCheckpoints(deps, publisher);
    expect(mine().map((line) => line.seq)).toEqual([30, 130, 135]);
    now = new Date(now.getTime() + 600_000);
    await publishDueCheckpoints(deps, publisher);
    expect(mine()).toHaveLength(3); // nothing new: nothing to sign
    expect(mine()[2]).toEqual({
      version: 1,
      workspaceId,
      seq: 135,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      time: expect.any(String),
      keyId: key.keyId,
      publicKey: key.publicKey,
      signature: expect.any(String),
    });
  });

  it('a database owner cannot stop checkpoints by writing in the database that one was just made', async () => {
    const publisher = publishing({ everyEvents: 100, everyMs: 60_000 });
    const workspaceId = await workspaceWithEvents(30);
    await publishDueCheckpoints(deps, publisher);
    const mine = () => publisher.lines.filter((line) => line.workspaceId === workspaceId).map((line) => line.seq);
    expect(mine()).toEqual([30]);
    // The last checkpoint moved far ahead, and a line claiming it logged (its signature cannot hold).
    await deps.db.execute(
      sql`update audit_checkpoints set seq = 1000000000, checkpointed_at = '2999-01-01' where workspace_id = ${workspaceId}`,
    );
    await deps.db.execute(
      sql`insert into audit_checkpoint_log (workspace_id, seq, checkpoint)
        select workspace_id, 1000000000, jsonb_set(checkpoint, '{seq}', '1000000000') from audit_checkpoint_log
        where workspace_id = ${workspaceId} and seq = 30`,
    );
    await appendEvents(workspaceId, 100);
    await publishDueCheckpoints(deps, publisher);
    expect(mine()).toEqual([30, 130]);
    await appendEvents(workspaceId, 1);
    await publishDueCheckpoints(deps, publisher);
    expect(mine()).toEqual([30, 130]); // one new event, 0 s: not yet, from the checkpoint it signed itself
  });

  it('when several servers publish at once, each checkpoint is signed by one of them', async () => {
    const workspaces = await Promise.all([workspaceWithEvents(20), workspaceWithEvents(20), workspaceWithEvents(20)]);
    const servers = [
      publishing({ everyEvents: 10, everyMs: 60_000 }),
      publishing({ everyEvents: 10, everyMs: 60_000 }),
      publishing({ everyEvents: 10, everyMs: 60_000 }),
    ];
    await Promise.all(servers.map((server) => publishDueCheckpoints(deps, server)));
    const lines = servers.flatMap((server) => server.lines).filter((line) => workspaces.includes(line.workspaceId));
    expect(lines.map((line) => line.workspaceId).sort()).toEqual([...workspaces].sort());
  });
});

describe('verifying the chain against checkpoints', () => {
  const trusted = [key.publicKey];

  async function checkpointed(
    count: number,
    everyEvents: number,
  ): Promise<{ workspaceId: string; checkpoints: AuditCheckpoint[] }> {
    const workspaceId = await workspaceWithEvents(1);
    const publisher = publishing({ everyEvents, everyMs: 3_600_000 });
    await publishDueCheckpoints(deps, publisher);
    for (let appended = 1; appended < count; appended += everyEvents) {
      await appendEvents(workspaceId, Math.min(everyEvents, count - appended));
      await publishDueCheckpoints(deps, publisher);
    }
    return { workspaceId, checkpoints: publisher.lines.filter((line) => line.workspaceId === workspaceId) };
  }

  it('passes an untouched chain and says where the newest checkpoint stands', async () => {
    const { workspaceId, checkpoints } = await checkpointed(45, 10);
    expect(checkpoints.map((line) => line.seq)).toEqual([1, 11, 21, 31, 41]);
    expect(await verifyAudit(deps, workspaceId, { checkpoints, trustedPublicKeys: trusted })).toEqual({
      ok: true,
      events: 45,
      checkpoints: { checked: 5, latestSeq: 41 },
    });
  });

  it('catches a removed tail with the head moved back, which the chain alone passes, naming the first checkpoint past the new head', async () => {
    const { workspaceId, checkpoints } = await checkpointed(45, 10);
    await tamper.truncateTail(database.db, workspaceId, 25);
    expect(await verifyAudit(deps, workspaceId)).toEqual({ ok: true, events: 25 });
    expect(await verifyAudit(deps, workspaceId, { checkpoints, trustedPublicKeys: trusted })).toMatchObject({
      ok: false,
      events: 25,
      checkpoints: {
        checked: 5,
        firstBadCheckpoint: {
          seq: 31,
          problem: 'truncated',
          message: expect.stringMatching(/events after 25 were removed/),
        },
      },
    });
  });

  it('catches an edit with the chain recomputed after it, which the chain alone passes, naming the first checkpoint it contradicts', async () => {
    const { workspaceId, checkpoints } = await checkpointed(45, 10);
    await tamper.recompute(database.db, workspaceId, 15);
    expect(await verifyAudit(deps, workspaceId)).toEqual({ ok: true, events: 45 });
    expect(await verifyAudit(deps, workspaceId, { checkpoints, trustedPublicKeys: trusted })).toMatchObject({
      ok: false,
      checkpoints: { firstBadCheckpoint: { seq: 21, problem: 'contradicted' } },
    });
  });

  it('refuses a checkpoint line that was altered, or signed with a key it was not told to trust', async () => {
    const { workspaceId, checkpoints } = await checkpointed(25, 10);
    const altered = checkpoints.map((line) => (line.seq === 11 ? { ...line, seq: 12 } : line));
    expect(await verifyAudit(deps, workspaceId, { checkpoints: altered, trustedPublicKeys: trusted })).toMatchObject({
      ok: false,
      checkpoints: { firstBadCheckpoint: { seq: 12, problem: 'bad_signature' } },
    });
    const other = checkpointKeyFromSeed(randomBytes(32));
    expect(await verifyAudit(deps, workspaceId, { checkpoints, trustedPublicKeys: [other.publicKey] })).toMatchObject({
      ok: false,
      checkpoints: { firstBadCheckpoint: { seq: 1, problem: 'untrusted_key' } },
    });
  });

  it('skips other workspaces’ lines in a shared checkpoint file', async () => {
    const first = await checkpointed(15, 10);
    const second = await checkpointed(15, 10);
    expect(
      await verifyAudit(deps, first.workspaceId, {
        checkpoints: [...first.checkpoints, ...second.checkpoints],
        trustedPublicKeys: trusted,
      }),
    ).toMatchObject({ ok: true, checkpoints: { checked: 2 } });
  });
});
