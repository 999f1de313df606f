import type { ChangeSource } from '../../../shared/crm-names.ts';
import { classifyPropertyChange } from './crm-change-classification.ts';

/**
 * Rollback planning (issue 7), pure: for one record × property, given the selected changes, the
 * changes others made to the same field, and the CRM's current value, decide whether the value
 * goes back, is left alone as a conflict, or is already back. The store and the CRM bring the
 * facts; this module never reads them.
 */

export const ROLLBACK_CLASSES = ['revert', 'conflict', 'already_reverted'] as const;
export type RollbackClass = (typeof ROLLBACK_CLASSES)[number];

/** Who made a change that is not part of the selection, in the words the report uses. */
export const CHANGE_ORIGINS = ['person', 'agent', 'workflow', 'import', 'integration', 'system', 'unknown'] as const;
export type ChangeOrigin = (typeof CHANGE_ORIGINS)[number];

export interface SelectedWrite {
  changeId: string;
  before: string | null;
  written: string | null;
  at: Date;
}

export interface OtherChange {
  origin: ChangeOrigin;
  /** The person's CRM user id, the agent's name, the workflow or integration id, when known. */
  who: string | null;
  value: string | null;
  at: Date;
}

export type CurrentValue = { found: true; value: string | null } | { found: false };

/**
 * What the hash-chained audit trail recorded as the value before a change: the source of truth for
 * what to restore, since a database owner can edit our change rows and rollback items by hand.
 * `erased`: the value was personal and kept apart, and retention or an erasure request deleted it;
 * `missing`: no event of the trail records it.
 */
export type AuditedBefore = { state: 'recorded'; value: string | null } | { state: 'erased' } | { state: 'missing' };

export interface FieldFacts {
  /** The selected changes on this field, in any order. */
  selected: readonly SelectedWrite[];
  /** Changes to this field that are not in the selection, from our records and the CRM's webhooks, in any order. */
  others: readonly OtherChange[];
  current: CurrentValue;
  /** The audited value before each selected change, by change id: the earliest's is checked. */
  audited: ReadonlyMap<string, AuditedBefore>;
}

/** A restore value the audit trail does not vouch for: never written, whatever `force` says, and audited. */
export const UNAUDITED_CAUSES = ['restore_value_not_as_audited', 'restore_value_unverifiable'] as const;
export type UnauditedCause = (typeof UNAUDITED_CAUSES)[number];

export function isUnaudited(cause: Conflict['cause']): cause is UnauditedCause {
  return (UNAUDITED_CAUSES as readonly string[]).includes(cause);
}

export interface Conflict {
  cause: 'changed_since' | 'value_differs' | 'record_missing' | UnauditedCause;
  origin: ChangeOrigin;
  who: string | null;
  at: Date | null;
  value: string | null;
}

export interface FieldPlan {
  classification: RollbackClass;
  /** The value before the earliest selected change. */
  restoreValue: string | null;
  /** The value the latest selected change wrote. */
  expectedValue: string | null;
  /** A conflict that `force` turned into a revert. */
  forced: boolean;
  conflict: Conflict | null;
}

/** HubSpot reports an empty property as "" or leaves it out; both mean no value. */
export function sameCrmValue(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? '') === (b ?? '');
}

/** The selected changes oldest first; ties keep the given order. */
export function selectionBounds(selected: readonly SelectedWrite[]): {
  restoreValue: string | null;
  expectedValue: string | null;
  from: Date;
  /** The earliest selected change, whose value before is the restore value. */
  earliestChangeId: string;
} {
  const ordered = [...selected].sort((a, b) => a.at.getTime() - b.at.getTime());
  const first = ordered[0];
  const last = ordered.at(-1);
  if (!first || !last) throw new Error('a field to roll back needs at least one selected change');
  return { restoreValue: first.before, expectedValue: last.written, from: first.at, earliestChangeId: first.changeId };
}

/**
 * The value goes back only if the CRM still holds what the latest selected change wrote and
 * nobody else touched the field since the earliest selected change: a person's later edit is
 * never overwritten, even one that was itself overwritten by a later selected change (what to
 * restore then is a person's call, not ours). Nor is a restore value the audit trail does not
 * vouch for written: one that differs from the value before the earliest selected change as the
 * trail recorded it (our rows were edited by hand), or one the trail no longer holds. `force`
 * reverts conflicts too, except those two and a record that no longer exists.
 */
