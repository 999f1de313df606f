import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_ROLES, OBJECT_TYPES } from '../../shared/crm-names.ts';
import { parsePolicy, type Policy, TIERS } from '../../shared/policy.ts';
import { agentPermissions } from '../../server/src/domain/agent-permissions.ts';
import { evaluateOne, policyOf, WEDNESDAY_MORNING_NY } from './policy-fixtures.ts';

const parsed = parsePolicy(JSON.parse(fs.readFileSync(new URL('../../examples/policy.json', import.meta.url), 'utf8')));
if (!parsed.ok) throw new Error(parsed.issues.join('\n'));
const example: Policy = parsed.policy;
/** The example's tiers alone: no condition raises them and no window closes, so a write's tier is its base tier. */
const tiersOnly: Policy = { ...example, conditions: [], windows: [] };
const SUNDAY_NOON_NY = new Date('2026-01-11T17:00:00Z');

describe('what an agent may change (what_may_i_change)', () => {
  it.each(AGENT_ROLES)('lists each named property under the tier a %s agent’s write of it is decided at', (role) => {
    const permissions = agentPermissions({ policy: example, role, now: WEDNESDAY_MORNING_NY });
    for (const objectType of OBJECT_TYPES)
      for (const tier of TIERS)
        for (const property of permissions.objects[objectType][tier])
          expect({
            objectType,
            property,
            tier: evaluateOne({ policy: tiersOnly, role, objectType, write: { property } }).tier,
          }).toEqual({ objectType, property, tier });
    const listed = OBJECT_TYPES.flatMap((objectType) => TIERS.flatMap((tier) => permissions.objects[objectType][tier]));
    const named = OBJECT_TYPES.flatMap((objectType) => Object.keys(example.objects[objectType]?.properties ?? {}));
    expect(listed.sort()).toEqual(named.sort());
  });

  it.each([
    { when: 'on a weekday morning in New York', now: WEDNESDAY_MORNING_NY, openNow: true, outside: [] },
    { when: 'on a Sunday', now: SUNDAY_NOON_NY, openNow: false, outside: ['send_email'] },
  ])('says whether the outreach window is open $when', ({ now, openNow, outside }) => {
    const permissions = agentPermissions({ policy: example, role: 'outreach', now });
    expect(permissions.windows).toEqual([expect.objectContaining({ actions: ['send_email'], openNow })]);
    expect(permissions.outsideWindowsNow).toEqual(outside);
  });

  it('gives a role its own caps over the workspace’s, and only the conditions in its scope', () => {
    const policy = policyOf({
      caps: {
        writesPerAgentPerDay: 100,
        writesPerRecordPerDay: 5,
        roleCaps: { routing: { writesPerAgentPerDay: 10 } },
      },
      conditions: [
        { kind: 'confidence_below', threshold: 0.5, raiseTo: 'approval', roles: ['routing'] },
        { kind: 'overwrites_non_empty', raiseTo: 'deny' },
      ],
    });
    const routing = agentPermissions({ policy, role: 'routing', now: WEDNESDAY_MORNING_NY });
    const enrichment = agentPermissions({ policy, role: 'enrichment', now: WEDNESDAY_MORNING_NY });
    expect(routing.caps).toEqual({ writesPerAgentPerDay: 10, writesPerRecordPerDay: 5 });
    expect(enrichment.caps).toEqual({ writesPerAgentPerDay: 100, writesPerRecordPerDay: 5 });
    expect(routing.conditions.map((c) => c.kind)).toEqual(['confidence_below', 'overwrites_non_empty']);
    expect(enrichment.conditions.map((c) => c.kind)).toEqual(['overwrites_non_empty']);
  });

  it('tells a role what it may create, associate and read, per object, by the policy’s rules for it', () => {
    const policy = policyOf({
      objects: {
        contacts: {
          properties: { jobtitle: { '*': 'auto' } },
          create: { prospecting: 'auto', '*': 'approval' },
          onDuplicate: 'approval',
          associate: { prospecting: 'two_person' },
          read: {
            email: { prospecting: 'masked', '*': 'full' },
            jobtitle: { '*': 'full' },
            phone: { enrichment: 'masked' },
          },
        },
        deals: { properties: {}, associate: { '*': 'auto' } },
      },
    });
    const prospecting = agentPermissions({ policy, role: 'prospecting', now: WEDNESDAY_MORNING_NY });
    const enrichment = agentPermissions({ policy, role: 'enrichment', now: WEDNESDAY_MORNING_NY });
    expect(prospecting.creates.contacts).toEqual({ tier: 'auto', onDuplicate: 'approval' });
    expect(enrichment.creates.contacts).toEqual({ tier: 'approval', onDuplicate: 'approval' });
    expect(prospecting.creates.deals).toEqual({ tier: 'deny', onDuplicate: 'deny' });
    expect(prospecting.associates).toEqual({ contacts: 'two_person', deals: 'auto' });
    expect(enrichment.associates).toEqual({ contacts: 'deny', deals: 'auto' });
    expect(prospecting.reads.contacts).toEqual({ full: ['jobtitle'], masked: ['email'], withheld: ['phone'] });
    expect(enrichment.reads.contacts).toEqual({ full: ['email', 'jobtitle'], masked: ['phone'], withheld: [] });
    expect(prospecting.reads.deals).toEqual({ full: [], masked: [], withheld: [] });
  });

  it('denies every draft kind a policy names for no role', () => {
    const permissions = agentPermissions({ policy: policyOf({}), role: 'outreach', now: WEDNESDAY_MORNING_NY });
    expect(permissions.actions).toEqual({ send_email: 'deny', create_task: 'deny', create_note: 'deny' });
  });
});
