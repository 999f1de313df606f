import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOver } from '../support/cli.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// In this process, over the suite's database: the command code `npx agent-governance` runs.
let harness: Harness;
let workspaceId: string;
beforeAll(async () => {
  harness = await startHarness();
  workspaceId = (await seedWorkspace(harness)).workspaceId;
});
afterAll(() => harness.close());

const rollback = async (...args: string[]) => {
  const { code, json } = await cliOver(harness, 'rollback', '--workspace', workspaceId, ...args, '--json');
  return { code, error: json.error as { code: string; message: string } };
};

describe('agent-governance rollback refusing a selector', () => {
  it('asks for a selector when none is given', async () => {
    expect(await rollback()).toEqual({
      code: 1,
      error: {
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(/^rollback selector: .*\. Give --batch, --agent, --change or --record\.$/),
      },
    });
  });

  it.each([
    {
      option: '--since',
      value: 'yesterday',
      hint: 'Give an ISO 8601 time with its zone, such as 2026-12-01T09:00:00Z.',
    },
    {
      option: '--until',
      value: '2026-12-01',
      hint: 'Give an ISO 8601 time with its zone, such as 2026-12-01T09:00:00Z.',
    },
    {
      option: '--change',
      value: 'CTO',
      hint: 'Give change ids as a change set’s results and rollback reports name them.',
    },
  ])('names what is wrong with $option beside a batch, not which selector to give', async ({ option, value, hint }) => {
    const { code, error } = await rollback('--batch', 'enrich-1', option, value);
    expect(code).toBe(1);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(new RegExp(`^rollback ${option}: `));
    expect(error.message.endsWith(hint)).toBe(true);
    expect(error.message).not.toContain('Give --batch');
  });

  it('refuses a batch id longer than any batch, naming the limit', async () => {
    const { code, error } = await rollback('--batch', 'x'.repeat(10_000));
    expect(code).toBe(1);
    expect(error.message).toBe('rollback --batch: must be at most 200 characters long.');
  });
});
