import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointKeyFromSeed } from '../../server/src/domain/audit-checkpoint.ts';
import { openDatabase, type Database } from '../../server/src/store/database.ts';
import { type DataFolder, migratedDataFolder } from '../support/data-folders.ts';

const run = promisify(execFile);
const CLI = path.resolve('server/src/cli/main.ts');
const POLICY = path.resolve('examples/policy.json');

// The CLI runs here on PGlite in a data folder, always: that is where the one-process lock matters.
// The services it calls are the same ones the API tests run on both databases.
let env: Record<string, string>;
let data: DataFolder;
let dataDir: string;

beforeAll(() => {
  data = migratedDataFolder('ag-cli-');
  dataDir = data.dir;
  env = { ...(process.env as Record<string, string>), DATA_DIR: dataDir, HUBSPOT_API_BASE_URL: 'http://127.0.0.1:9' };
  delete env.DATABASE_URL;
});
afterAll(() => data.remove());

async function cli(...args: string[]): Promise<{ code: number; json: Record<string, any>; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args], { env });
    return { code: 0, json: parseOne(stdout), stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, json: parseOne(failed.stdout), stdout: failed.stdout };
  }
}

/** --json promises exactly one JSON object on stdout. */
function parseOne(stdout: string): Record<string, any> {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!);
}

