import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOver } from '../support/cli.ts';
import { startHarness, type Harness } from '../support/harness.ts';

const POLICY = path.resolve('examples/policy.json');

// In this process, over the suite's database: the command code `npx agent-governance` runs (cli.test.ts runs the binary).
let harness: Harness;
let dataDir: string;
beforeAll(async () => {
  harness = await startHarness();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-cli-safety-'));
});
afterAll(async () => {
  await harness.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const cli = async (...args: string[]) => {
  const { code, json } = await cliOver(harness, ...args, '--json');
  return { code, json };
};

describe('agent safety from the CLI', () => {
  it('stores a regression set from a file, runs it (exit 1 while a case fails), and shows and accepts changes', async () => {
    const workspace = await cli(
      'workspace',
      'add',
      '--name',
      'Acme',
      '--hubspot-portal-id',
      '777',
      '--hubspot-token',
      'pat-na1-secret',
      '--no-verify',
    );
    const workspaceId = workspace.json.id as string;
    await cli('policy', 'apply', '--workspace', workspaceId, POLICY);
    const agent = await cli(
      'agents',
      'create',
      '--workspace',
      workspaceId,
      '--name',
      'enricher',
      '--role',
      'enrichment',
    );
    const agentId = agent.json.id as string;
    const file = path.join(dataDir, 'cases.json');
    const evidence = { source: 'apollo', reason: 'profile', confidence: 0.9 };
    fs.writeFileSync(
      file,
      JSON.stringify({
        cases: [
          {
            kind: 'change',
            name: 'phone needs a person',
            objectType: 'contacts',
            change: { recordId: '1', properties: { phone: '+1 555 0100' }, evidence },
            expected: { tier: 'approval', reasons: ['tier_approval'] },
          },
          {
            kind: 'change',
            name: 'industry goes through',
            objectType: 'contacts',
            change: { recordId: '1', properties: { industry: 'Software' }, evidence },
            expected: { tier: 'approval' },
          },
        ],
      }),
    );
    const stored = await cli(
      'agents',
      'regression-set',
      '--workspace',
      workspaceId,
      '--agent',
      agentId,
      '--file',
      file,
    );
    expect(stored.json.cases).toHaveLength(2);

    const ran = await cli('agents', 'regression-run', '--workspace', workspaceId, '--agent', agentId);
    expect(ran.code).toBe(1);
    expect(ran.json).toMatchObject({
      passed: false,
      cases: [
        { name: 'phone needs a person', passed: true },
        { name: 'industry goes through', passed: false, actual: [{ property: 'industry', tier: 'auto' }] },
      ],
    });

    const accepted = await cli(
      'agents',
      'accept-change',
      '--workspace',
      workspaceId,
      '--agent',
      agentId,
      '--gate',
      'volume',
      '--reason',
      'new territory',
    );
    expect(accepted.json).toMatchObject({ inSafeMode: false, regressionCases: 2, volume: { acceptedToday: true } });
  });
});
