import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptCommand } from '../../bench/server-process.ts';

const run = promisify(execFile);
const CLI = path.resolve('server/src/cli/main.ts');

// Issue 18, point 11: the CLI teaches. None of these opens the database: the folder stays empty.
let dataDir: string;
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-cli-help-'));
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('agent-governance --help', () => {
  it('--version prints the version, as text or with --json as one object, and exits 0', async () => {
    const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
    expect(await cli('--version')).toMatchObject({ code: 0, stdout: `agent-governance ${version}\n` });
    const json = await cli('--version', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ version });
  });

  it('prints every command with a sentence each, and the npm `--` pitfall, and exits 0', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npx agent-governance COMMAND');
    expect(help.stdout).toMatch(/workspace add\s+Connects a HubSpot account/);
    expect(help.stdout).toMatch(/rollback\s+Reverts/);
    expect(help.stdout).toContain('npm run --silent cli -- COMMAND');
    // The project's issue numbers mean nothing to the person reading the help.
    expect(help.stdout).not.toMatch(/\(issue \d+\)/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('prints one command’s usage for `agents create --help`, and a group’s commands for `agents --help`', async () => {
    const command = await cli('agents', 'create', '--help');
    expect(command).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(
        'Usage: npx agent-governance agents create --workspace ID --name NAME --role ROLE',
      ),
    });
    const group = await cli('agents', '--help');
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/agents pause\s+Pauses/);
    expect(group.stdout).not.toContain('rollback');
  });

  it('when a command is mistyped, suggests the closest one and exits non-zero', async () => {
    const typo = await cli('workspce', 'add', '--name', 'Acme', '--json');
    expect(typo.code).toBe(1);
    expect(JSON.parse(typo.stdout).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('Did you mean "workspace add"?'),
      details: { suggestion: 'workspace add' },
    });
    expect((await cli('rolback', '--batch', 'b')).stderr).toContain('Did you mean "rollback"?');
    const nonsense = await cli('frobnicate');
    expect(nonsense.code).toBe(1);
    expect(nonsense.stderr).not.toContain('Did you mean');
  });

  it('when a group is named without a verb, lists its commands and exits non-zero', async () => {
    const group = await cli('workspace');
    expect(group.code).toBe(1);
    expect(group.stderr).toContain('Give a workspace command.');
    expect(group.stderr).toMatch(/workspace list\s+Lists every workspace/);
    expect(group.stderr).not.toContain('Did you mean');
  });

  it('when a flag is mistyped, suggests the closest flag of that command and exits non-zero', async () => {
    const typo = await cli('agents', 'list', '--worksapce', 'x');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('Unknown option --worksapce. Did you mean --workspace?');
    expect(typo.stderr).toContain('Usage: npx agent-governance agents list --workspace ID');
  });
});

