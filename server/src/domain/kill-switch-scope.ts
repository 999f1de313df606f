import type { ActionKind } from '../../../shared/crm-names.ts';
import {
  KILL_SWITCH_SCOPES,
  LIST_SEGMENT_PREFIX,
  type KillSwitchScope,
  type SegmentCondition,
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
