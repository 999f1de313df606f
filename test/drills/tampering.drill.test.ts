import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointKeyFromSeed } from '../../server/src/domain/audit-checkpoint.ts';
import { createSecretBox } from '../../server/src/secrets.ts';
import {
  createAgent,
  setAgentStatus,
  publishDueCheckpoints,
  type CheckpointPublishing,
  verifyAudit,
  checkpointFile,
  parseCheckpointLines,
  setKillSwitch,
  createWorkspace,
} from '../../server/src/services/governance/index.ts';
import type { Actor, ServiceDeps } from '../../server/src/services/common/index.ts';
import { withAuditChain } from '../../server/src/services/common/index.ts';
import { openDatabase, type Database } from '../../server/src/store/database.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';
import { tamper } from '../support/tampering.ts';
import { type DataFolder, migratedDataFolder } from '../support/data-folders.ts';

/**
 * Drill (issue 17): a database owner rewrites history. On a real database with a few hundred events
 * per workspace and checkpoints published to a real checkpoint file, the owner switches the
 * append-only guard off and alters, deletes, reorders, truncates the tail, or recomputes the chain
 * after an edit. Each is caught and the first bad event or checkpoint named: the first three by
 * `audit verify`, the last two only by `audit verify --checkpoints`. The CLI runs as a real process.
 */

const CLI = path.resolve('server/src/cli/main.ts');
const run = promisify(execFile);
const admin: Actor = { type: 'admin', via: 'cli', name: 'drill' };
const EVENTS = 300;
const EVERY_EVENTS = 50;
const seed = randomBytes(32);
const key = checkpointKeyFromSeed(seed);
const secretsKey = randomBytes(32).toString('base64');

let data: DataFolder;
let database: Database & { url?: string | undefined };
let deps: ServiceDeps;
let checkpointPath: string;
const workspaces: Record<'alter' | 'delete' | 'reorder' | 'truncate' | 'recompute', string> = {
  alter: '',
  delete: '',
  reorder: '',
  truncate: '',
  recompute: '',
};

beforeAll(async () => {
  data = migratedDataFolder('ag-tampering-');
  checkpointPath = path.join(data.dir, 'audit-checkpoints.ndjson');
  // PGlite in a data folder the CLI can open once this process lets go of it; Postgres when CI gives one.
  database = process.env.TEST_DATABASE_URL
    ? await createTestDatabase()
    : await openDatabase({ dataDir: data.dir, holder: 'the tampering drill' });
  await database.migrate();
  deps = { ...testDeps(database.db), secrets: createSecretBox(Buffer.from(secretsKey, 'base64')) };
  const publishing: CheckpointPublishing = {
    key,
    everyEvents: EVERY_EVENTS,
    everyMs: 3_600_000,
    publish: checkpointFile(checkpointPath),
  };
  for (const [index, name] of Object.keys(workspaces).entries()) {
    workspaces[name as keyof typeof workspaces] = await workspaceWithHistory(
      `Drill ${name}`,
      String(9100 + index),
      publishing,
    );
  }
}, 60_000);
afterAll(async () => {
  await database.close().catch(() => {});
  data.remove();
});

/** A workspace's real history (agents, a kill switch) padded with change events to EVENTS, checkpointed as it grows. */
async function workspaceWithHistory(name: string, portalId: string, publishing: CheckpointPublishing): Promise<string> {
  const workspaceId = (
    await createWorkspace(deps, { name, hubspotPortalId: portalId, hubspotToken: 'pat-drill' }, admin)
  ).id;
  const agent = await createAgent(deps, workspaceId, { name: 'enricher', role: 'enrichment' }, admin);
  await setKillSwitch(deps, workspaceId, { scope: 'agent', target: agent.id, engaged: true, reason: 'drill' }, admin);
  await setKillSwitch(
    deps,
    workspaceId,
    { scope: 'agent', target: agent.id, engaged: false, reason: 'drill over' },
    admin,
  );
  await setAgentStatus(deps, workspaceId, agent.id, 'paused', admin);
  await publishDueCheckpoints(deps, publishing);
  // The history's own events (engaging an agent's switch also starts its quarantine), whatever they number.
  let stored = (await verifyAudit(deps, workspaceId)).events;
  while (stored < EVENTS) {
    const count = Math.min(EVERY_EVENTS, EVENTS - stored);
    await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
      for (let i = 0; i < count; i++) {
        const recordId = String(1000 + stored + i);
        audit.append({
          type: 'change.decided',
          actor: { type: 'agent', agentId: agent.id, name: 'enricher' },
          agentId: agent.id,
          batchId: 'drill-1',
          objectType: 'contacts',
          recordId,
          after: { phone: `+1 555 ${recordId}` },
          evidence: { source: 'drill', reason: 'scripted' },
          reasons: ['tier_auto'],
        });
      }
    });
    stored += count;
    await publishDueCheckpoints(deps, publishing);
  }
  return workspaceId;
}

const checkpointsOf = (workspaceId: string) =>
  parseCheckpointLines(fs.readFileSync(checkpointPath, 'utf8'), checkpointPath).filter(
    (line) => line.workspaceId === workspaceId,
  );
