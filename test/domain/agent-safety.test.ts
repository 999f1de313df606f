import { describe, expect, it } from 'vitest';
import {
  agentGates,
  holdForGates,
  loweredCaps,
  NO_SAFETY_STATE,
  promptHashOutcome,
  volumeJumped,
} from '../../server/src/domain/agent-safety.ts';
import { runCase } from '../../server/src/domain/regression-sets.ts';
import type { RegressionCase } from '../../shared/agent-safety-api.ts';
import { GOOD_EVIDENCE, policyOf, WEDNESDAY_MORNING_NY } from './policy-fixtures.ts';

const now = WEDNESDAY_MORNING_NY;
const policy = policyOf({
  objects: { contacts: { properties: { jobtitle: { enrichment: 'auto' }, phone: { enrichment: 'approval' } } } },
  caps: { writesPerAgentPerDay: 9, writesPerRecordPerDay: 1, roleCaps: { enrichment: { writesPerAgentPerDay: 5 } } },
  actions: { create_task: { enrichment: 'auto' } },
  content: [{ name: 'no pricing', kind: 'banned', phrases: ['discount'], raiseTo: 'deny' }],
});
const gates = (state = NO_SAFETY_STATE, declared: string[] = [], volume = { today: 0, trailing: [] as number[] }) =>
  agentGates({ policy, state, now, today: '2026-01-07', declaredPromptHashes: declared, volume });

describe('safe mode', () => {
  it('lowers every cap by the factor, rounded down and never below one, roles’ caps too', () => {
    expect(loweredCaps(policy, 0.5).caps).toEqual({
      writesPerAgentPerDay: 4,
      writesPerRecordPerDay: 1,
      roleCaps: { enrichment: { writesPerAgentPerDay: 2 } },
    });
  });

  it('holds while the deadline is ahead and stops holding at it, with no one ending it', () => {
    const state = { ...NO_SAFETY_STATE, safeModeUntil: new Date(now.getTime() + 1) };
    expect(gates(state)).toMatchObject({ holds: ['safe_mode'], policy: { caps: { writesPerAgentPerDay: 4 } } });
    expect(gates({ ...state, safeModeUntil: now })).toMatchObject({ holds: [], policy });
  });

  it('raises auto to approval naming why, and leaves stricter tiers and unchanged values as they are', () => {
    expect(holdForGates({ tier: 'auto', reasons: ['tier_auto'] }, ['safe_mode', 'volume_jump'])).toEqual({
      tier: 'approval',
      reasons: ['tier_auto', 'safe_mode', 'volume_jump'],
    });
    const denied = { tier: 'deny' as const, reasons: ['tier_deny' as const] };
    expect(holdForGates(denied, ['safe_mode'])).toBe(denied);
    const unchanged = { tier: 'auto' as const, reasons: ['tier_auto' as const, 'value_unchanged' as const] };
    expect(holdForGates(unchanged, ['safe_mode'])).toBe(unchanged);
  });
});

describe('gates on change', () => {
  it('takes the first prompt hash as accepted, and holds on a different one until it is accepted', () => {
    expect(promptHashOutcome(NO_SAFETY_STATE, ['p1'])).toEqual({ baseline: 'p1' });
    expect(gates(NO_SAFETY_STATE, ['p1']).holds).toEqual([]);
    expect(promptHashOutcome(NO_SAFETY_STATE, ['p1', 'p2'])).toEqual({ baseline: 'p1', changedTo: 'p2' });
    expect(gates(NO_SAFETY_STATE, ['p1', 'p2']).holds).toEqual(['prompt_changed']);
    const accepted = { ...NO_SAFETY_STATE, acceptedPromptHash: 'p1' };
    expect(gates(accepted, ['p1']).holds).toEqual([]);
    expect(promptHashOutcome(accepted, ['p2'])).toEqual({ changedTo: 'p2' });
    expect(gates(accepted, ['p2']).holds).toEqual(['prompt_changed']);
    expect(gates({ ...accepted, pendingPromptHash: 'p2' }, []).holds).toEqual(['prompt_changed']);
  });

  it('calls a jump only past both the floor and the trailing average by more than the share', () => {
    const jump = { share: 0.5, trailingDays: 3, minDaily: 10 };
    expect(volumeJumped(jump, 16, [10, 10, 10])).toBe(true);
    expect(volumeJumped(jump, 15, [10, 10, 10])).toBe(false);
    expect(volumeJumped(jump, 10, [0, 0, 0])).toBe(false);
    expect(volumeJumped(jump, 11, [0, 0, 0])).toBe(true);
  });
});

describe('regression cases', () => {
  const change = (properties: Record<string, string>, expected: RegressionCase['expected']): RegressionCase => ({
    kind: 'change',
    name: 'case',
    objectType: 'contacts',
    change: { recordId: '1', properties, evidence: GOOD_EVIDENCE },
    expected,
  });

  it('passes when every field gets the expected tier and reasons, ignoring today’s counters', () => {
    const result = runCase({
      policy,
      agentRole: 'enrichment',
      now,
      case: change({ jobtitle: 'CTO' }, { tier: 'auto', reasons: [] }),
    });
    expect(result).toMatchObject({ passed: true, actual: [{ property: 'jobtitle', tier: 'auto' }] });
    const mixed = runCase({
      policy,
      agentRole: 'enrichment',
      now,
      case: change({ jobtitle: 'CTO', phone: '1' }, { tier: 'approval', reasons: [] }),
    });
    expect(mixed.passed).toBe(false);
  });

  it('decides a draft with the policy’s content rules', () => {
    const draft: RegressionCase = {
      kind: 'draft',
      name: 'no discounts',
      draft: {
        kind: 'create_task',
        objectType: 'contacts',
        recordId: '1',
        evidence: GOOD_EVIDENCE,
        subject: 'Call back',
        body: 'Offer a discount',
      },
      expected: { tier: 'deny', reasons: ['content_banned'] },
    };
    expect(runCase({ policy, agentRole: 'enrichment', now, case: draft })).toMatchObject({
      passed: true,
      actual: [{ tier: 'deny', reasons: ['tier_auto', 'content_banned'] }],
    });
  });
});
