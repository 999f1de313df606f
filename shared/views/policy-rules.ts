import type { ActionKind, AgentRole, ObjectType } from '../crm-names.ts';
import type { SegmentCondition } from '../kill-switch.ts';
import type { Caps, ContentRule, ObjectPolicy, Policy, PolicyCondition, TimeWindow, Tier } from '../policy.ts';
import { MATRIX_OBJECT_TYPES, MATRIX_ROLES, changedCells } from './policy-matrix.ts';

/**
 * The settings page's caps, time windows and conditions (issue 8): each edit makes a new policy
 * document and leaves the rest as it was. Values are passed on as typed; the server validates
 * with the policy's own schema and its sentences are shown as they come.
 */

export const CAP_NAMES = [
  'writesPerAgentPerDay',
  'writesPerRecordPerDay',
  'sendsPerRecipientDomainPerDay',
  'sendsPerContactPerDay',
  'createsPerAgentPerDay',
  'associationsPerAgentPerDay',
  'sendsPerAccountPerDay',
  'sendsPerAccountPerWeek',
] as const satisfies readonly (keyof Caps)[];
export type CapName = (typeof CAP_NAMES)[number];
export const CAP_LABELS: Record<CapName, string> = {
  writesPerAgentPerDay: 'Writes per agent per day',
  writesPerRecordPerDay: 'Writes per record per day',
  sendsPerRecipientDomainPerDay: 'Emails per recipient domain per day',
  sendsPerContactPerDay: 'Emails per contact per day (all agents)',
  createsPerAgentPerDay: 'Records created per agent per day',
  associationsPerAgentPerDay: 'Associations per agent per day',
  sendsPerAccountPerDay: 'Emails per account per day (all agents)',
  sendsPerAccountPerWeek: 'Emails per account per week (all agents)',
};
export const WINDOW_ACTIONS = [
  'field_write',
  'send_email',
  'create_task',
  'create_note',
] as const satisfies readonly ActionKind[];
export const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export const CONDITION_KIND_NAMES = [
  'confidence_below',
  'record_matches',
  'overwrites_non_empty',
  'evidence',
] as const satisfies readonly PolicyCondition['kind'][];
export const RAISE_TIER_NAMES = ['approval', 'two_person', 'deny'] as const satisfies readonly Tier[];
export const RECORD_MATCH_OP_NAMES = ['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'is_empty', 'not_empty'] as const;

/** What a cap field holds: a number, nothing (no cap), or text that is not a number (said before sending). */
export type CapInput = { ok: true; value: number | undefined } | { ok: false; message: string };

export function parseCapInput(text: string): CapInput {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(trimmed))
    return { ok: false, message: 'Write a number, or leave it empty for no cap.' };
  return { ok: true, value: Number(trimmed) };
}

/** One cap set or removed, for the workspace or for one agent role. */
export function withCap(policy: Policy, change: { role?: AgentRole; cap: CapName; value: number | undefined }): Policy {
  const set = (caps: Caps): Caps => {
    const { [change.cap]: _old, ...rest } = caps;
    return change.value === undefined ? rest : { ...rest, [change.cap]: change.value };
  };
  if (!change.role)
    return {
      ...policy,
      caps: { ...set(policy.caps), ...(policy.caps.roleCaps ? { roleCaps: policy.caps.roleCaps } : {}) },
    };
  const roleCaps = { ...policy.caps.roleCaps, [change.role]: set(policy.caps.roleCaps?.[change.role] ?? {}) };
  return { ...policy, caps: { ...policy.caps, roleCaps } };
}