export function planField(facts: FieldFacts, options: { force: boolean }): FieldPlan {
  const { restoreValue, expectedValue, from, earliestChangeId } = selectionBounds(facts.selected);
  const base = { restoreValue, expectedValue, forced: false, conflict: null };
  const unforceable = (cause: Conflict['cause'], value: string | null = null): FieldPlan => ({
    ...base,
    classification: 'conflict',
    conflict: { cause, origin: 'unknown', who: null, at: null, value },
  });
  if (!facts.current.found) return unforceable('record_missing');
  const audited = facts.audited.get(earliestChangeId) ?? { state: 'missing' };
  if (audited.state !== 'recorded') return unforceable('restore_value_unverifiable');
  // The same CRM write either way ("" and no value are one), so only a different value is refused.
  if (!sameCrmValue(audited.value, restoreValue)) return unforceable('restore_value_not_as_audited', audited.value);
  const current = facts.current.value;
  if (sameCrmValue(current, restoreValue)) return { ...base, classification: 'already_reverted' };
  const conflict = conflictSince(facts.others, from, current, expectedValue);
  if (!conflict) return { ...base, classification: 'revert' };
  return options.force
    ? { ...base, classification: 'revert', forced: true, conflict }
    : { ...base, classification: 'conflict', conflict };
}

function conflictSince(
  others: readonly OtherChange[],
  from: Date,
  current: string | null,
  expected: string | null,
): Conflict | null {
  const since = others
    .filter((change) => change.at.getTime() >= from.getTime())
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  const latest = since.at(-1);
  if (latest)
    return { cause: 'changed_since', origin: latest.origin, who: latest.who, at: latest.at, value: latest.value };
  // Nobody we know of changed it, yet the CRM holds something else: a change we were not told about.
  if (!sameCrmValue(current, expected))
    return { cause: 'value_differs', origin: 'unknown', who: null, at: null, value: current };
  return null;
}

export type ItemDecision =
  | { action: 'write'; plan: FieldPlan }
  | { action: 'settle'; state: 'reverted' | 'conflict' | 'already_reverted'; plan: FieldPlan };

/**
 * What the job does with an item once it has re-read the CRM. An item whose write was started
 * before a crash (`inFlight`) and whose field now holds the restore value was written by us:
 * it settles as reverted and is not written again.
 */
export function decideItem(facts: FieldFacts, options: { force: boolean; inFlight: boolean }): ItemDecision {
  const plan = planField(facts, options);
  if (plan.classification === 'revert') return { action: 'write', plan };
  if (plan.classification === 'already_reverted' && options.inFlight)
    return { action: 'settle', state: 'reverted', plan };
  return { action: 'settle', state: plan.classification, plan };
}

/** The origin a field-history kind (issue 6's classification of webhooks), or 'agent' for our own records, stands for in a conflict. */
export function originOfFieldChange(kind: string): ChangeOrigin {
  switch (kind) {
    case 'person':
    case 'workflow':
    case 'import':
    case 'system':
      return kind;
    case 'own_write':
    case 'agent':
      return 'agent';
    case 'bypass':
      return 'integration';
    default:
      return 'unknown';
  }
}

/** The newest revision of a field in the CRM's own property history. */
export interface HistoryRevision {
  source: ChangeSource;
  sourceId: string | null;
  userId: string | null;
  value: string | null;
  at: Date;
}

/**
 * A conflict our records cannot explain (`value_differs`: no webhook told us), explained by the
 * CRM's history of the field: who wrote the value it holds, through what, when.
 */
export function explainWithHistory(conflict: Conflict, revision: HistoryRevision): Conflict {
  if (conflict.cause !== 'value_differs') return conflict;
  // Our app wrote it (a write our records do not tie to the selection): ours, never "an integration".
  if (revision.source === 'our_app') return { ...conflict, origin: 'agent', who: null, at: revision.at };
  const { kind } = classifyPropertyChange({ source: revision.source, property: '', value: revision.value }, []);
  const origin = originOfFieldChange(kind);
  const who = origin === 'person' ? (revision.userId ?? revision.sourceId) : revision.sourceId;
  return { ...conflict, origin, who, at: revision.at };
}
