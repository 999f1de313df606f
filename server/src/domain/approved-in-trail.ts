/**
 * What the audit trail says a person approved writing (issue 5), pure: the apply job writes an
 * approval's values only when its rows still match this, since a database owner can edit rows but
 * not the hash-chained trail.
 */
import { REDACTED } from './audit-personal.ts';

/** One `approval.created` or `approval.decided` event of an approval, personal values written back in while kept. */
export interface ApprovalTrailEvent {
  type: string;
  before: unknown;
  after: unknown;
  data: unknown;
  /** Its personal values were kept apart and are gone (retention, erasure): where it says `[redacted]`, the value is lost. */
  personalGone: boolean;
}

/**
 * The value approved for a property and the value it held before the proposal (what the write must
 * still find there), or `unreadable` when the trail no longer holds them.
 */
export type ApprovedValue = { value: string | null; before: string | null } | 'unreadable';
type Recorded = { value: string | null } | 'unreadable';

type JsonObject = Record<string, unknown>;

const objectOf = (value: unknown): JsonObject | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;

function valueIn(event: ApprovalTrailEvent, value: unknown): Recorded {
  if (value === REDACTED && event.personalGone) return 'unreadable';
  return typeof value === 'string' || value === null ? { value } : 'unreadable';
}

/**
 * Per property that approve decisions name, in chain order: the agent's proposal as
 * `approval.created` recorded it, replaced by the last edit an approve decision naming the
 * property recorded (a second approver without edits keeps the first one's); with the value
 * before the proposal `approval.created` recorded.
 */
export function approvedInTrail(events: readonly ApprovalTrailEvent[]): Map<string, ApprovedValue> {
  const created = events.find((event) => event.type === 'approval.created');
  const recorded = (field: 'before' | 'after', property: string): Recorded => {
    const values = objectOf(created?.[field]);
    return created && values && Object.hasOwn(values, property) ? valueIn(created, values[property]) : 'unreadable';
  };
  const approved = new Map<string, Recorded>();
  for (const event of events) {
    const data = objectOf(event.data);
    if (event.type !== 'approval.decided' || data?.kind !== 'approve' || !Array.isArray(data.properties)) continue;
    const edits = data.edits === undefined ? {} : objectOf(data.edits);
    for (const property of data.properties) {
      if (typeof property !== 'string') continue;
      // Edits kept apart and gone: this decision may have changed any property it names.
      if (!edits) approved.set(property, 'unreadable');
      else if (Object.hasOwn(edits, property))
        approved.set(property, valueIn(event, objectOf(edits[property])?.edited));
      else if (!approved.has(property)) approved.set(property, recorded('after', property));
    }
  }
  const withBefore = [...approved].map(([property, approvedValue]): [string, ApprovedValue] => {
    const before = recorded('before', property);
    if (approvedValue === 'unreadable' || before === 'unreadable') return [property, 'unreadable'];
    return [property, { value: approvedValue.value, before: before.value }];
  });
  return new Map(withBefore);
}
