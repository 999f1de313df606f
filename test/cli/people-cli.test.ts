import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = path.resolve('server/src/cli/main.ts');

let env: Record<string, string>;
let dataDir: string;

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-cli-people-'));
  env = { ...(process.env as Record<string, string>), DATA_DIR: dataDir, HUBSPOT_API_BASE_URL: 'http://127.0.0.1:9' };
  delete env.DATABASE_URL;
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args], { env });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, json: JSON.parse(failed.stdout) };
  }
}

describe('agent-governance people set', () => {
  it('gives a CRM user a role as one JSON object, and refuses a role that does not exist', async () => {
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
      '--json',
    );
    const id = String(workspace.json.id);
    const set = await cli('people', 'set', '--workspace', id, '--crm-user', '501', '--role', 'approver', '--json');
    expect(set).toEqual({
      code: 0,
      json: { crmUserId: '501', role: 'approver', crmOwnerId: null, updatedAt: expect.any(String) },
    });
    const rep = await cli(
      'people',
      'set',
      '--workspace',
      id,
      '--crm-user',
      '502',
      '--role',
      'rep',
      '--owner-id',
      '9002',
      '--json',
    );
    expect(rep.json).toMatchObject({ crmUserId: '502', role: 'rep', crmOwnerId: '9002' });
    const bad = await cli('people', 'set', '--workspace', id, '--crm-user', '501', '--role', 'superuser', '--json');
    expect(bad.code).not.toBe(0);
    expect(bad.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});
