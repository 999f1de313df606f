import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../shared/policy.ts';
import { withTier } from '../../shared/views/policy-matrix.ts';
import { withCondition } from '../../shared/views/policy-rules.ts';
import { policyDiff } from '../../shared/views/policy-diff.ts';
import { EXAMPLE_POLICY } from '../support/harness.ts';

const parsed = parsePolicy(EXAMPLE_POLICY);
if (!parsed.ok) throw new Error('the example policy no longer parses');
const base = parsed.policy;

describe('the console’s diff of two policy versions', () => {
  it('When two versions are the same, then nothing differs', () => {
    expect(policyDiff(base, structuredClone(base))).toEqual([]);
  });

  it('When a tier moves, a role is added and a condition removed, then each shows by its path with both values', () => {
    const moved = withTier(base, { objectType: 'contacts', property: 'phone', role: 'enrichment', tier: 'auto' });
    const added = withTier(moved, { objectType: 'deals', property: 'amount', role: 'enrichment', tier: 'approval' });
    const after = withCondition(added, base.conditions.length - 1, null);
    const rows = policyDiff(base, after);
    expect(rows).toContainEqual({
      path: 'objects.contacts.properties.phone.enrichment',
      left: '"approval"',
      right: '"auto"',
    });
    expect(rows).toContainEqual({
      path: 'objects.deals.properties.amount.enrichment',
      left: null,
      right: '"approval"',
    });
    const last = `conditions[${base.conditions.length - 1}]`;
    expect(rows.filter((row) => row.path.startsWith(last)).every((row) => row.right === null)).toBe(true);
    expect(rows.some((row) => row.path.startsWith(last))).toBe(true);
  });

  it('When a setting becomes an empty list, then the diff still shows it', () => {
    expect(policyDiff({ windows: [{ start: '09:00' }] }, { windows: [] })).toEqual([
      { path: 'windows', left: null, right: '[]' },
      { path: 'windows[0].start', left: '"09:00"', right: null },
    ]);
  });
});
