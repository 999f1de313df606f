import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyDataFolder } from '../support/data-folders.ts';

// A supervisor (systemd, a container runtime, `kill` in a terminal) signals the process it started:
// npm, which passes SIGTERM on to the shell that runs the script. A script of `A && node …` or of
// `node …` alone left node a child of that shell, which died and left the server or sandbox running,
// orphaned, holding its port and data folder.
describe('the npm scripts that run a long-lived process', () => {
  const data = emptyDataFolder('ag-npm-signal-');
  afterAll(() => data.remove());

  it('run it as the script’s shell itself (exec), so the signal npm passes on reaches it', async () => {
    const { scripts } = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    for (const name of ['start', 'sandbox', 'cli'])
      expect(scripts[name]!.split('&&').at(-1)!.trim(), name).toMatch(/^exec (env [A-Z_]+=\S+ )*node /);
  });

  it('npm run sandbox stops the sandbox on SIGTERM to npm', { timeout: 60_000 }, async () => {
    const npm = spawn('npm', ['run', '--silent', 'sandbox'], {
      env: {
        ...process.env,
        PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
        DATA_DIR: data.dir,
        SANDBOX_PORT: '0',
        SANDBOX_WEBHOOK_URL: '',
        SANDBOX_WEBHOOK_SECRET: '',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise((resolve) => npm.once('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stderr = '';
        npm.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk.toString('utf8');
          const match = /"message":"sandbox listening","url":"([^"]+)"/.exec(stderr);
          if (match) resolve(match[1]!);
        });
        npm.once('exit', (code) => reject(new Error(`npm exited (${code}) first: ${stderr}`)));
      });
      npm.kill('SIGTERM');
      await exited;
      await expect
        .poll(
          () =>
            fetch(`${url}/_sandbox/records/contacts/1001`).then(
              () => 'answering',
              () => 'stopped',
            ),
          {
            timeout: 10_000,
            interval: 200,
          },
        )
        .toBe('stopped');
    } finally {
      npm.kill('SIGKILL');
    }
  });
});
