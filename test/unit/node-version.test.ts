import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Pretends to be an old Node before the entry point runs, as a machine's end-of-life Node would be.
const OLD_NODE = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.20.2"})';

function run(args: string[]) {
  return spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000 });
}

describe('the Node version check every entry point runs first', () => {
  it('refuses an old Node with one line that names the version needed, and no stack trace', () => {
    for (const entry of [['bin/agent-governance.js', '--help'], ['bin/require-node.js']]) {
      const result = run(['--import', OLD_NODE, ...entry]);
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/needs Node\.js 22\.18 or newer .*this is Node 20\.20\.2/),
      ]);
    }
  });

  it('refuses an old Node in one line from the compile-cache loader too, which Node 20 cannot run', () => {
    // Node 20 has no module.enableCompileCache: calling it was a TypeError and a stack trace.
    const nodeWithoutCompileCache =
      'data:text/javascript,import m from "node:module";delete m.enableCompileCache;' +
      'Object.defineProperty(process.versions,"node",{value:"20.20.2"})';
    const result = run(['--import', nodeWithoutCompileCache, 'bin/compile-cache.js']);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/needs Node\.js 22\.18 or newer .*this is Node 20\.20\.2/),
    ]);
  });

  it('lets the Node the project runs on through', () => {
    expect(run(['bin/require-node.js'])).toMatchObject({ status: 0, stderr: '' });
  });

  it('runs before every npm script that starts our code', async () => {
    const { scripts } = (await import('../../package.json', { with: { type: 'json' } })).default as {
      scripts: Record<string, string>;
    };
    for (const name of ['start', 'cli', 'sandbox', 'demo:agent', 'test', 'bench', 'hs:config'])
      expect(scripts[`pre${name}`]).toBe('node bin/require-node.js');
  });

  it('refuses a checkout whose dependencies were never installed with one line saying to run npm install', () => {
    // A fresh clone started before `npm install`: the entry points and package.json, no node_modules.
    const checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-no-modules-'));
    try {
      fs.cpSync('bin', path.join(checkout, 'bin'), { recursive: true });
      fs.copyFileSync('package.json', path.join(checkout, 'package.json'));
      for (const entry of [['bin/agent-governance.js', '--help'], ['bin/require-node.js']]) {
        const result = run([path.join(checkout, entry[0]!), ...entry.slice(1)]);
        expect(result.status).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr.trim().split('\n')).toEqual([
          expect.stringMatching(/dependencies are not installed\. Run `npm install` in .*ag-no-modules-/),
        ]);
      }
    } finally {
      fs.rmSync(checkout, { recursive: true, force: true });
    }
  });
});
