import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ACCESS_TOKEN } from '../../server/src/sandbox/hubspot/state.ts';
import { SANDBOX_PORTAL_ID } from '../../server/src/sandbox/start-sandbox.ts';
import { createTestDatabase } from '../support/database.ts';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from '../e2e/support/processes.ts';
import { apiWritesOnContacts, random, sleep, startSeededSandbox, until } from './support/drill-world.ts';
import { emptyDataFolder, migratedDataFolder } from '../support/data-folders.ts';

// Issue 17, crash drill: the server is killed with SIGKILL at a random point of a 1,000-record
// change set, of an approval run and of a rollback, three times each, and started again. The
// sandbox (its own process) keeps every revision, so each write is counted per record: none
// lost, none made twice; every change set and rollback ends final; the audit chain verifies.

const run = promisify(execFile);
const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
const RECORDS = 1_000;
const APPROVALS = 300;
const TIMES = 3;
const evidence = { source: 'apollo', reason: 'crash drill', confidence: 0.95 };

describe('kill -9 of the server mid-write, then a restart', () => {
  const sandboxData = emptyDataFolder('ag-drill-crash-sandbox-');
  const data = migratedDataFolder('ag-drill-crash-');
  let postgres: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let sandbox: NodeProcess;
  let sandboxUrl: string;
  let env: Record<string, string | undefined>;
  let server: NodeProcess;
  let serverUrl: string;
  let tokens: { workspaceId: string; adminToken: string; agentToken: string };
  let recordIds: string[];
  let kills = 0;

  const updates = async () =>
    ((await http('GET', `${sandboxUrl}/_sandbox/calls`)).body.byRoute[UPDATE]?.['200'] ?? 0) as number;
  const startServer = async () => {
    server = startNodeProcess('server/src/main.ts', env);
    serverUrl = await urlFromLog(server, 'listening');
  };
  const killAndRestart = async () => {
    await sleep(random(0, 40));
    server.child.kill('SIGKILL');
    await new Promise((resolve) => server.child.once('exit', resolve));
    kills += 1;
    await startServer();
  };
  /** Kills the server once HubSpot has answered `after` more batch updates (and a random moment more), then starts it again. */
  const killAfterUpdates = async (after: number) => {
    const target = (await updates()) + after;
    while ((await updates()) < target) {
      if (server.child.exitCode !== null)
        throw new Error(`the server exited before it was killed:\n${server.stderr()}`);
      await sleep(5);
    }
    await killAndRestart();
  };
  const agent = (method: string, url: string, body?: unknown, key?: string) =>
    fetch(`${serverUrl}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens.agentToken}`,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const admin = (method: string, url: string, body?: unknown) =>
    http(method, `${serverUrl}${url}`, { token: tokens.adminToken, ...(body === undefined ? {} : { body }) });

  beforeAll(async () => {
    ({ sandbox, url: sandboxUrl, recordIds } = await startSeededSandbox(sandboxData.dir, RECORDS));
    await http('PUT', `${sandboxUrl}/_sandbox/faults`, { body: { latencyMs: 40 } });

    if (process.env.TEST_DATABASE_URL) postgres = await createTestDatabase();
    // Short leases and polls so a restarted server takes over in about a second, not the production 15 to 30 s.
    env = serverEnv(data.dir, {
      HUBSPOT_API_BASE_URL: sandboxUrl,
      DATABASE_URL: postgres?.url,
      SECRETS_KEY: postgres ? randomBytes(32).toString('base64') : undefined,
      CHANGE_SET_LEASE_MS: '1000',
      CHANGE_SET_RECOVERY_POLL_MS: '200',
      ROLLBACK_LEASE_MS: '1000',
      APPROVAL_APPLY_CLAIM_MS: '1000',
    });
    const setup = await run(
      process.execPath,
      [path.resolve('test/e2e/support/setup-workspace.ts'), SANDBOX_PORTAL_ID, FAKE_ACCESS_TOKEN],
      { env: { ...process.env, ...env } as Record<string, string> },
    );
    tokens = JSON.parse(setup.stdout);
    await startServer();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await sandbox?.stop();
    await postgres?.close();
    sandboxData.remove();
    data.remove();
  });

  const changeSetIds: string[] = [];
  const rollbackIds: string[] = [];

  it('finishes a 1,000-record change set killed mid-write, three times, and a retry with its key returns it', async () => {
    for (let round = 0; round < TIMES; round++) {
      const body = {
        batchId: `drill-${round}`,
        objectType: 'contacts',
        changes: recordIds.map((recordId, i) => ({ recordId, properties: { jobtitle: `r${round}-${i}` }, evidence })),
      };
      const key = `drill-key-${round}`;
      agent('POST', '/v1/changesets', body, key).catch(() => undefined); // its answer dies with the server
      await killAfterUpdates(random(1, 8));
      const view = await until(
        async () =>
          (await (await agent('POST', '/v1/changesets', body, key)).json()) as {
            id?: string;
            status?: string;
            summary?: Record<string, number>;
          },
        (v) => v.status === 'completed',
      );
      expect(view.summary).toMatchObject({ applied: RECORDS, applying: 0, failed: 0 });
      changeSetIds.push(view.id!);
    }
  }, 120_000);

  it('applies every approval of a run killed mid-write, three times', async () => {
    expect((await admin('PUT', '/v1/admin/people/501', { role: 'approver' })).status).toBe(200);
    for (let round = 0; round < TIMES; round++) {
      const held = recordIds.slice(round * APPROVALS, (round + 1) * APPROVALS);
      const body = {
        batchId: `drill-approvals-${round}`,
        objectType: 'contacts',
        changes: held.map((recordId, i) => ({
          recordId,
          properties: { phone: `+1 555 01${round}${String(i).padStart(3, '0')}` },
          evidence,
        })),
      };
      const submitted = (await (await agent('POST', '/v1/changesets', body)).json()) as {
        id: string;
        summary: Record<string, number>;
      };
      expect(submitted.summary).toMatchObject({ pending_approval: APPROVALS });
      const pending = await admin(
        'GET',
        `/v1/admin/approvals?status=pending&batch=drill-approvals-${round}&limit=${APPROVALS}`,
      );
      const approvalIds = (pending.body.approvals as { id: string }[]).map((approval) => approval.id);
      expect(approvalIds).toHaveLength(APPROVALS);
      // HubSpot answers slowly here, so the writes that follow the decision take long enough to be cut.
      await http('PUT', `${sandboxUrl}/_sandbox/faults`, { body: { latencyMs: 300 } });
      const decision = { kind: 'approve', actingUserId: '501', approvalIds };
      admin('POST', '/v1/admin/approvals/decisions', decision).catch(() => undefined);
      // Killed once a write has reached HubSpot and before its answer (300 ms) is back: landed, not recorded.
      const watched = held[random(0, APPROVALS - 1)]!;
      await until(
        async () =>
          (await http('GET', `${sandboxUrl}/_sandbox/records/contacts/${watched}`)).body.values.phone as
            | string
            | undefined,
        (phone) => phone !== undefined,
        15_000,
      );
      await sleep(random(0, 150));
      await killAndRestart();
      await http('PUT', `${sandboxUrl}/_sandbox/faults`, { body: { latencyMs: 40 } });
      await until(
        async () =>
          (await admin('GET', `/v1/admin/approvals?batch=drill-approvals-${round}&limit=${APPROVALS}`)).body
            .approvals as { status: string }[],
        (approvals) => approvals.length === APPROVALS && approvals.every((approval) => approval.status === 'applied'),
      );
      changeSetIds.push(submitted.id);
    }
  }, 120_000);

  it('completes a rollback killed mid-run, three times', async () => {
    let selector = { batchId: `drill-${TIMES - 1}` };
    for (let round = 0; round < TIMES; round++) {
      const started = await admin('POST', '/v1/admin/rollbacks', { selector });
      expect(started.status).toBe(202);
      await killAfterUpdates(random(1, 8));
      const done = await until(
        async () => (await admin('GET', `/v1/admin/rollbacks/${started.body.id}`)).body,
        (view) => view.status === 'completed',
      );
      expect(done.counts).toMatchObject({ reverted: RECORDS, conflict: 0, failed: 0 });
      rollbackIds.push(started.body.id);
      selector = { batchId: started.body.id }; // the next round undoes this one
    }
  }, 120_000);

  it('lost no write and made none twice, left every change set final, and the audit chain verifies', async () => {
    expect(kills).toBe(3 * TIMES);
    for (const id of changeSetIds)
      expect(((await (await agent('GET', `/v1/changesets/${id}`)).json()) as { status: string }).status).toBe(
        'completed',
      );
    expect(await admin('GET', '/v1/admin/audit/verify')).toMatchObject({ status: 200, body: { ok: true } });

    const apiValues = await apiWritesOnContacts(sandbox, sandboxData.dir);
    recordIds.forEach((id, i) => {
      // Three change sets, then three rollbacks going back and forth: each value written exactly once.
      expect(apiValues(id, 'jobtitle')).toEqual([`r0-${i}`, `r1-${i}`, `r2-${i}`, `r1-${i}`, `r2-${i}`, `r1-${i}`]);
      const round = Math.floor(i / APPROVALS);
      if (round < TIMES) expect(apiValues(id, 'phone')).toHaveLength(1);
    });
  }, 60_000);
});
