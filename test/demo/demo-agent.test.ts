import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

// `npm run demo:agent` with no server running: it says so, and the batch it could not send is the
// one the next run sends (it was counted as sent, so the scripted batches skipped one).
describe('npm run demo:agent with no server', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-demo-agent-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('says no server answers, and keeps the batch it could not send for the next run', async () => {
    fs.mkdirSync(path.join(dataDir, 'demo'));
    fs.writeFileSync(path.join(dataDir, 'demo', 'enrichment-agent.token'), 'agt_unused', { mode: 0o600 });
    fs.writeFileSync(path.join(dataDir, 'demo', 'next-batch'), '3');
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const failed = await run(process.execPath, [path.resolve('server/src/demo/agent.ts')], {
      env: { ...process.env, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port) },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1, stdout: '' });
    expect(failed.stderr.trim().split('\n')).toEqual([
      `error: No server answers at http://127.0.0.1:${port}: start it with npm start.`,
    ]);
    expect(fs.readFileSync(path.join(dataDir, 'demo', 'next-batch'), 'utf8')).toBe('3');
  });
});
