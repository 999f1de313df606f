import { describe, expect, it } from 'vitest';
import { parsePolicy, type Policy } from '../../shared/policy.ts';
import { evaluateContent } from '../../server/src/domain/content-rules.ts';

function policyWith(content: unknown[]): Policy {
  const parsed = parsePolicy({ name: 'p', timezone: 'UTC', objects: {}, content });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.policy;
}

describe('content rules', () => {
  it('run a pattern that backtracking engines take exponential time on, over a long text, and answer', () => {
    // (a+)+$ against "aaaa…b" never finishes on a backtracking engine; RE2 is linear in the text.
    const policy = policyWith([{ name: 'catastrophic', kind: 'banned', patterns: ['(a+)+$'], raiseTo: 'deny' }]);
    const body = `${'a'.repeat(50_000)}b`;
    const result = evaluateContent({
      policy,
      agentRole: 'outreach',
      action: 'send_email',
      tier: 'auto',
      texts: { body },
    });
    expect(result).toMatchObject({ tier: 'auto', findings: [] });
  });

  it('matches phrases as whole words only, and only for the actions and roles a rule names', () => {
    const policy = policyWith([
      {
        name: 'legal',
        kind: 'banned',
        phrases: ['sue'],
        actions: ['send_email'],
        roles: ['outreach'],
        raiseTo: 'two_person',
      },
    ]);
    const evaluate = (
      body: string,
      role: 'outreach' | 'prospecting' = 'outreach',
      action: 'send_email' | 'create_note' = 'send_email',
    ) => evaluateContent({ policy, agentRole: role, action, tier: 'approval', texts: { body } });
    expect(evaluate('We will pursue this.').findings).toEqual([]);
    expect(evaluate('We will Sue you.')).toMatchObject({ tier: 'two_person', reasons: ['content_banned'] });
    expect(evaluate('We will sue you.', 'prospecting').findings).toEqual([]);
    expect(evaluate('We will sue you.', 'outreach', 'create_note').findings).toEqual([]);
  });
});
