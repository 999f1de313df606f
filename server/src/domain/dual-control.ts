/**
 * Dual control for governance itself (issue 5), pure: which changes to the policy or the kill
 * switches need a second admin's confirmation. The policy in force decides, so a publish cannot
 * switch dual control off on its own say-so.
 */
import type { Caps, DualControlSettings, Policy, RoleTiers, Tier } from '../../../shared/policy.ts';
import { AGENT_ROLES } from '../../../shared/crm-names.ts';

export type DualControlCode =
  | 'kill_switch_release'
  | 'tier_lowered'
  | 'cap_raised'
  | 'dual_control_weakened'
  | 'erasure';
export interface DualControlReason {
  code: DualControlCode;
  message: string;
}

/** How restrictive a tier is: lowering means moving to a smaller number. */
const STRICTNESS: Record<Tier, number> = { auto: 0, approval: 1, two_person: 2, deny: 3 };

export function killSwitchReleaseReasons(
  settings: DualControlSettings | undefined,
  change: { scope: string; engaged: boolean; wasEngaged: boolean },
): DualControlReason[] {
  if (!settings?.killSwitchRelease || change.engaged || !change.wasEngaged || change.scope !== 'workspace') return [];
  return [{ code: 'kill_switch_release', message: 'Releasing the workspace kill switch needs a second admin.' }];
}

export function erasureReasons(settings: DualControlSettings | undefined): DualControlReason[] {
  if (!settings?.erasure) return [];
  return [{ code: 'erasure', message: "Erasing a person's data needs a second admin." }];
}

export function policyChangeReasons(current: Policy | undefined, next: Policy): DualControlReason[] {
  const settings = current?.dualControl;
  if (!current || !settings) return [];
  const reasons: DualControlReason[] = [];
  if (weakens(settings, next.dualControl))
    reasons.push({
      code: 'dual_control_weakened',
      message: 'The new policy asks for less dual control than the one in force.',
    });
  if (settings.tierLowering) reasons.push(...loweredTiers(current, next));
  if (settings.capRaiseShare !== undefined) reasons.push(...raisedCaps(current, next, settings.capRaiseShare));
  return reasons;
}

function weakens(current: DualControlSettings, next: DualControlSettings | undefined): boolean {
  if (!next) return true;
  if (
    (current.killSwitchRelease && !next.killSwitchRelease) ||
    (current.tierLowering && !next.tierLowering) ||
    (current.erasure && !next.erasure)
  )
    return true;
  return (
    current.capRaiseShare !== undefined &&
    (next.capRaiseShare === undefined || next.capRaiseShare > current.capRaiseShare)
  );
}

function tierFor(tiers: RoleTiers | undefined, role: string): Tier {
  return tiers?.[role as keyof RoleTiers] ?? tiers?.['*'] ?? 'deny';
}

function loweredTiers(current: Policy, next: Policy): DualControlReason[] {
  const reasons: DualControlReason[] = [];
  const compare = (what: string, before: RoleTiers | undefined, after: RoleTiers | undefined) => {
    for (const role of AGENT_ROLES) {
      const from = tierFor(before, role);
      const to = tierFor(after, role);
      if (STRICTNESS[to] < STRICTNESS[from])
        reasons.push({ code: 'tier_lowered', message: `${what} for ${role} agents moves from ${from} to ${to}.` });
    }
  };
  const objectTypes = new Set([...Object.keys(current.objects), ...Object.keys(next.objects)]) as Set<
    keyof Policy['objects']
  >;
  for (const objectType of objectTypes) {
    const before = current.objects[objectType]?.properties ?? {};
    const after = next.objects[objectType]?.properties ?? {};
    for (const property of new Set([...Object.keys(before), ...Object.keys(after)]))
      compare(`${objectType}.${property}`, before[property], after[property]);
    compare(`Creating ${objectType}`, current.objects[objectType]?.create, next.objects[objectType]?.create);
    // A likely duplicate is refused unless the policy says to hold it: refused (deny) is the strictest.
    const [from, to] = [current, next].map((policy) => policy.objects[objectType]?.onDuplicate ?? 'deny') as [
      Tier,
      Tier,
    ];
    if (STRICTNESS[to] < STRICTNESS[from])
      reasons.push({
        code: 'tier_lowered',
        message: `A likely duplicate of existing ${objectType} moves from ${from} to ${to}.`,
      });
  }
  // Content rules, known by name: one removed, or raising drafts less high, lets through drafts it held.
  const nextRules = new Map((next.content ?? []).map((rule) => [rule.name, rule]));
  for (const rule of current.content ?? []) {
    const after = nextRules.get(rule.name);
    if (!after)
      reasons.push({
        code: 'tier_lowered',
        message: `The content rule "${rule.name}" is removed (it raised drafts to ${rule.raiseTo}).`,
      });
    else if (STRICTNESS[after.raiseTo] < STRICTNESS[rule.raiseTo])
      reasons.push({
        code: 'tier_lowered',
        message: `The content rule "${rule.name}" raises drafts to ${after.raiseTo}, not ${rule.raiseTo}.`,
      });
  }
  for (const action of ['send_email', 'create_task', 'create_note'] as const)
    compare(`The ${action} action`, current.actions[action], next.actions[action]);
  return reasons;
}

function raisedCaps(current: Policy, next: Policy, share: number): DualControlReason[] {
  const reasons: DualControlReason[] = [];
  const compare = (scope: string, before: Caps | undefined, after: Caps | undefined) => {
    for (const [cap, limit] of Object.entries(before ?? {}) as [keyof Caps, number | undefined][]) {
      if (limit === undefined) continue;
      const raised = after?.[cap];
      if (raised === undefined)
        reasons.push({ code: 'cap_raised', message: `${scope}${cap} is removed (it was ${limit}).` });
      else if (raised > limit * (1 + share))
        reasons.push({
          code: 'cap_raised',
          message: `${scope}${cap} rises from ${limit} to ${raised}, more than ${Math.round(share * 100)}%.`,
        });
    }
  };
  const { roleCaps: beforeRoles, ...before } = current.caps;
  const { roleCaps: afterRoles, ...after } = next.caps;
  compare('', before, after);
  for (const role of Object.keys(beforeRoles ?? {}) as (keyof NonNullable<typeof beforeRoles>)[])
    compare(`${role} `, beforeRoles?.[role], afterRoles?.[role]);
  return reasons;
}
