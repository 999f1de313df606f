import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProcess, urlFromLog, type NodeProcess } from '../e2e/support/processes.ts';
import { emptyDataFolder, migratedDataFolder } from '../support/data-folders.ts';

const run = promisify(execFile);

// Issue 18, point 10: `npm run sandbox` says which token it accepts, and that token connects a workspace.
let sandbox: NodeProcess;
const sandboxData = emptyDataFolder('ag-sandbox-start-');
const cliData = migratedDataFolder('ag-sandbox-start-cli-');

beforeAll(() => {
  sandbox = startNodeProcess('server/src/sandbox/main.ts', {
    DATA_DIR: sandboxData.dir,
    SANDBOX_PORT: '0',
    SANDBOX_WEBHOOK_URL: undefined,
    SANDBOX_WEBHOOK_SECRET: undefined,
  });
});
afterAll(async () => {
  await sandbox.stop();
  sandboxData.remove();
  cliData.remove();
});

describe('npm run sandbox', () => {
  it('prints the access token it accepts and the workspace add command that uses it, which passes the token check', async () => {
    const url = await urlFromLog(sandbox, 'sandbox listening');
    const logLine = JSON.parse(await sandbox.waitForLine((line) => line.includes('"sandbox listening"')));
    expect(logLine).toMatchObject({ accessToken: 'pat-na1-fake-token', portalId: expect.stringMatching(/^\d+$/) });
    const printed = await sandbox.waitForLine((line) => line.includes('workspace add'));
    expect(sandbox.stdout()).toContain(`it accepts the access token ${logLine.accessToken}`);

    const [, portalId, token] = /--hubspot-portal-id (\d+) --hubspot-token (\S+)/.exec(printed)!;
    const env: Record<string, string | undefined> = {
      ...process.env,
      DATA_DIR: cliData.dir,
      HUBSPOT_API_BASE_URL: url,
    };
    delete env.DATABASE_URL;
    const { stdout } = await run(
      process.execPath,
      [
        'server/src/cli/main.ts',
        'workspace',
        'add',
        '--name',
        'Sandbox',
        '--hubspot-portal-id',
        portalId!,
        '--hubspot-token',
        token!,
        '--json',
      ],
      { env },
    );
    expect(JSON.parse(stdout)).toMatchObject({ id: expect.any(String), adminToken: expect.stringMatching(/^adm_/) });
  });
});

describe('npm run sandbox with an option it does not take', () => {
  it('stops with one line naming it, rather than ignoring it', async () => {
    const failed = await run(
      process.execPath,
      ['server/src/sandbox/main.ts', '--crm', 'salesforce', '--port', '4000'],
      {
        env: { ...process.env, SANDBOX_PORT: '0', DATA_DIR: sandboxData.dir },
      },
    ).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1, stdout: '' });
    expect(failed.stderr.trim().split('\n')).toEqual([
      expect.stringContaining('Unknown option --port: the sandbox takes only --crm hubspot|salesforce'),
    ]);
  });
});