const verifyWithCheckpoints = (workspaceId: string) =>
  verifyAudit(deps, workspaceId, { checkpoints: checkpointsOf(workspaceId), trustedPublicKeys: [key.publicKey] });

async function cli(...args: string[]): Promise<{ code: number; json: any }> {
  const env = {
    ...process.env,
    DATA_DIR: data.dir,
    DATABASE_URL: database.url,
    SECRETS_KEY: secretsKey,
    AUDIT_CHECKPOINT_KEY: seed.toString('base64'),
    HUBSPOT_API_BASE_URL: 'http://127.0.0.1:9',
  };
  if (!database.url) delete env.DATABASE_URL;
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args, '--json'], { env, timeout: 30_000 });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, json: JSON.parse(failed.stdout) };
  }
}

describe('tampering drill: a database owner rewrites the audit log', () => {
  it('publishes checkpoints as the chains grow, and every untouched chain holds against them', async () => {
    for (const workspaceId of Object.values(workspaces)) {
      // The first at once, then one per 50 events; the newest events wait for the next 50 (or the next minute).
      const seqs = checkpointsOf(workspaceId).map((line) => line.seq);
      expect(seqs.slice(1).map((seq, index) => seq - seqs[index]!)).toEqual(Array(seqs.length - 1).fill(EVERY_EVENTS));
      expect(EVENTS - seqs.at(-1)!).toBeLessThan(EVERY_EVENTS);
      expect(await verifyWithCheckpoints(workspaceId)).toEqual({
        ok: true,
        events: EVENTS,
        checkpoints: { checked: seqs.length, latestSeq: seqs.at(-1) },
      });
    }
  });

  it('an altered event is named by verify', async () => {
    await tamper.alter(database.db, workspaces.alter, 120);
    expect(await verifyAudit(deps, workspaces.alter)).toMatchObject({
      ok: false,
      events: 119,
      firstBadEvent: { seq: 120, problem: 'altered' },
    });
  });

  it('a deleted event is named by verify', async () => {
    await tamper.delete(database.db, workspaces.delete, 130);
    expect(await verifyAudit(deps, workspaces.delete)).toMatchObject({
      ok: false,
      firstBadEvent: { seq: 130, problem: 'missing' },
    });
  });

  it('two events swapped are named by verify', async () => {
    await tamper.reorder(database.db, workspaces.reorder, 140);
    expect(await verifyAudit(deps, workspaces.reorder)).toMatchObject({
      ok: false,
      firstBadEvent: { seq: 140, problem: 'relinked' },
    });
  });

  it('a removed tail with the head moved back passes verify alone, and is named by the first checkpoint past the new head', async () => {
    await tamper.truncateTail(database.db, workspaces.truncate, 230);
    expect(await verifyAudit(deps, workspaces.truncate)).toEqual({ ok: true, events: 230 });
    const firstPast = checkpointsOf(workspaces.truncate).find((line) => line.seq > 230)!;
    expect(await verifyWithCheckpoints(workspaces.truncate)).toMatchObject({
      ok: false,
      checkpoints: { firstBadCheckpoint: { seq: firstPast.seq, problem: 'truncated' } },
    });
  });

  it('an edit with the chain recomputed after it passes verify alone, and is named by the first checkpoint it contradicts', async () => {
    await tamper.recompute(database.db, workspaces.recompute, 170);
    expect(await verifyAudit(deps, workspaces.recompute)).toEqual({ ok: true, events: EVENTS });
    const firstAfter = checkpointsOf(workspaces.recompute).find((line) => line.seq >= 170)!;
    expect(await verifyWithCheckpoints(workspaces.recompute)).toMatchObject({
      ok: false,
      checkpoints: { firstBadCheckpoint: { seq: firstAfter.seq, problem: 'contradicted' } },
    });
  });

  it('the CLI, as its own process, names the same first bad event and checkpoints', async () => {
    // PGlite is one process's database: let go of it so the CLI can open the data folder.
    if (!database.url) await database.close();
    const altered = await cli('audit', 'verify', '--workspace', workspaces.alter);
    expect(altered).toMatchObject({ code: 1, json: { ok: false, firstBadEvent: { seq: 120, problem: 'altered' } } });

    const recomputed = await cli(
      'audit',
      'verify',
      '--workspace',
      workspaces.recompute,
      '--checkpoints',
      checkpointPath,
    );
    expect(recomputed.code).toBe(1);
    expect(recomputed.json).toMatchObject({
      ok: false,
      events: EVENTS,
      checkpoints: { firstBadCheckpoint: { problem: 'contradicted' } },
    });
    expect(recomputed.json.firstBadEvent).toBeUndefined();

    const truncated = await cli(
      'audit',
      'verify',
      '--workspace',
      workspaces.truncate,
      '--checkpoints',
      checkpointPath,
      '--public-key',
      key.publicKey,
    );
    expect(truncated).toMatchObject({
      code: 1,
      json: {
        ok: false,
        events: 230,
        checkpoints: {
          firstBadCheckpoint: { problem: 'truncated', message: expect.stringMatching(/events after 230 were removed/) },
        },
      },
    });

    expect((await cli('audit', 'public-key')).json).toEqual({
      algorithm: 'Ed25519',
      keyId: key.keyId,
      publicKey: key.publicKey,
    });
  }, 60_000);
});
