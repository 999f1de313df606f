import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propertyHistory } from '../../server/src/sandbox/hubspot/state.ts';
import { startSandbox, type RunningSandbox } from '../../server/src/sandbox/start-sandbox.ts';

const run = promisify(execFile);
const CLI = path.resolve('server/src/cli/main.ts');

let sandbox: RunningSandbox;
let dataDir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ dataDir: undefined, port: 0 });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-sandbox-cli-'));
  // The data folder is held, as a running server holds it: the command must not need it.
  fs.writeFileSync(
    path.join(dataDir, 'agent-governance.lock'),
    JSON.stringify({ pid: process.pid, holder: 'the test, playing the server' }),
  );
});
afterAll(async () => {
  await sandbox.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; json: Record<string, any> }> {
  const env = { ...process.env, DATA_DIR: dataDir };
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args, '--sandbox-url', sandbox.url, '--json'], { env });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, json: JSON.parse(failed.stdout) };
  }
}

describe('agent-governance sandbox edit', () => {
  it('changes a field as a person in HubSpot’s UI would, while the server holds the database', async () => {
    const result = await cli(
      'sandbox',
      'edit',
      '--object',
      'contacts',
      '--id',
      '1010',
      '--property',
      'jobtitle',
      '--value',
      'Head of Data',
      '--as-user',
      '321',
    );
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({
      objectType: 'contacts',
      recordId: '1010',
      property: 'jobtitle',
      value: 'Head of Data',
    });
    expect(propertyHistory(sandbox.state, 'contacts', '1010', 'jobtitle')[0]).toMatchObject({
      value: 'Head of Data',
      sourceType: 'CRM_UI',
      updatedByUserId: 321,
    });
  });

  it('fails with one JSON error naming an unknown property, a refused value or a missing record', async () => {
    expect(
      await cli(
        'sandbox',
        'edit',
        '--object',
        'contacts',
        '--id',
        '1010',
        '--property',
        'favourite_colour',
        '--value',
        'blue',
      ),
    ).toMatchObject({ code: 1, json: { error: { code: 'UNKNOWN_PROPERTY' } } });
    expect(
      await cli(
        'sandbox',
        'edit',
        '--object',
        'contacts',
        '--id',
        '1010',
        '--property',
        'lifecyclestage',
        '--value',
        'royalty',
      ),
    ).toMatchObject({ code: 1, json: { error: { code: 'INVALID_PROPERTY_VALUE' } } });
    expect(
      await cli('sandbox', 'edit', '--object', 'deals', '--id', '42', '--property', 'dealname', '--value', 'x'),
    ).toMatchObject({ code: 1, json: { error: { code: 'NOT_FOUND' } } });
  });
});
