import {
  ACTION_KINDS,
  type ActionKind,
  type AgentRole,
  CRM_OBJECT_TYPES,
  crmOfObjectType,
  OBJECT_TYPES,
  type ObjectType,
} from '../../../shared/crm-names.ts';
import {
  TIERS,
  type Caps,
  type ObjectPolicy,
  type Policy,
  type PolicyCondition,
  type Tier,
  type TimeWindow,
} from '../../../shared/policy.ts';
import { baseEvaluation, capsFor } from './policy-evaluation.ts';
import { readAccess } from './read-masking.ts';
import { isInsideWindow } from './time-window.ts';

/** An object's named properties grouped by the role's base tier; properties named nowhere are denied. */
export type PropertiesByTier = Record<Tier, string[]>;

/** How a role may create records of one object type. */
export interface CreationForRole {
  /** The base tier of a creation; the properties it sets and the conditions can raise it. */
  tier: Tier;
  /** The tier a creation that looks like a duplicate of an existing record is raised to. */
  onDuplicate: NonNullable<ObjectPolicy['onDuplicate']>;
}

/**
 * What a governed read returns of an object's properties for a role: in full, masked, and the
 * properties the read rules name for other roles only; any property not listed is withheld too.
 */
export interface ReadsByAccess {
  full: string[];
  masked: string[];
  withheld: string[];
}

export interface WindowForRole extends TimeWindow {
  /** Whether `now` falls inside this window. */
  openNow: boolean;
}

/**
 * What the policy lets one role do, before any record is read: the base tier of every named
 * property and action, the conditions that can raise those tiers, the caps and the windows.
 * An agent asks for it (issue 22) so that it proposes what can pass instead of learning by refusal.
 */
export interface AgentPermissions {
  role: AgentRole;
  objects: Record<ObjectType, PropertiesByTier>;
  /** Per object type, creating a record of it (issue 21); a role the policy names for none is denied. */
  creates: Record<ObjectType, CreationForRole>;
  /** Per object type, the base tier of associating a record of it with another record (issue 21). */
  associates: Record<ObjectType, Tier>;
  /** Per object type, what a governed read (`POST /v1/records/read`) returns of its properties. */
  reads: Record<ObjectType, ReadsByAccess>;
  actions: Record<Exclude<ActionKind, 'field_write'>, Tier>;
  /** Conditions in scope for the role: each can raise a write's tier (to approval, two_person or deny). */
  conditions: PolicyCondition[];
  caps: Caps;
  windows: WindowForRole[];
  /** Action kinds some window governs for this role and no window is open for now: refused until one opens. */
  outsideWindowsNow: ActionKind[];
}

export function agentPermissions(input: { policy: Policy; role: AgentRole; now: Date }): AgentPermissions {
  const { policy, role, now } = input;
  // HubSpot's object types always (as before Salesforce), another CRM's when the policy names them.
  const objectTypes = [
    ...OBJECT_TYPES,
    ...CRM_OBJECT_TYPES.filter((type) => crmOfObjectType(type) !== 'hubspot' && policy.objects[type]),
  ];
  const perObject = <T>(describe: (objectType: ObjectType) => T) =>
    Object.fromEntries(objectTypes.map((objectType) => [objectType, describe(objectType)])) as Record<ObjectType, T>;
  const objects = perObject((objectType) => {
    const grouped: PropertiesByTier = { auto: [], approval: [], two_person: [], deny: [] };
    for (const [property, tiers] of Object.entries(policy.objects[objectType]?.properties ?? {}))
      grouped[baseEvaluation(tiers, role).tier].push(property);
    for (const tier of TIERS) grouped[tier].sort();
    return grouped;
  });
  const windows = policy.windows
    .filter((window) => !window.roles || window.roles.includes(role))
    .map((window) => ({ ...window, openNow: isInsideWindow({ window, now, policyTimeZone: policy.timezone }) }));
  return {
    role,
    objects,
    creates: perObject((objectType) => ({
      tier: baseEvaluation(policy.objects[objectType]?.create, role).tier,
      onDuplicate: policy.objects[objectType]?.onDuplicate ?? 'deny',
    })),
    associates: perObject((objectType) => baseEvaluation(policy.objects[objectType]?.associate, role).tier),
    reads: perObject((objectType) => readsFor(policy, objectType, role)),
    actions: {
      send_email: baseEvaluation(policy.actions.send_email, role).tier,
      create_task: baseEvaluation(policy.actions.create_task, role).tier,
      create_note: baseEvaluation(policy.actions.create_note, role).tier,
    },
    conditions: policy.conditions.filter((condition) => !condition.roles || condition.roles.includes(role)),
    caps: capsFor(policy, role),
    windows,
    outsideWindowsNow: ACTION_KINDS.filter((action) => {
      const governing = windows.filter((window) => window.actions.includes(action));
      return governing.length > 0 && !governing.some((window) => window.openNow);
    }),
  };
}

function readsFor(policy: Policy, objectType: ObjectType, role: AgentRole): ReadsByAccess {
  const access = readAccess(policy, objectType, role);
  const reads: ReadsByAccess = { full: [], masked: [], withheld: [] };
  for (const property of Object.keys(policy.objects[objectType]?.read ?? {}))
    reads[access.get(property) ?? 'withheld'].push(property);
  for (const list of Object.values(reads)) list.sort();
  return reads;
}
