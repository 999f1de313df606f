import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ACCESS_TOKEN } from '../../server/src/sandbox/hubspot/state.ts';
import { SANDBOX_PORTAL_ID } from '../../server/src/sandbox/start-sandbox.ts';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from './support/processes.ts';
import { emptyDataFolder, migratedDataFolder } from '../support/data-folders.ts';

const run = promisify(execFile);
const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
const RECORDS = Array.from({ length: 300 }, (_, i) => String(1001 + i));

// The CLI as its own process on PGlite against the sandbox as another: the rollback is killed
// with SIGKILL mid-run and the same command, run again, finishes it.
describe('agent-governance rollback', () => {
  const sandboxData = emptyDataFolder('ag-e2e-rb-sandbox-');
  const data = migratedDataFolder('ag-e2e-rb-');
  let sandbox: NodeProcess;
  let sandboxUrl: string;
  let env: Record<string, string>;
  let workspaceId: string;
  let adminToken: string;
  let firstRollbackId: string;
  const original = new Map<string, string | undefined>();
  /** The records the batch wrote (the policy holds some for approval); one of them a person edits afterwards. */
  let applied: string[] = [];
  let edited: string;

  const cliArgs = (...extra: string[]) => [
    path.resolve('server/src/cli/main.ts'),
    'rollback',
    '--workspace',
    workspaceId,
    '--batch',
    'bad-titles',
    ...extra,
  ];
  async function cli(...extra: string[]) {
    const { stdout } = await run(process.execPath, cliArgs(...extra), { env });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1); // --json: exactly one object
    return JSON.parse(lines[0]!);
  }
  const record = async (id: string) =>
    (await http('GET', `${sandboxUrl}/_sandbox/records/contacts/${id}`)).body as {
      values: Record<string, string>;
      history: Record<string, { sourceType: string }[]>;
    };

  beforeAll(async () => {
    sandbox = startNodeProcess('server/src/sandbox/main.ts', {
      DATA_DIR: sandboxData.dir,
      SANDBOX_PORT: '0',
      SANDBOX_WEBHOOK_URL: undefined,
      SANDBOX_WEBHOOK_SECRET: undefined,
    });
    sandboxUrl = await urlFromLog(sandbox, 'sandbox listening');
    env = { ...process.env, ...serverEnv(data.dir, { HUBSPOT_API_BASE_URL: sandboxUrl }) } as Record<string, string>;
    const setup = await run(
      process.execPath,
      [path.resolve('test/e2e/support/setup-workspace.ts'), SANDBOX_PORTAL_ID, FAKE_ACCESS_TOKEN],
      { env },
    );
    const tokens = JSON.parse(setup.stdout) as { workspaceId: string; adminToken: string; agentToken: string };
    workspaceId = tokens.workspaceId;
    adminToken = tokens.adminToken;
    for (const id of RECORDS) original.set(id, (await record(id)).values.jobtitle);

    const server = startNodeProcess('server/src/main.ts', serverEnv(data.dir, { HUBSPOT_API_BASE_URL: sandboxUrl }));
    const serverUrl = await urlFromLog(server, 'listening');
    const submitted = await http('POST', `${serverUrl}/v1/changesets`, {
      token: tokens.agentToken,
      body: {
        batchId: 'bad-titles',
        objectType: 'contacts',
        changes: RECORDS.map((recordId, i) => ({
          recordId,
          properties: { jobtitle: `Wrong title ${i}` },
          evidence: { source: 'clearbit', confidence: 0.95, reason: 'Enrichment run 7' },
        })),
      },
    });
    applied = (submitted.body.results as { recordId: string; decision: string }[])
      .filter((r) => r.decision === 'applied')
      .map((r) => r.recordId);
    expect(applied.length).toBeGreaterThan(200);
    edited = applied[4]!;
    await server.stop(); // frees the PGlite folder for the CLI
    await http('POST', `${sandboxUrl}/_sandbox/edit`, {
      body: { objectType: 'contacts', recordId: edited, property: 'jobtitle', value: 'Founder' },
    });
  }, 120_000);
  afterAll(async () => {
    await sandbox?.stop();
    sandboxData.remove();
    data.remove();
  });

  it('dry-runs with --json as one object of counts, writing nothing', async () => {
    const plan = await cli('--dry-run', '--json');
    expect(plan).toMatchObject({
      rollbackId: null,
      counts: { revert: applied.length - 1, conflict: 1, alreadyReverted: 0, failed: 0 },
      report: { dryRun: true, total: applied.length },
    });
    expect((await record(applied[0]!)).values.jobtitle).toMatch(/^Wrong title/);
    const human = (await run(process.execPath, cliArgs('--dry-run'), { env })).stdout;
    expect(human).toContain(`go back to what they were: ${applied.length - 1}`);
    expect(human).toContain(`contacts ${edited} jobtitle: Changed since by person`); // named by HubSpot's property history
    expect(human).toContain('Nothing was written.');
  }, 60_000);

  it('killed with SIGKILL mid-run, finishes when run again: the same end state, no value written twice', async () => {
    await http('PUT', `${sandboxUrl}/_sandbox/faults`, { body: { latencyMs: 150 } });
    await http('DELETE', `${sandboxUrl}/_sandbox/calls`);
    const first = startNodeProcess('server/src/cli/main.ts', env, cliArgs('--json').slice(1));
    for (;;) {
      const calls = (await http('GET', `${sandboxUrl}/_sandbox/calls`)).body as {
        byRoute: Record<string, Record<string, number>>;
      };
      if ((calls.byRoute[UPDATE]?.['200'] ?? 0) >= 1) break;
      if (first.child.exitCode !== null)
        throw new Error(`the CLI ended before it was killed:\n${first.stdout()}\n${first.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(first.stdout()).toBe(''); // it died before it could report
    const writtenBeforeKill = (await Promise.all(applied.map(record))).filter(
      (r) => !r.values.jobtitle?.startsWith('Wrong') && r.values.jobtitle !== 'Founder',
    ).length;
    expect(writtenBeforeKill).toBeGreaterThan(0);
    expect(writtenBeforeKill).toBeLessThan(applied.length - 1);

    await http('PUT', `${sandboxUrl}/_sandbox/faults`, { body: { latencyMs: 0 } });
    const result = await cli('--json');
    expect(result).toMatchObject({
      rollbackId: expect.any(String),
      counts: { reverted: applied.length - 1, conflict: 1, alreadyReverted: 0, failed: 0 },
    });

    for (const id of applied) {
      const now = await record(id);
      const apiWrites = now.history.jobtitle!.filter((entry) => entry.sourceType === 'API').length;
      if (id === edited) {
        expect(now.values.jobtitle).toBe('Founder');
        expect(apiWrites).toBe(1);
      } else {
        expect(now.values.jobtitle ?? '').toBe(original.get(id) ?? '');
        expect(apiWrites).toBe(2); // the batch's write and the rollback's, never a second rollback write
      }
    }
    firstRollbackId = result.rollbackId;
    const csv = fs.readFileSync(result.report.csv, 'utf8').trim().split('\n');
    expect(csv).toHaveLength(applied.length + 1);
    expect(csv.find((line) => line.includes(`,${edited},`))).toContain('conflict');
  }, 120_000);

  it('runs in the server’s worker when started through the API: undoing the rollback puts the batch’s values back', async () => {
    const server = startNodeProcess('server/src/main.ts', serverEnv(data.dir, { HUBSPOT_API_BASE_URL: sandboxUrl }));
    try {
      const serverUrl = await urlFromLog(server, 'listening');
      const started = await http('POST', `${serverUrl}/v1/admin/rollbacks`, {
        token: adminToken,
        body: { selector: { batchId: firstRollbackId } },
      });
      expect(started.status).toBe(202);
      let view = started.body;
      while (view.status !== 'completed') {
        await new Promise((resolve) => setTimeout(resolve, 200));
        view = (await http('GET', `${serverUrl}/v1/admin/rollbacks/${started.body.id}`, { token: adminToken })).body;
      }
      expect(view.counts).toMatchObject({ reverted: applied.length - 1, conflict: 0, failed: 0 });
      expect((await record(applied[0]!)).values.jobtitle).toMatch(/^Wrong title/);
      expect((await record(edited)).values.jobtitle).toBe('Founder');
    } finally {
      await server.stop();
    }
  }, 120_000);
});
