import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ACCESS_TOKEN } from '../../server/src/sandbox/hubspot/state.ts';
import { SANDBOX_PORTAL_ID } from '../../server/src/sandbox/start-sandbox.ts';
import { parseCheckpointLines } from '../../server/src/services/governance/index.ts';
import { auditEvents, changeSets } from '../../server/src/store/schema.ts';
import { createTestDatabase } from '../support/database.ts';
import { signV3 } from '../support/webhooks.ts';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from '../e2e/support/processes.ts';
import { apiWritesOnContacts, random, sleep, startSeededSandbox, until } from './support/drill-world.ts';
import { emptyDataFolder, migratedDataFolder } from '../support/data-folders.ts';

// Issue 17, two servers on one database: the servers are stateless and Postgres is the one
// engine, so two processes share the agents' requests, HubSpot's webhooks and every job (change-set
// recovery, approval writes, rollbacks, audit checkpoints). One is killed with SIGKILL mid-run; the
// other finishes its work. Every write reaches HubSpot once, every webhook event has one effect.
// PGlite is one process's database, so this drill runs on Postgres only.

const run = promisify(execFile);
const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
const CHANGE_SETS = 6;
const RECORDS_PER_CHANGE_SET = 300;
const APPROVALS = 100;
const STALE = 50;
const CLIENT_SECRET = 'two-servers-app-secret';
const evidence = { source: 'apollo', reason: 'two-servers drill', confidence: 0.95 };

interface Server {
  name: string;
  process: NodeProcess;
  url: string;
}