describe('agent-governance CLI with --json', () => {
  let workspaceId: string;
  let agentId: string;

  // Seven CLI processes, each opening PGlite from its folder and the first one creating it: on a busy
  // 2-core machine that outlasted the 30 s default and failed the tests after it too.
  it('creates a workspace, an agent, and publishes policy versions, each as one JSON object', {
    timeout: 90_000,
  }, async () => {
    const workspace = await cli(
      'workspace',
      'add',
      '--name',
      'Acme',
      '--hubspot-portal-id',
      '12345',
      '--hubspot-token',
      'pat-na1-secret',
      '--no-verify',
      '--json',
    );
    expect(workspace.code).toBe(0);
    expect(workspace.json).toEqual({ id: expect.any(String), adminToken: expect.stringMatching(/^adm_/) });
    workspaceId = workspace.json.id;

    const agent = await cli(
      'agents',
      'create',
      '--workspace',
      workspaceId,
      '--name',
      'enricher',
      '--role',
      'enrichment',
      '--json',
    );
    expect(agent.json).toMatchObject({
      id: expect.any(String),
      token: expect.stringMatching(/^agt_/),
      role: 'enrichment',
      status: 'active',
    });
    agentId = agent.json.id;

    expect((await cli('agents', 'pause', '--workspace', workspaceId, '--agent', agentId, '--json')).json).toMatchObject(
      { status: 'paused' },
    );
    const list = await cli('agents', 'list', '--workspace', workspaceId, '--json');
    expect(list.json.agents).toEqual([expect.objectContaining({ id: agentId, status: 'paused' })]);
    expect(JSON.stringify(list.json)).not.toContain('agt_');

    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const delegation = (
      await cli(
        'agents',
        'delegate',
        '--workspace',
        workspaceId,
        '--agent',
        agentId,
        '--crm-user',
        '4242',
        '--expires',
        expires,
        '--json',
      )
    ).json;
    expect((await cli('agents', 'delegations', '--workspace', workspaceId, '--json')).json).toEqual({
      delegations: [delegation],
    });
    const ended = await cli(
      'agents',
      'end-delegation',
      '--workspace',
      workspaceId,
      '--delegation',
      delegation.id,
      '--json',
    );
    expect(ended.json).toEqual({ ...delegation, revokedAt: expect.any(String) });
    expect((await cli('agents', 'delegations', '--workspace', workspaceId, '--json')).json).toEqual({
      delegations: [],
    });

    expect((await cli('policy', 'apply', '--workspace', workspaceId, POLICY, '--json')).json).toMatchObject({
      version: 1,
      bootstrapNeeded: true,
    });
    // The same file again publishes nothing (issue 18).
    expect((await cli('policy', 'apply', '--workspace', workspaceId, POLICY, '--json')).json).toMatchObject({
      version: 1,
      unchanged: true,
    });
    expect(
      (
        await cli(
          'kill',
          'engage',
          '--workspace',
          workspaceId,
          '--action',
          'field_write',
          '--reason',
          'drill',
          '--json',
        )
      ).json,
    ).toMatchObject({ scope: 'action', engaged: true });
  });

  it('never stores the HubSpot token or the agent token in clear', async () => {
    const database = await openDatabase({ dataDir, holder: 'test' });
    try {
      const rows = async (query: ReturnType<typeof sql>) =>
        JSON.stringify(((await database.db.execute(query)) as unknown as { rows: unknown[] }).rows);
      const dump = (await rows(sql`select * from workspaces`)) + (await rows(sql`select * from agents`));
      expect(dump).not.toContain('pat-na1-secret');
      expect(dump).not.toContain('agt_');
    } finally {
      await database.close();
    }
  });

  it('verifies the audit chain, and exports it to a file', async () => {
    expect((await cli('audit', 'verify', '--workspace', workspaceId, '--json')).json).toEqual({ ok: true, events: 7 });
    const out = path.join(dataDir, 'audit.csv');
    const exported = await cli(
      'audit',
      'export',
      '--workspace',
      workspaceId,
      '--format',
      'csv',
      '--out',
      out,
      '--json',
    );
    expect(exported.json).toEqual({ file: out, format: 'csv', events: 7 });
    expect(fs.readFileSync(out, 'utf8')).toContain('policy.published');
    expect(fs.readFileSync(out, 'utf8')).toContain('delegation.revoked');
  });

  it('runs a kill-trigger drill, which engages nothing and says what it would do', async () => {
    const drill = await cli(
      'kill-triggers',
      'drill',
      '--workspace',
      workspaceId,
      '--trigger',
      'bypass_writes',
      '--count',
      '3',
      '--json',
    );
    expect(drill.json).toMatchObject({ trigger: 'bypass_writes', observed: 3, wouldEngage: [], engaged: false });
    const incomplete = await cli(
      'kill-triggers',
      'drill',
      '--workspace',
      workspaceId,
      '--trigger',
      'rejection_rate',
      '--count',
      '3',
      '--json',
    );
    expect(incomplete.code).not.toBe(0);
    expect(incomplete.json.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('decided'),
    });
  });

  it('fails with a JSON error and a non-zero exit on bad input', async () => {
    const badRole = await cli(
      'agents',
      'create',
      '--workspace',
      workspaceId,
      '--name',
      'x',
      '--role',
      'wizard',
      '--json',
    );
    expect(badRole.code).not.toBe(0);
    expect(badRole.json.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('--role') });
    const unknown = await cli('audit', 'verify', '--workspace', 'not-a-workspace', '--json');
    expect(unknown.json.error.code).toBe('NOT_FOUND');
    const badFile = await cli(
      'policy',
      'apply',
      '--workspace',
      workspaceId,
      path.join(dataDir, 'missing.json'),
      '--json',
    );
    expect(badFile.json.error.code).toBe('VALIDATION_FAILED');
  });

  it('when a superuser alters an audit row, audit verify exits non-zero naming that event', async () => {
    const database: Database = await openDatabase({ dataDir, holder: 'test' });
    try {
      await database.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
      await database.db.execute(sql`update audit_events set after = '{"name":"forged"}' where seq = 4`);
      await database.db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    } finally {
      await database.close();
    }
    const verify = await cli('audit', 'verify', '--workspace', workspaceId, '--json');
    expect(verify.code).toBe(1);
    expect(verify.json).toMatchObject({ ok: false, firstBadEvent: { seq: 4, problem: 'altered' } });
  });

  it('while the server holds the PGlite data folder, the CLI says so plainly and touches nothing', async () => {
    const server = spawn(process.execPath, [path.resolve('server/src/main.ts')], {
      env: { ...env, PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await waitForListening(server);
      const locked = await cli('agents', 'list', '--workspace', workspaceId, '--json');
      expect(locked.code).toBe(1);
      expect(locked.json.error).toMatchObject({ code: 'DATABASE_LOCKED', message: expect.stringContaining('server') });
      // The checkpoint key needs no database: an operator records it while the server runs.
      const key = await cli('audit', 'public-key', '--json');
      const seed = Buffer.from(fs.readFileSync(path.join(dataDir, 'audit-checkpoint.key'), 'utf8').trim(), 'base64');
      const { keyId, publicKey } = checkpointKeyFromSeed(seed);
      expect(key.json).toEqual({ algorithm: 'Ed25519', keyId, publicKey });
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
    expect((await cli('agents', 'list', '--workspace', workspaceId, '--json')).code).toBe(0);
  });
});

function waitForListening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"listening"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}
