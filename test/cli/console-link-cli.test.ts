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
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-cli-console-'));
  env = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    HUBSPOT_API_BASE_URL: 'http://127.0.0.1:9',
    PORT: '3456',
  };
  delete env.DATABASE_URL;
  delete env.PUBLIC_URL;
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

describe('agent-governance console-link', () => {
  // Several CLI processes, each opening PGlite from its folder: on a busy 2-core machine that outlasts 30 s.
  it('prints a one-time sign-in link for the named person or the highest-ranked one, and refuses nobody or a stranger', {
    timeout: 120_000,
  }, async () => {
    const workspace = await cli(
      'workspace',
      'add',
      '--name',
      'Acme',
      '--hubspot-portal-id',
      '778',
      '--hubspot-token',
      'pat-na1-secret',
      '--no-verify',
      '--json',
    );
    const id = String(workspace.json.id);
    const nobody = await cli('console-link', '--workspace', id, '--json');
    expect(nobody.code).not.toBe(0);
    expect(nobody.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });

    await cli('people', 'set', '--workspace', id, '--crm-user', '502', '--role', 'rep', '--json');
    await cli('people', 'set', '--workspace', id, '--crm-user', '501', '--role', 'revops_admin', '--json');
    const strongest = await cli('console-link', '--workspace', id, '--json');
    expect(strongest).toEqual({
      code: 0,
      json: {
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:3456\/sign-in\?token=sil_[A-Za-z0-9_-]{43}$/),
        crmUserId: '501',
        role: 'revops_admin',
        expiresAt: expect.any(String),
      },
    });
    const named = await cli('console-link', '--workspace', id, '--person', '502', '--json');
    expect(named.json).toMatchObject({ crmUserId: '502', role: 'rep' });
    expect(named.json.url).not.toBe(strongest.json.url);

    const stranger = await cli('console-link', '--workspace', id, '--person', '999', '--json');
    expect(stranger.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    const notAnId = await cli('console-link', '--workspace', id, '--person', 'alice', '--json');
    expect(notAnId.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});
