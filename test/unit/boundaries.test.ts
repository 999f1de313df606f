import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const depcruise = path.join(repo, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

/** What `npm run lint:boundaries` runs, in `cwd`: its exit code and report. */
async function checkBoundaries(cwd: string): Promise<{ code: number; output: string }> {
  const args = [
    depcruise,
    'server/src',
    'shared',
    '--config',
    '.dependency-cruiser.mjs',
    '--ignore-known',
    '.dependency-cruiser-known-violations.json',
    '--output-type',
    'err',
  ];
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

// One import of each kind the layers forbid, planted in a copy of the tree.
const PLANTS: { file: string; text: string; rule: string }[] = [
  {
    file: 'server/src/domain/zz-planted.ts',
    text: "import type { Db } from '../store/database.ts';\nexport type Planted = Db;\n",
    rule: 'domain-is-pure',
  },
  {
    file: 'server/src/http/zz-planted.ts',
    text: "import { findWorkspace } from '../store/workspace-store.ts';\nexport const planted = findWorkspace;\n",
    rule: 'entry-points-through-services',
  },
  {
    file: 'server/src/services/held/zz-planted.ts',
    text: "import { submitAction } from '../actions/submit-action.ts';\nexport const planted = submitAction;\n",
    rule: 'feature-through-its-index',
  },
  {
    file: 'server/src/jobs/zz-planted.ts',
    text: "import { decideApproval } from '../services/held/decide-approval.ts';\nexport const planted = decideApproval;\n",
    rule: 'services-through-the-index-from-outside',
  },
  {
    file: 'server/src/services/governance/zz-planted.ts',
    text: "import { Router } from 'express';\nimport { sql } from 'drizzle-orm';\nexport const planted = [Router, sql];\n",
    rule: 'express-only-in-http',
  },
  {
    file: 'server/src/services/actions/zz-planted.ts',
    text: "import { createHubSpotCrm } from '../../crm/hubspot/adapter.ts';\nexport const planted = createHubSpotCrm;\n",
    rule: 'crm-adapters-behind-the-port',
  },
];
const CYCLE = [
  {
    file: 'server/src/domain/zz-cycle-a.ts',
    text: "import { b } from './zz-cycle-b.ts';\nexport const a = () => b;\n",
  },
  {
    file: 'server/src/domain/zz-cycle-b.ts',
    text: "import { a } from './zz-cycle-a.ts';\nexport const b = () => a;\n",
  },
];

describe('the layer boundaries (npm run lint:boundaries)', () => {
  let copy: string;

  beforeAll(async () => {
    copy = await fs.mkdtemp(path.join(os.tmpdir(), 'boundaries-'));
    for (const entry of [
      'server/src',
      'shared',
      '.dependency-cruiser.mjs',
      '.dependency-cruiser-known-violations.json',
      'tsconfig.json',
      'package.json',
    ]) {
      await fs.cp(path.join(repo, entry), path.join(copy, entry), { recursive: true });
    }
    await fs.symlink(path.join(repo, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  });

  afterAll(async () => {
    await fs.rm(copy, { recursive: true, force: true });
  });

  it('pass on the code as it is', async () => {
    const result = await checkBoundaries(repo);
    expect(result.output).not.toMatch(/error /);
    expect(result.code).toBe(0);
  });

  it('fail on a new import that crosses a layer, naming the rule and the file', async () => {
    for (const plant of [...PLANTS, ...CYCLE]) await fs.writeFile(path.join(copy, plant.file), plant.text);
    const result = await checkBoundaries(copy);
    expect(result.code).not.toBe(0);
    for (const plant of PLANTS) expect(result.output).toContain(`error ${plant.rule}: ${plant.file}`);
    expect(result.output).toContain(
      'error database-drivers-only-in-store: server/src/services/governance/zz-planted.ts',
    );
    expect(result.output).toMatch(/error no-circular: server\/src\/domain\/zz-cycle-[ab]\.ts/);
  });
});
