import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = path.resolve('server/src/cli/main.ts');
const POLICY = path.resolve('examples/policy.json');

// On PGlite in a data folder, as the other CLI tests; the services are the ones the API tests run on both databases.
let env: Record<string, string>;
let dataDir: string;

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-cli-safety-'));
  env = { ...(process.env as Record<string, string>), DATA_DIR: dataDir, HUBSPOT_API_BASE_URL: 'http://127.0.0.1:9' };
  delete env.DATABASE_URL;
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; json: Record<string, any> }> {
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args, '--json'], { env });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, json: JSON.parse(failed.stdout) };
  }
}

describe('agent safety from the CLI', () => {
  // Six CLI processes, each opening PGlite from its folder: on a busy 2-core machine they take minutes.
  it('stores a regression set from a file, runs it (exit 1 while a case fails), and shows and accepts changes', {
    timeout: 600_000,
  }, async () => {
    const workspace = await cli(
      'workspace',
      'add',
      '--name',
      'Acme',
      '--hubspot-portal-id',
      '777',
      '--hubspot-token',
      'pat-na1-secret',
      '--no-verify',
    );
    const workspaceId = workspace.json.id as string;
    await cli('policy', 'apply', '--workspace', workspaceId, POLICY);
    const agent = await cli(
      'agents',
      'create',
      '--workspace',
      workspaceId,
      '--name',
      'enricher',
      '--role',
      'enrichment',
    );
    const agentId = agent.json.id as string;
    const file = path.join(dataDir, 'cases.json');
    const evidence = { source: 'apollo', reason: 'profile', confidence: 0.9 };
    fs.writeFileSync(
      file,
      JSON.stringify({
        cases: [
          {
            kind: 'change',
            name: 'phone needs a person',
            objectType: 'contacts',
            change: { recordId: '1', properties: { phone: '+1 555 0100' }, evidence },
            expected: { tier: 'approval', reasons: ['tier_approval'] },
          },
          {
            kind: 'change',
            name: 'industry goes through',
            objectType: 'contacts',
            change: { recordId: '1', properties: { industry: 'Software' }, evidence },
            expected: { tier: 'approval' },
          },
        ],
      }),
    );
    const stored = await cli(
      'agents',
      'regression-set',
      '--workspace',
      workspaceId,
      '--agent',
      agentId,
      '--file',
      file,
    );
    expect(stored.json.cases).toHaveLength(2);

    const ran = await cli('agents', 'regression-run', '--workspace', workspaceId, '--agent', agentId);
    expect(ran.code).toBe(1);
    expect(ran.json).toMatchObject({
      passed: false,
      cases: [
        { name: 'phone needs a person', passed: true },
        { name: 'industry goes through', passed: false, actual: [{ property: 'industry', tier: 'auto' }] },
      ],
    });

    const accepted = await cli(
      'agents',
      'accept-change',
      '--workspace',
      workspaceId,
      '--agent',
      agentId,
      '--gate',
      'volume',
      '--reason',
      'new territory',
    );
    expect(accepted.json).toMatchObject({ inSafeMode: false, regressionCases: 2, volume: { acceptedToday: true } });
  });
});