describe('process start', () => {
  it('keeps the compiled code of what it loads in the compile cache (in the temporary folder unless NODE_COMPILE_CACHE says), so the next start compiles less', async () => {
    const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-compile-cache-'));
    try {
      const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, TMPDIR: temporary };
      delete env.NODE_COMPILE_CACHE;
      await run(process.execPath, [CLI, '--help'], { env });
      const cached = fs
        .readdirSync(path.join(temporary, 'node-compile-cache'), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile());
      expect(cached.length).toBeGreaterThan(0);
    } finally {
      fs.rmSync(temporary, { recursive: true, force: true });
    }
  });

  it('from the second start on, runs the CLI and the server without loading Node’s TypeScript stripper (12-17 MB of peak memory), however it is started', async () => {
    // Reports, as the process exits, whether Node loaded its TypeScript stripper (amaro).
    const reportStripper = `data:text/javascript,process.on('exit', () => process.stderr.write('stripper loaded: ' + process.moduleLoadList.some((m) => m.includes('amaro')) + '\\n'))`;
    // The npm scripts' own node command, as `npm run cli` and `npm start` run it.
    const asScript = (script: 'cli' | 'start') => scriptCommand(script, {}).args;
    const starts = {
      launcher: ['bin/agent-governance.js', '--help'],
      'npm run cli': [...asScript('cli'), '--help'],
      // The server's modules load, then it stops at once on a configuration it refuses.
      'npm start': asScript('start'),
    };
    for (const [how, args] of Object.entries(starts)) {
      const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-compile-cache-'));
      try {
        const env: Record<string, string | undefined> = {
          ...process.env,
          DATA_DIR: dataDir,
          TMPDIR: temporary,
          PORT: 'not-a-port',
        };
        delete env.NODE_COMPILE_CACHE;
        delete env.DATABASE_URL;
        const stripperLoaded = async () => {
          const ran = await run(process.execPath, ['--import', reportStripper, ...args], { env }).catch(
            (error: { stderr: string }) => error,
          );
          return /stripper loaded: (\w+)/.exec(ran.stderr)?.[1];
        };
        expect(await stripperLoaded(), `${how}, first start`).toBe('true');
        expect(await stripperLoaded(), `${how}, second start`).toBe('false');
      } finally {
        fs.rmSync(temporary, { recursive: true, force: true });
      }
    }
  });

  it('loads the Salesforce libraries (jsforce, the Pub/Sub client: ~17 MB of heap) only to call Salesforce, not for a command that reads our database', async () => {
    // Counts, as the process exits, the modules it loaded from either library.
    const countSalesforceLibraries = `data:text/javascript,import { registerHooks } from 'node:module'; let loaded = 0; registerHooks({ load(url, context, next) { if (/jsforce|pubsub-api-client/.test(url)) loaded++; return next(url, context); } }); process.on('exit', () => process.stderr.write('salesforce modules: ' + loaded + '\\n'));`;
    // This one opens a database: its own folder, not the one the help tests keep empty.
    const ownDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-cli-libraries-'));
    try {
      const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: ownDataDir };
      delete env.DATABASE_URL;
      const loadedBy = async (...args: string[]) => {
        const { stderr } = await run(process.execPath, ['--import', countSalesforceLibraries, ...args], { env });
        return Number(/salesforce modules: (\d+)/.exec(stderr)?.[1]);
      };
      // The hook sees them when they load ...
      expect(await loadedBy('--input-type=module', '-e', "await import('@jsforce/jsforce-node')")).toBeGreaterThan(0);
      // ... and a command that opens the database and every CRM's wiring loads none.
      expect(await loadedBy(CLI, 'workspace', 'list', '--json')).toBe(0);
    } finally {
      fs.rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  it('leaves Node to resolve each drizzle-orm name once per command, not once per module importing it (each time re-reading its 179 KB package.json)', async () => {
    // Registered before the CLI's own hook, so it sees only the resolutions that hook passes on to Node.
    const countDrizzleResolutions = `data:text/javascript,import { registerHooks } from 'node:module'; const names = {}; registerHooks({ resolve(specifier, context, next) { if (/^drizzle-orm(\\/|$)/.test(specifier) && !context.parentURL.includes('/node_modules/')) names[specifier] = (names[specifier] ?? 0) + 1; return next(specifier, context); } }); process.on('exit', () => process.stderr.write('drizzle resolutions: ' + JSON.stringify(names) + '\\n'));`;
    const ownDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-cli-resolutions-'));
    try {
      const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: ownDataDir };
      delete env.DATABASE_URL;
      const { stderr } = await run(process.execPath, ['--import', countDrizzleResolutions, CLI, 'workspace', 'list'], {
        env,
      });
      const resolutions = JSON.parse(/drizzle resolutions: (.*)/.exec(stderr)?.[1] ?? 'null') as Record<string, number>;
      // The store's modules import 'drizzle-orm' and 'drizzle-orm/pg-core' from dozens of files; the
      // hook itself looks up where 'drizzle-orm' lies once before it is registered.
      expect(Object.keys(resolutions)).toEqual(expect.arrayContaining(['drizzle-orm', 'drizzle-orm/pg-core']));
      for (const [name, times] of Object.entries(resolutions))
        expect(times, name).toBeLessThanOrEqual(name === 'drizzle-orm' ? 2 : 1);
    } finally {
      fs.rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  it('answers as usual when the temporary folder cannot hold the cache, even one under /proc where Node’s own folder making never returns', async () => {
    const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, TMPDIR: '/proc/ag-none' };
    delete env.NODE_COMPILE_CACHE;
    const { stdout } = await run(process.execPath, [CLI, '--help'], { env, timeout: 20_000 });
    expect(stdout).toContain('Usage: npx agent-governance COMMAND');
  });
});
