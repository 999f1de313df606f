import { ACTION_KINDS, type ActionKind } from '../../../shared/crm-names.ts';
import {
  KILL_SWITCH_SCOPES,
  LIST_SEGMENT_PREFIX,
  RECORD_SEGMENT_PREFIX,
  type KillSwitchScope,
  type SegmentCondition,
  segmentConditionSchema,
} from '../../../shared/kill-switch.ts';
import { recordMatches } from './policy-conditions.ts';

/** An engaged kill switch as the rules below read it. */
export interface EngagedSwitch {
  scope: KillSwitchScope;
  /** '' for the workspace switch; normalised (see `normalisedTarget`) for the other scopes. */
  target: string;
  condition: SegmentCondition | null;
  reason: string;
  changedAt: Date;
}

/** A kill switch row as stored: a database owner or a newer server may have written what this one does not know. */
export interface StoredSwitch {
  scope: string;
  target: string;
  condition: unknown;
  reason: string;
  changedAt: Date;
}

/**
 * Why this server cannot tell what a stored switch stops, or null when it can: a scope or action
 * kind it does not know (a typo typed in the database, or a value a newer version wrote), or a
 * segment whose list or condition does not parse.
 */
export function notUnderstood(stored: Pick<StoredSwitch, 'scope' | 'target' | 'condition'>): string | null {
  if (!(KILL_SWITCH_SCOPES as readonly string[]).includes(stored.scope))
    return 'its scope is not one this server knows';
  if (stored.scope === 'action' && !(ACTION_KINDS as readonly string[]).includes(stored.target))
    return 'its target is not an action kind this server knows';
  if (stored.scope !== 'segment') return null;
  if (stored.target.startsWith(LIST_SEGMENT_PREFIX))
    return LIST_TARGET.test(stored.target) ? null : 'its target is not a CRM list id';
  if (!stored.target.startsWith(RECORD_SEGMENT_PREFIX))
    return 'its target names neither a CRM list nor a record condition';
  return segmentConditionSchema.safeParse(stored.condition).success ? null : 'its condition does not parse';
}

/** A segment switch's target naming a CRM list. */
export const LIST_TARGET = new RegExp(`^${LIST_SEGMENT_PREFIX}[0-9]{1,18}$`);

/** What a stored switch this server does not understand does, naming its row so an operator can fix it; null when understood. */
export function notUnderstoodSentence(stored: Pick<StoredSwitch, 'scope' | 'target' | 'condition'>): string | null {
  const problem = notUnderstood(stored);
  if (problem === null) return null;
  const target = stored.target ? `target '${stored.target}'` : 'no target';
  return `The stored kill switch with scope '${stored.scope}' and ${target} is not understood (${problem}), so while engaged it stops every agent and action in this workspace until its row is fixed or released.`;
}

/**
 * A stored switch as the rules read it. One this server does not understand fails closed: read as
 * the workspace switch, it stops every agent and action, and its reason says which row to fix.
 */
export function engagedSwitchOf(stored: StoredSwitch): EngagedSwitch {
  const sentence = notUnderstoodSentence(stored);
  if (sentence === null)
    return {
      scope: stored.scope as KillSwitchScope,
      // A target typed into the database as `Apollo ` still names the source agents cite as `apollo`.
      target: normalisedTarget(stored.scope as KillSwitchScope, stored.target),
      condition: (stored.condition as SegmentCondition | null) ?? null,
      reason: stored.reason,
      changedAt: stored.changedAt,
    };
  return {
    scope: 'workspace',
    target: '',
    condition: null,
    reason: `${sentence} Its reason: ${stored.reason}`,
    changedAt: stored.changedAt,
  };
}

/**
 * One write or draft a switch may stop. What is not known is left out: a check made before the
 * record is read knows no segment, and a field write has no recipient or template.
 */
export interface StopSubject {
  agentId: string;
  action: ActionKind;
  objectType?: string;
  recordId?: string;
  /** The record's values as read, holding at least the properties of engaged condition segments. */
  record?: Readonly<Record<string, string | null>>;
  /** The CRM lists (by id) among those engaged switches name that the record is in. */
  lists?: ReadonlySet<string>;
  recipientDomain?: string;
  template?: string;
  evidenceSource?: string;
}

/**
 * Targets are compared without case or surrounding space, so `Apollo`, `apollo ` and `apollo`
 * name one evidence source; a segment's list id and an agent id are kept as given.
 */
export function normalisedTarget(scope: KillSwitchScope, target: string): string {
  return scope === 'recipient_domain' || scope === 'template' || scope === 'evidence_source'
    ? target.trim().toLowerCase()
    : target;
}

/** The list a segment switch names, or null for one given by a record condition. */
export function segmentList(engaged: Pick<EngagedSwitch, 'scope' | 'target'>): string | null {
  return engaged.scope === 'segment' && engaged.target.startsWith(LIST_SEGMENT_PREFIX)
    ? engaged.target.slice(LIST_SEGMENT_PREFIX.length)
    : null;
}

/** Whether this switch stops this subject. A domain switch stops its subdomains too (`acme.com` stops `eu.acme.com`). */
export function stops(engaged: EngagedSwitch, subject: StopSubject): boolean {
  switch (engaged.scope) {
    case 'workspace':
      return true;
    case 'agent':
      return engaged.target === subject.agentId;
    case 'action':
      return engaged.target === subject.action;
    case 'segment': {
      const list = segmentList(engaged);
      if (list !== null) return subject.lists?.has(list) ?? false;
      const condition = engaged.condition;
      if (!condition || !subject.record || condition.objectType !== subject.objectType) return false;
      return recordMatches(condition, subject.record[condition.property] ?? null);
    }
    case 'recipient_domain': {
      const domain = subject.recipientDomain?.toLowerCase();
      return domain !== undefined && (domain === engaged.target || domain.endsWith(`.${engaged.target}`));
    }
    case 'template':
      return subject.template !== undefined && normalisedTarget('template', subject.template) === engaged.target;
    case 'evidence_source':
      return (
        subject.evidenceSource !== undefined &&
        normalisedTarget('evidence_source', subject.evidenceSource) === engaged.target
      );
  }
}

/** The first engaged switch that stops the subject, broadest scope first, so the answer names the widest stop. */
export function switchStopping(engaged: readonly EngagedSwitch[], subject: StopSubject): EngagedSwitch | undefined {
  return [...engaged]
    .sort((a, b) => KILL_SWITCH_SCOPES.indexOf(a.scope) - KILL_SWITCH_SCOPES.indexOf(b.scope))
    .find((candidate) => stops(candidate, subject));
}

/** The switch in words, for refusal messages: `segment list:42`, `recipient_domain acme.com`, `workspace`. */
export function describeSwitch(engaged: Pick<EngagedSwitch, 'scope' | 'target'>): string {
  return engaged.target ? `${engaged.scope} ${engaged.target}` : engaged.scope;
}

/** The properties engaged condition segments on this object type look at, so a read can fetch them. */
export function segmentProperties(engaged: readonly EngagedSwitch[], objectType: string): string[] {
  return engaged.flatMap((candidate) =>
    candidate.scope === 'segment' && candidate.condition?.objectType === objectType
      ? [candidate.condition.property]
      : [],
  );
}
