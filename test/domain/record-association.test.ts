import { describe, expect, it } from 'vitest';
import { parsePolicy, type Policy } from '../../shared/policy.ts';
import { evaluateAssociations } from '../../server/src/domain/record-association.ts';

function policyWith(contacts: object, caps: object = {}): Policy {
  const parsed = parsePolicy({ name: 'p', timezone: 'UTC', objects: { contacts }, caps });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.policy;
}

describe('deciding an association', () => {
  it.each([
    ['a role the policy does not name', { associate: { enrichment: 'auto' } }, {}, 0, ['deny', 'deny'], 0],
    ['no associate tier at all', {}, {}, 0, ['deny', 'deny'], 0],
    ['the role’s tier', { associate: { prospecting: 'approval' } }, {}, 0, ['approval', 'approval'], 2],
    ['the "*" tier for other roles', { associate: { '*': 'auto' } }, {}, 0, ['auto', 'auto'], 2],
    [
      'the daily cap, counting today’s',
      { associate: { prospecting: 'auto' } },
      { associationsPerAgentPerDay: 3 },
      2,
      ['auto', 'deny'],
      1,
    ],
  ])('follows %s', (_, tiers, caps, today, expected, added) => {
    const decided = evaluateAssociations({
      policy: policyWith({ properties: {}, ...tiers }, caps),
      agentRole: 'prospecting',
      objectType: 'contacts',
      count: 2,
      associationsToday: today,
    });
    expect(decided.evaluations.map((evaluation) => evaluation.tier)).toEqual(expected);
    expect(decided.added).toBe(added);
  });

  it('names the cap it reached, and the role’s missing tier as field_not_allowed', () => {
    const capped = evaluateAssociations({
      policy: policyWith({ properties: {}, associate: { prospecting: 'auto' } }, { associationsPerAgentPerDay: 1 }),
      agentRole: 'prospecting',
      objectType: 'contacts',
      count: 2,
      associationsToday: 0,
    });
    expect(capped.evaluations[1]!.reasons).toEqual(['tier_auto', 'cap_agent_daily_associations_reached']);
    const denied = evaluateAssociations({
      policy: policyWith({ properties: {} }),
      agentRole: 'prospecting',
      objectType: 'contacts',
      count: 1,
      associationsToday: 0,
    });
    expect(denied.evaluations[0]!.reasons).toEqual(['field_not_allowed']);
  });
});
