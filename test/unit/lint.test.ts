import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const biome = path.join(repo, 'node_modules/@biomejs/biome/bin/biome');

/** What `npm run lint` runs, in `cwd`, on `paths`: its exit code and report. */
async function lint(cwd: string, paths: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [biome, 'check', '--colors=off', ...paths], { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('the formatter and linter (npm run lint)', () => {
  let copy: string;

  beforeAll(async () => {
    copy = await fs.mkdtemp(path.join(os.tmpdir(), 'lint-'));
    for (const file of ['biome.json', '.gitignore', 'lint'])
      await fs.cp(path.join(repo, file), path.join(copy, file), { recursive: true });
    await fs.mkdir(path.join(copy, 'server/src'), { recursive: true });
    await fs.symlink(path.join(repo, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  });

  afterAll(async () => {
    await fs.rm(copy, { recursive: true, force: true });
  });

  it('passes on the code as it is', async () => {
    const result = await lint(repo, ['.']);
    expect(result.output).not.toMatch(/×/);
    expect(result.code).toBe(0);
  });

  it('fails on a line past 120 columns and on a lint error, naming the file and the rule', async () => {
    const long = `export const planted = [${Array.from({ length: 20 }, (_, i) => `'value-${i}'`).join(', ')}];\n`;
    await fs.writeFile(path.join(copy, 'server/too-long.ts'), long);
    await fs.writeFile(path.join(copy, 'server/assigns.ts'), 'let a = 0;\nexport const b = (a = 1);\n');
    const result = await lint(copy, ['server']);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/server\/too-long\.ts format/);
    expect(result.output).toContain('lint/suspicious/noAssignInExpressions');
  });

  it('fails on JSON.parse in the product, which must read JSON with parseJson', async () => {
    await fs.writeFile(
      path.join(copy, 'server/src/reads.ts'),
      'export const read = (text: string) => JSON.parse(text);\n',
    );
    const result = await lint(copy, ['server/src']);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/server\/src\/reads\.ts:1:\d+ plugin/);
    expect(result.output).toContain('nodejs/node#63785');
  });
});