export function newWindow(): TimeWindow {
  return { actions: ['send_email'], days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' };
}

/** The window at `index` replaced, or removed with null, or appended when `index` is the list's length. */
export function withWindow(policy: Policy, index: number, window: TimeWindow | null): Policy {
  return { ...policy, windows: replaceAt(policy.windows, index, window) };
}

export function windowSummary(window: TimeWindow): string {
  const who = window.roles ? `${window.roles.join(', ')} agents` : 'every agent';
  return `${window.actions.join(', ')} by ${who}: ${window.days.join(', ')} ${window.start}–${window.end}${window.timezone ? ` (${window.timezone})` : ' (policy time zone)'}`;
}

/** A condition of each kind that validates as it stands, for the admin to adjust. */
export function newCondition(kind: PolicyCondition['kind']): PolicyCondition {
  switch (kind) {
    case 'confidence_below':
      return { kind, threshold: 0.7, raiseTo: 'approval' };
    case 'record_matches':
      return {
        kind,
        objectType: 'contacts',
        property: 'lifecyclestage',
        op: 'eq',
        value: 'customer',
        raiseTo: 'approval',
      };
    case 'overwrites_non_empty':
      return { kind, raiseTo: 'approval' };
    case 'evidence':
      return { kind, requireUrl: true, raiseTo: 'approval' };
  }
}

export function withCondition(policy: Policy, index: number, condition: PolicyCondition | null): Policy {
  return { ...policy, conditions: replaceAt(policy.conditions, index, condition) };
}

export function conditionSummary(condition: PolicyCondition): string {
  const scope = [
    'objectTypes' in condition && condition.objectTypes ? `on ${condition.objectTypes.join(', ')}` : '',
    condition.properties ? `for ${condition.properties.join(', ')}` : '',
    condition.roles ? `by ${condition.roles.join(', ')} agents` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const raise = `raise to ${condition.raiseTo}`;
  const tail = scope ? ` ${scope}` : '';
  switch (condition.kind) {
    case 'confidence_below':
      return `Confidence below ${condition.threshold}: ${raise}${tail}`;
    case 'record_matches':
      return `When ${recordMatchText(condition)}: ${raise}${tail}`;
    case 'overwrites_non_empty':
      return `Overwriting a non-empty value: ${raise}${tail}`;
    case 'evidence': {
      const needs = [
        condition.requireUrl ? 'a source URL' : '',
        condition.allowedSources ? `a source among ${condition.allowedSources.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      return `Evidence without ${needs || 'anything'}: ${raise}${tail}`;
    }
  }
}

/** A record condition as read: `contacts.lifecyclestage eq customer`, `deals.amount gt 50000`, `contacts.phone is_empty`. */
export function recordMatchText(condition: SegmentCondition): string {
  const operand =
    condition.op === 'in'
      ? (condition.values ?? []).join(' | ')
      : condition.op === 'is_empty' || condition.op === 'not_empty'
        ? ''
        : String(condition.value ?? '');
  return `${condition.objectType}.${condition.property} ${condition.op} ${operand}`.trimEnd();
}

/** A segment stop's record condition (issue 21) as a form holds it: the operand as typed. */
export interface SegmentConditionFields {
  objectType: SegmentCondition['objectType'];
  property: string;
  op: SegmentCondition['op'];
  operand: string;
}

/**
 * The record condition a kill switch's segment stop is engaged with, from its form's fields: the
 * operand a comma-separated list for `in`, none for `is_empty` and `not_empty`, else one value.
 * The settings page and the console build the same one; the server's schema still checks it.
 */
export function segmentConditionFrom(fields: SegmentConditionFields): SegmentCondition {
  const noOperand = fields.op === 'is_empty' || fields.op === 'not_empty';
  const values = listFromText(fields.operand);
  return {
    objectType: fields.objectType,
    property: fields.property.trim(),
    op: fields.op,
    ...(noOperand ? {} : fields.op === 'in' ? (values ? { values } : {}) : { value: fields.operand.trim() }),
  };
}

export const CONTENT_RULE_KINDS = [
  'banned',
  'required',
  'personalisation',
] as const satisfies readonly ContentRule['kind'][];
export const DRAFT_ACTION_NAMES = ['send_email', 'create_task', 'create_note'] as const satisfies readonly ActionKind[];
/** Governed reads name an agent role, or "*" for the roles not named. */
export const READ_ROLE_NAMES = [...MATRIX_ROLES, '*'] as const;
/** What a likely duplicate of an existing record does to its creation; `deny` is the default. */
export const DUPLICATE_CHOICES = [
  ['deny', 'refused (the default)'],
  ['approval', 'held for a person'],
  ['two_person', 'held for two people'],
] as const;

/** A list typed one item a line: blank lines left out, and no line at all leaves the list out. */
export function linesFromText(text: string): string[] | undefined {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return lines.length > 0 ? lines : undefined;
}

/** A new content rule; it checks nothing until phrases are given, which the rule's schema says. */
export function newContentRule(): ContentRule {
  return { name: 'New rule', kind: 'banned', phrases: [], raiseTo: 'approval' };
}

/** The content rule at `index` replaced, removed with null, or appended; no rule left leaves the setting out. */
export function withContentRule(policy: Policy, index: number, rule: ContentRule | null): Policy {
  const content = replaceAt(policy.content ?? [], index, rule);
  return withOptional(policy, 'content', content.length > 0 ? content : undefined);
}

export function contentRuleSummary(rule: ContentRule): string {
  const drafts = rule.actions ? rule.actions.join(', ') : 'every draft';
  const who = rule.roles ? ` by ${rule.roles.join(', ')} agents` : '';
  const what =
    rule.kind === 'personalisation'
      ? `merges a field other than ${(rule.allowedFields ?? []).join(', ') || '(none)'}`
      : `${rule.kind === 'banned' ? 'contains' : 'lacks'} ${[...(rule.phrases ?? []).map((phrase) => `"${phrase}"`), ...(rule.patterns ?? []).map((pattern) => `/${pattern}/`)].join(' or ') || '(nothing yet)'}`;
  return `${rule.name}: ${drafts}${who} that ${what} → ${rule.raiseTo}`;
}

/** One object type's creation or read setting changed (undefined leaves it out); the rest of the policy as it was. */
export function withObjectSetting<K extends 'create' | 'onDuplicate' | 'read'>(
  policy: Policy,
  objectType: ObjectType,
  key: K,
  value: ObjectPolicy[K] | undefined,
): Policy {
  const object = policy.objects[objectType] ?? { properties: {} };
  return { ...policy, objects: { ...policy.objects, [objectType]: withOptional(object, key, value) } };
}

/** One governed read's access for one role set (or taken away with undefined); a property left with no role is not read. */
export function withReadAccess(
  policy: Policy,
  change: { objectType: ObjectType; property: string; role: AgentRole | '*'; access: 'full' | 'masked' | undefined },
): Policy {
  const read = policy.objects[change.objectType]?.read ?? {};
  const roles = withOptional(read[change.property] ?? {}, change.role, change.access);
  const { [change.property]: _old, ...others } = read;
  const next = Object.keys(roles).length > 0 ? { ...others, [change.property]: roles } : others;
  return withObjectSetting(policy, change.objectType, 'read', Object.keys(next).length > 0 ? next : undefined);
}

/** `item` with `key` set, or without it when `value` is undefined (an absent list in the policy means "all"). */
export function withOptional<T extends object, K extends keyof T>(item: T, key: K, value: T[K] | undefined): T {
  const { [key]: _old, ...rest } = item;
  // rest is T without K; with K put back (or left out where T says it is optional) it is a T again.
  return (value === undefined ? rest : { ...rest, [key]: value }) as T;
}

/** A comma-separated list as typed into a field: blanks dropped; empty means "not limited". */
export function listFromText(text: string): string[] | undefined {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length > 0 ? items : undefined;
}

/**
 * How many edits a draft holds against the policy in force: matrix cells, caps, windows,
 * conditions, content rules, and per object type its creation tiers, what a likely duplicate does
 * and its governed reads (a property × role each).
 */
export function policyEditCount(before: Policy, after: Policy): number {
  const objectChanges = MATRIX_OBJECT_TYPES.reduce((count, objectType) => {
    const a = before.objects[objectType];
    const b = after.objects[objectType];
    return (
      count +
      differingEntries(a?.create ?? {}, b?.create ?? {}) +
      (a?.onDuplicate === b?.onDuplicate ? 0 : 1) +
      differingEntries(readEntries(a?.read), readEntries(b?.read))
    );
  }, 0);
  return (
    changedCells(before, after, MATRIX_OBJECT_TYPES) +
    differingEntries(Object.fromEntries(capEntries(before)), Object.fromEntries(capEntries(after))) +
    differingItems(before.windows, after.windows) +
    differingItems(before.conditions, after.conditions) +
    differingItems(before.content ?? [], after.content ?? []) +
    objectChanges
  );
}

/** Governed reads keyed `property.role`. */
function readEntries(read: ObjectPolicy['read']): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(read ?? {}).flatMap(([property, roles]) =>
      Object.entries(roles).map(([role, access]) => [`${property}.${role}`, access]),
    ),
  );
}

/** Keys whose value differs between two maps, a key missing from one counting as a difference. */
function differingEntries(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => a[key] !== b[key]).length;
}

/** Every cap that is set, keyed `*.cap` for the workspace and `role.cap` per agent role. */
function capEntries(policy: Policy): Map<string, number> {
  const entries = new Map<string, number>();
  const add = (scope: string, caps: Caps | undefined) => {
    for (const cap of CAP_NAMES) if (caps?.[cap] !== undefined) entries.set(`${scope}.${cap}`, caps[cap]);
  };
  add('*', policy.caps);
  for (const [role, caps] of Object.entries(policy.caps.roleCaps ?? {})) add(role, caps);
  return entries;
}

function differingItems(a: readonly unknown[], b: readonly unknown[]): number {
  let count = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i += 1)
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) count += 1;
  return count;
}

function replaceAt<T>(list: readonly T[], index: number, item: T | null): T[] {
  if (item === null) return list.filter((_, at) => at !== index);
  const next = [...list];
  next[index] = item;
  return next;
}