describe.skipIf(!process.env.TEST_DATABASE_URL)('two servers on one Postgres, one killed mid-run', () => {
  const sandboxData = emptyDataFolder('ag-drill-two-sandbox-');
  const dataA = migratedDataFolder('ag-drill-two-a-');
  const dataB = migratedDataFolder('ag-drill-two-b-');
  let postgres: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: NodeProcess;
  let sandboxUrl: string;
  let recordIds: string[];
  let tokens: { workspaceId: string; adminToken: string; agentToken: string };
  let a: Server;
  let b: Server;
  const checkpointFiles = [path.join(dataA.dir, 'checkpoints.ndjson'), path.join(dataB.dir, 'checkpoints.ndjson')];

  const shared = () => ({
    HUBSPOT_API_BASE_URL: sandboxUrl,
    DATABASE_URL: postgres.url,
    SECRETS_KEY: secretsKey,
    HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
    AUDIT_CHECKPOINT_KEY: checkpointKey,
    AUDIT_CHECKPOINT_EVERY_EVENTS: '200',
    AUDIT_CHECKPOINT_EVERY_SECONDS: '1',
    // Short leases, so the survivor takes the dead server's work over in about a second.
    CHANGE_SET_LEASE_MS: '1000',
    CHANGE_SET_RECOVERY_POLL_MS: '200',
    ROLLBACK_LEASE_MS: '1000',
    APPROVAL_APPLY_CLAIM_MS: '1000',
  });
  const secretsKey = randomBytes(32).toString('base64');
  const checkpointKey = randomBytes(32).toString('base64');
  const startServer = async (name: string, dataDir: string, checkpointFile: string): Promise<Server> => {
    const child = startNodeProcess(
      'server/src/main.ts',
      serverEnv(dataDir, { ...shared(), AUDIT_CHECKPOINT_FILE: checkpointFile }),
    );
    return { name, process: child, url: await urlFromLog(child, 'listening') };
  };
  const agent = (server: Server, method: string, url: string, body?: unknown, key?: string) =>
    fetch(`${server.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens.agentToken}`,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const admin = (server: Server, method: string, url: string, body?: unknown) =>
    http(method, `${server.url}${url}`, { token: tokens.adminToken, ...(body === undefined ? {} : { body }) });
  const updates = async () =>
    ((await http('GET', `${sandboxUrl}/_sandbox/calls`)).body.byRoute[UPDATE]?.['200'] ?? 0) as number;
  const eventsOf = async (type: string) =>
    postgres.db
      .select({ data: auditEvents.data, recordId: auditEvents.recordId })
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, tokens.workspaceId), eq(auditEvents.type, type)));
  const deliverWebhook = (server: Server, events: unknown[]) => {
    const url = `${server.url}/webhooks/hubspot`;
    const body = JSON.stringify(events);
    const timestamp = Date.now();
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': signV3({ clientSecret: CLIENT_SECRET, url, body, timestamp }),
        'x-hubspot-request-timestamp': String(timestamp),
      },
      body,
    });
  };

  beforeAll(async () => {
    ({
      sandbox,
      url: sandboxUrl,
      recordIds,
    } = await startSeededSandbox(sandboxData.dir, CHANGE_SETS * RECORDS_PER_CHANGE_SET));
    postgres = await createTestDatabase();
    const setup = await run(
      process.execPath,
      [path.resolve('test/e2e/support/setup-workspace.ts'), SANDBOX_PORTAL_ID, FAKE_ACCESS_TOKEN],
      { env: { ...process.env, ...serverEnv(dataA.dir, shared()) } as Record<string, string> },
    );
    tokens = JSON.parse(setup.stdout);
    [a, b] = await Promise.all([
      startServer('a', dataA.dir, checkpointFiles[0]!),
      startServer('b', dataB.dir, checkpointFiles[1]!),
    ]);
    expect((await admin(a, 'PUT', '/v1/admin/people/501', { role: 'approver' })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.process.stop(), b?.process.stop(), sandbox?.stop()]);
    await postgres?.close();
    for (const data of [sandboxData, dataA, dataB]) data.remove();
  });

  const changeSetBodies = Array.from({ length: CHANGE_SETS }, (_, n) => (ids: string[]) => ({
    batchId: `two-${n}`,
    objectType: 'contacts',
    changes: ids
      .slice(n * RECORDS_PER_CHANGE_SET, (n + 1) * RECORDS_PER_CHANGE_SET)
      .map((recordId, i) => ({ recordId, properties: { jobtitle: `t${n}-${i}` }, evidence })),
  }));
  let heldIds: string[] = [];
  let staleIds: string[] = [];
  let rollbackId: string;
  /** Change sets A left half written when it died; the kill's moment is random, so it may be none. */
  let leftMidWrite = 0;

  it('shares agents, people, webhooks and jobs between both servers, and the survivor finishes what the killed one held', async () => {
    // Held values on the first 150 drill contacts: 100 to approve, 50 that a person's edit makes stale.
    const held = (await (
      await agent(b, 'POST', '/v1/changesets', {
        batchId: 'two-held',
        objectType: 'contacts',
        changes: recordIds.slice(0, APPROVALS + STALE).map((recordId, i) => ({
          recordId,
          properties: { phone: `+1 555 02${String(i).padStart(3, '0')}` },
          evidence,
        })),
      })
    ).json()) as { summary: Record<string, number> };
    expect(held.summary).toMatchObject({ pending_approval: APPROVALS + STALE });
    const pending = (await admin(a, 'GET', `/v1/admin/approvals?status=pending&batch=two-held&limit=500`)).body
      .approvals as { id: string; recordId: string }[];
    const byRecord = new Map(pending.map((approval) => [approval.recordId, approval.id]));
    heldIds = recordIds.slice(0, APPROVALS).map((id) => byRecord.get(id)!);
    staleIds = recordIds.slice(APPROVALS, APPROVALS + STALE).map((id) => byRecord.get(id)!);

    const submissions = changeSetBodies.map((body, n) => ({
      body: body(recordIds),
      key: `two-key-${n}`,
      server: n % 2 === 0 ? a : b,
    }));
    // The first batch is written before the run, so a rollback of it runs in the middle of everything else.
    const [first, ...rest] = submissions;
    expect((await agent(first!.server, 'POST', '/v1/changesets', first!.body, first!.key)).status).toBe(201);

    await http('PUT', `${sandboxUrl}/_sandbox/faults`, { body: { latencyMs: 60 } });
    const started = await admin(a, 'POST', '/v1/admin/rollbacks', { selector: { batchId: 'two-0' } });
    expect(started.status).toBe(202);
    rollbackId = started.body.id;
    const answers = rest.map(({ body, key, server }) =>
      agent(server, 'POST', '/v1/changesets', body, key).then(
        (response) => response.status,
        () => 'connection lost',
      ),
    );
    // The same decision sent to both servers at once, and each webhook delivered to both (as HubSpot retries do).
    const decisions = [a, b].flatMap((server) =>
      [heldIds.slice(0, 50), heldIds.slice(50)].map((approvalIds) =>
        admin(server, 'POST', '/v1/admin/approvals/decisions', {
          kind: 'approve',
          actingUserId: '501',
          approvalIds,
        }).catch(() => undefined),
      ),
    );
    const events = recordIds.slice(APPROVALS, APPROVALS + STALE).map((recordId, i) => ({
      eventId: 870_000 + i,
      subscriptionId: 1,
      portalId: Number(SANDBOX_PORTAL_ID),
      appId: 1,
      occurredAt: Date.now() + 1_000,
      subscriptionType: 'contact.propertyChange',
      attemptNumber: 0,
      objectId: Number(recordId),
      propertyName: 'phone',
      propertyValue: '+1 555 0199',
      changeSource: 'CRM_UI',
      sourceId: 'userId:77',
    }));
    const webhooks = [a, b].flatMap((server) =>
      [events.slice(0, 25), events.slice(25)].map((batch) =>
        deliverWebhook(server, batch).then((response) => response.status),
      ),
    );
    // Killed once HubSpot has answered a few of the batch updates: A's change sets are mid-write.
    const target = (await updates()) + random(3, 8);
    await until(updates, (count) => count >= target, 30_000);
    await sleep(random(0, 60));
    a.process.child.kill('SIGKILL');
    await new Promise((resolve) => a.process.child.once('exit', resolve));
    leftMidWrite = (
      await postgres.db
        .select({ id: changeSets.id })
        .from(changeSets)
        .where(
          and(
            eq(changeSets.workspaceId, tokens.workspaceId),
            eq(changeSets.status, 'applying'),
            // B's own change sets are applying too, and B finishes them without recovery.
            like(changeSets.leaseHolder, `%:${a.process.child.pid}:%`),
          ),
        )
    ).length;

    expect(await Promise.all(webhooks)).toEqual(expect.arrayContaining([200]));
    await Promise.all(decisions);
    // A died with change sets of its own half written: their agents got no answer.
    expect(await Promise.all(answers)).toContain('connection lost');
    // Agents retry what A never answered against B, with the same key: the survivor's recovery finishes it.
    for (const { body, key } of submissions) {
      const view = await until(
        async () =>
          (await (await agent(b, 'POST', '/v1/changesets', body, key)).json()) as {
            status?: string;
            summary?: Record<string, number>;
          },
        (v) => v.status === 'completed',
      );
      expect(view.summary).toMatchObject({ applied: RECORDS_PER_CHANGE_SET, applying: 0, failed: 0 });
    }
    // Decisions A took but never wrote are written by B's approval jobs once A's claim lapses.
    await until(
      async () =>
        (await admin(b, 'GET', `/v1/admin/approvals?batch=two-held&limit=500`)).body.approvals as {
          id: string;
          status: string;
        }[],
      (list) => heldIds.every((id) => list.find((approval) => approval.id === id)?.status === 'applied'),
    );
    await until(
      async () =>
        (await admin(b, 'GET', `/v1/admin/approvals?batch=two-held&status=stale&limit=500`)).body.approvals as {
          id: string;
        }[],
      (list) => list.length === STALE,
    );
    // The rollback, claimed by whichever worker was free, finishes on B.
    const done = await until(
      async () => (await admin(b, 'GET', `/v1/admin/rollbacks/${rollbackId}`)).body,
      (view) => view.status === 'completed',
      60_000,
    );
    expect(done.counts).toMatchObject({ reverted: RECORDS_PER_CHANGE_SET, conflict: 0, failed: 0 });
  }, 180_000);

  it('made every write once, gave every webhook event one effect, and signed each checkpoint once; the chain verifies', async () => {
    // Every change set A left half written was finished by recovery (A may also have died between them).
    expect((await eventsOf('change_set.recovered')).length).toBeGreaterThanOrEqual(Math.min(leftMidWrite, 1));
    const stale = await eventsOf('approval.stale');
    expect(stale.filter((event) => staleIds.includes((event.data as { approvalId: string }).approvalId))).toHaveLength(
      STALE,
    );
    expect(new Set(stale.map((event) => (event.data as { approvalId: string }).approvalId)).size).toBe(stale.length);
    const applied = await eventsOf('approval.applied');
    expect(applied.filter((event) => heldIds.includes((event.data as { approvalId: string }).approvalId))).toHaveLength(
      APPROVALS,
    );

    const lines = checkpointFiles
      .filter((file) => fs.existsSync(file))
      .flatMap((file) => parseCheckpointLines(fs.readFileSync(file, 'utf8'), file));
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines.map((line) => `${line.workspaceId}:${line.seq}`)).size).toBe(lines.length);
    const verified = await admin(b, 'POST', '/v1/admin/audit/verify', { checkpoints: lines });
    expect(verified.body).toMatchObject({ ok: true, checkpoints: { checked: lines.length } });

    const apiValues = await apiWritesOnContacts(sandbox, sandboxData.dir);
    recordIds.forEach((id, index) => {
      const n = Math.floor(index / RECORDS_PER_CHANGE_SET);
      const i = index % RECORDS_PER_CHANGE_SET;
      // The rolled-back batch's value goes back to none: HubSpot keeps the empty write as a revision.
      expect(apiValues(id, 'jobtitle')).toEqual(n === 0 ? [`t${n}-${i}`, ''] : [`t${n}-${i}`]);
      if (index < APPROVALS) expect(apiValues(id, 'phone')).toHaveLength(1);
      else if (index < APPROVALS + STALE) expect(apiValues(id, 'phone')).toHaveLength(0);
    });
  }, 60_000);
});
