import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serverEnv, startNodeProcess, urlFromLog } from './support/processes.ts';
import { emptyDataFolder, migratedDataFolder } from '../support/data-folders.ts';

// What an operator reads when the server cannot take its address, or a setting is wrong: one log line naming the setting.
describe('a server that cannot start', () => {
  const data = migratedDataFolder('ag-e2e-listen-');
  afterAll(() => data.remove());

  async function startFailing(env: Record<string, string>, args: string[] = []) {
    const server = startNodeProcess('server/src/main.ts', serverEnv(data.dir, { DEMO: 'off', ...env }), args);
    const code = await new Promise<number | null>((resolve) => server.child.once('exit', resolve));
    const lines = server.stderr().trim().split('\n');
    return { code, stdout: server.stdout(), lastLine: JSON.parse(lines.at(-1)!), stderr: server.stderr() };
  }

  // A server process loads and opens PGlite before it listens: over 30 s on a busy 2-core machine.
  it('stops with one line naming PORT when the port is in use, and frees the data folder', {
    timeout: 120_000,
  }, async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = holder.address() as net.AddressInfo;
      const failed = await startFailing({ PORT: String(port) });
      expect(failed.code).toBe(1);
      expect(failed.stdout).toBe('');
      expect(failed.stderr).not.toMatch(/\n\s+at /);
      expect(failed.lastLine).toMatchObject({
        level: 'error',
        message: 'could not start',
        error: { code: 'CONFIG_INVALID', message: expect.stringMatching(/port is in use.*set PORT/) },
      });
      expect(fs.existsSync(path.join(data.dir, 'agent-governance.lock'))).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  // Node's errors named a file and a code, never DATA_DIR; under /proc its recursive mkdir never returned.
  it('stops with one line naming DATA_DIR when the data folder cannot be made or written', {
    timeout: 120_000,
  }, async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ag-e2e-datadir-')), 'a-file');
    fs.writeFileSync(file, '');
    try {
      const cases: [string, RegExp][] = [
        [file, /it is a file, not a folder/],
        [path.join(file, 'data'), /part of its path is a file/],
      ];
      if (process.platform === 'linux') cases.push(['/proc/ag-no-data-here', /it cannot be made there/]);
      for (const [dataDir, why] of cases) {
        const failed = await startFailing({ DATA_DIR: dataDir });
        expect(failed.code, dataDir).toBe(1);
        expect(failed.stderr).not.toMatch(/\n\s+at /);
        expect(failed.stderr.trim().split('\n')).toHaveLength(1);
        expect(failed.lastLine).toMatchObject({
          message: 'could not start',
          error: { code: 'CONFIG_INVALID', message: expect.stringMatching(why) },
        });
        expect(failed.lastLine.error.message).toContain(`DATA_DIR ${dataDir} cannot be used`);
        expect(failed.lastLine.error.message).toMatch(/Set DATA_DIR to a folder this user can write\.$/);
      }
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  // It ran on, logging a failure every few seconds, without the checkpoints it was told to keep.
  it('stops with one line naming AUDIT_CHECKPOINT_FILE when the checkpoints cannot be written there', {
    timeout: 120_000,
  }, async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-e2e-checkpoints-'));
    try {
      const failed = await startFailing({ AUDIT_CHECKPOINT_FILE: folder });
      expect(failed.code).toBe(1);
      expect(failed.stderr).not.toMatch(/\n\s+at /);
      expect(failed.lastLine).toMatchObject({
        message: 'could not start',
        error: {
          code: 'CONFIG_INVALID',
          message: `AUDIT_CHECKPOINT_FILE ${folder} cannot be written: it is a folder, not a file. Set AUDIT_CHECKPOINT_FILE to a file this user can write.`,
        },
      });
      expect(fs.existsSync(path.join(data.dir, 'agent-governance.lock'))).toBe(false);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('stops with one line naming an option it does not take, rather than ignoring it', {
    timeout: 120_000,
  }, async () => {
    const failed = await startFailing({}, ['--no-demo-batches']);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.lastLine).toMatchObject({
      message: 'could not start',
      error: {
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(
          /^Unknown option --no-demo-batches: the server takes --salesforce and --no-demo-batch /,
        ),
      },
    });
  });

  it('stops with one line naming HOST when HOST is no address of this machine', { timeout: 120_000 }, async () => {
    const failed = await startFailing({ HOST: 'no-such-host.invalid' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(failed.lastLine).toMatchObject({
      error: { code: 'CONFIG_INVALID', message: expect.stringMatching(/HOST is no address of this machine/) },
    });
  });

  it('stops with one line naming OUTBOUND_ALLOWED_NETWORKS and the entry that is no network', {
    timeout: 120_000,
  }, async () => {
    const failed = await startFailing({ OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8,10.0.0.0/33' });
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.lastLine).toMatchObject({
      message: 'could not start',
      error: {
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/OUTBOUND_ALLOWED_NETWORKS must be .*"10\.0\.0\.0\/33" is not one/),
      },
    });
  });
});

// What a supervisor sees on SIGTERM: a client that stalls mid-request held the stop for REQUEST_TIMEOUT_MS.
describe('a server told to stop', () => {
  const data = migratedDataFolder('ag-e2e-stop-');
  afterAll(() => data.remove());

  it('exits 0 within its 10 s grace though a request is still arriving', { timeout: 120_000 }, async () => {
    const server = startNodeProcess('server/src/main.ts', serverEnv(data.dir, { DEMO: 'off' }));
    const url = new URL(await urlFromLog(server, 'listening', 90_000));
    const stalled = net.connect(Number(url.port), url.hostname);
    try {
      await new Promise<void>((resolve) => stalled.once('connect', resolve));
      stalled.write(
        'POST /v1/changesets HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{',
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const asked = Date.now();
      server.child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => server.child.once('exit', resolve));
      expect(code).toBe(0);
      expect(Date.now() - asked).toBeLessThan(20_000);
      expect(server.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      stalled.destroy();
      await server.stop();
    }
  });
});

// A new user's first `npm start` finds its port taken; the start that follows is the first they see.
describe('a demo whose first start could not listen', () => {
  const data = emptyDataFolder('ag-e2e-demo-port-');
  afterAll(() => data.remove());

  it('shows the tokens at the next start that gets going, and only then', { timeout: 240_000 }, async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = holder.address() as net.AddressInfo;
      const first = startNodeProcess('server/src/main.ts', serverEnv(data.dir, { PORT: String(port) }));
      expect(await new Promise((resolve) => first.child.once('exit', resolve))).toBe(1);
      expect(first.stdout()).toBe('');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    const second = startNodeProcess('server/src/main.ts', serverEnv(data.dir, { DEMO_BATCH: 'off' }));
    await second.waitForLine((line) => line.startsWith('Try next'), 120_000);
    await second.stop();
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    expect(second.stdout()).toContain('Tokens, shown this once:');
    expect(second.stdout()).toContain(`  admin:             ${adminToken}   (kept, 0600,`);
    expect(second.stdout()).toMatch(/ {2}outreach agent: {4}agt_\S+\n/);

    const third = startNodeProcess('server/src/main.ts', serverEnv(data.dir, { DEMO_BATCH: 'off' }));
    await third.waitForLine((line) => line.startsWith('Try next'), 120_000);
    await third.stop();
    expect(third.stdout()).not.toContain('Tokens, shown this once');
    expect(fs.readdirSync(path.join(data.dir, 'demo'))).not.toContain('tokens-not-shown.json');
  });
});
