import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOverWithEnv } from '../support/cli.ts';
import { startHarness, type Harness } from '../support/harness.ts';

// In this process, over the suite's database: the command code `npx agent-governance` runs (cli.test.ts runs the binary).
let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

const cli = async (...args: string[]) => {
  const { code, json } = await cliOverWithEnv(harness, { PORT: '3456' }, ...args);
  return { code, json };
};

describe('agent-governance console-link', () => {
  it('prints a one-time sign-in link for the named person or the highest-ranked one, and refuses nobody or a stranger', async () => {
    const workspace = await cli(
      'workspace',
      'add',
      '--name',
      'Acme',
      '--hubspot-portal-id',
      '778',
      '--hubspot-token',
      'pat-na1-secret',
      '--no-verify',
      '--json',
    );
    const id = String(workspace.json.id);
    const nobody = await cli('console-link', '--workspace', id, '--json');
    expect(nobody.code).not.toBe(0);
    expect(nobody.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });

    await cli('people', 'set', '--workspace', id, '--crm-user', '502', '--role', 'rep', '--json');
    await cli('people', 'set', '--workspace', id, '--crm-user', '501', '--role', 'revops_admin', '--json');
    const strongest = await cli('console-link', '--workspace', id, '--json');
    expect(strongest).toEqual({
      code: 0,
      json: {
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:3456\/sign-in\?token=sil_[A-Za-z0-9_-]{43}$/),
        crmUserId: '501',
        role: 'revops_admin',
        expiresAt: expect.any(String),
      },
    });
    const named = await cli('console-link', '--workspace', id, '--person', '502', '--json');
    expect(named.json).toMatchObject({ crmUserId: '502', role: 'rep' });
    expect(named.json.url).not.toBe(strongest.json.url);

    const stranger = await cli('console-link', '--workspace', id, '--person', '999', '--json');
    expect(stranger.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    const notAnId = await cli('console-link', '--workspace', id, '--person', 'alice', '--json');
    expect(notAnId.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});
