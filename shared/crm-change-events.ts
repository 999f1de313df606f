import type { ChangeSource } from './crm-names.ts';

/**
 * A change a CRM streams to us (issue 20), in our words: the adapter reads its own event format
 * (Salesforce's Change Data Capture) into these, one per record and field, so processing applies
 * the same rules as to HubSpot's webhooks (stale approvals, bypasses, kill triggers, decisions
 * made on the approval object in the CRM).
 */
export interface CrmChangeEvent {
  objectType: string;
  recordId: string;
  /** The changed property; null for a record-level event (created, deleted, restored). */
  property: string | null;
  value: string | null;
  /** For a record-level event: what happened to the record. */
  recordEvent: 'record_created' | 'record_deleted' | 'record_restored' | null;
  occurredAt: Date;
  /** Who made it, already read from the CRM's own origin names by its adapter. */
  source: ChangeSource;
  /** The CRM's id of who made it: the user a person's change ran as, or the other integration's client. */
  sourceId: string | null;
  /** The CRM's own words for the origin, kept for people reading the history. */
  origin: string | null;
}

/** Events of one delivery from the CRM, stored under one position of the stream. */
export interface CrmChangeBatch {
  /** The CRM's stream (Salesforce: a Pub/Sub topic). */
  topic: string;
  /** Where the stream resumes after this batch; opaque. */
  position: string;
  /** A number that orders this delivery among the topic's, to key its events (the replay id). */
  sequence: bigint;
  events: readonly CrmChangeEvent[];
  /**
   * Records the CRM could not send the changes of (a gap, an overflow, events past its
   * retention), to read again; `recordIds` null: every governed record of the object type.
   */
  reread: { objectType: string; recordIds: string[] | null } | null;
}
