import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOver } from '../support/cli.ts';
import { startHarness, type Harness } from '../support/harness.ts';

// In this process, over the suite's database: the command code `npx agent-governance` runs (cli.test.ts runs the binary).
let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

const cli = async (...args: string[]) => {
  const { code, json } = await cliOver(harness, ...args);
  return { code, json };
};

describe('agent-governance people set', () => {
  it('gives a CRM user a role as one JSON object, and refuses a role that does not exist', async () => {
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
      '--json',
    );
    const id = String(workspace.json.id);
    const set = await cli('people', 'set', '--workspace', id, '--crm-user', '501', '--role', 'approver', '--json');
    expect(set).toEqual({
      code: 0,
      json: { crmUserId: '501', role: 'approver', crmOwnerId: null, updatedAt: expect.any(String) },
    });
    const rep = await cli(
      'people',
      'set',
      '--workspace',
      id,
      '--crm-user',
      '502',
      '--role',
      'rep',
      '--owner-id',
      '9002',
      '--json',
    );
    expect(rep.json).toMatchObject({ crmUserId: '502', role: 'rep', crmOwnerId: '9002' });
    const bad = await cli('people', 'set', '--workspace', id, '--crm-user', '501', '--role', 'superuser', '--json');
    expect(bad.code).not.toBe(0);
    expect(bad.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});
