import { sql } from 'drizzle-orm';
import { bigint, index, integer, json, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * HubSpot webhook events (issue 6), split from their delivery (`webhookDeliveries`). The row is
 * also the job: storing an event and queuing its processing are the same insert, so no crash can
 * fall between them. The key is
 * HubSpot's eventId per workspace, so a retried delivery stores nothing new.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    workspaceId: uuid('workspace_id').notNull(),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    subscriptionType: text('subscription_type').notNull(),
    objectId: text('object_id').notNull(),
    propertyName: text('property_name'),
    propertyValue: text('property_value'),
    changeSource: text('change_source'),
    sourceId: text('source_id'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** The whole event as HubSpot sent it (merge ids, app id, attempt number...). */
    payload: jsonb('payload').notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true, mode: 'date' }),
    /** What processing concluded: a change kind, or why the event was ignored. */
    outcome: text('outcome'),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.eventId] }),
    // The claim's full order, so it reads the oldest pending events off the index and stops at its
    // limit; ordered by occurred_at alone, Postgres sorted every pending event of the workspace
    // on each claim, and a backlog of 300,000 took 200 ms a batch.
    index('webhook_events_pending_order').on(t.workspaceId, t.occurredAt, t.eventId).where(sql`processed_at is null`),
    // Decisions on approval objects not known yet, looked up each time the mirror stores new ids.
    index('webhook_events_unknown_decisions')
      .on(t.workspaceId, t.objectId)
      .where(sql`outcome = 'approval_object_unknown'`),
  ],
);

/**
 * A HubSpot delivery as received (issue 18): intake stores the signed body whole, one row, and
 * answers; the worker splits it into `webhook_events` and deletes it in one statement. Its
 * elements go to `workspaceId` (the usual delivery), or the listed indexes to the workspaces beside them.
 */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
  body: jsonb('body').notNull(),
  workspaceId: uuid('workspace_id'),
  elementIndexes: integer('element_indexes').array(),
  elementWorkspaces: uuid('element_workspaces').array(),
  /** Why the row could not be split (it was altered in the database); such a row is left aside. */
  splitProblem: text('split_problem'),
});

/**
 * Who changed which field of which record, when, to what, through what (issue 6). Rollback
 * (issue 7) reads it to find later edits, the record card to explain a value.
 */
export const recordPropertyChanges = pgTable(
  'record_property_changes',
  {
    workspaceId: uuid('workspace_id').notNull(),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    objectType: text('object_type').notNull(),
    recordId: text('record_id').notNull(),
    /** '' for record-level events (created, deleted, merged, restored). */
    property: text('property').notNull(),
    value: text('value'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    kind: text('kind').notNull(),
    changeSource: text('change_source'),
    sourceId: text('source_id'),
    /** Set when the change is one of ours (the change that wrote it) or a bypass attributed to an agent. */
    agentId: uuid('agent_id'),
    changeId: uuid('change_id'),
    /** Record-level details: the merged ids, the surviving id (json: stored whole, never queried inside). */
    data: json('data'),
    attemptNumber: integer('attempt_number'),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.eventId] }),
    index('record_property_changes_field').on(t.workspaceId, t.objectType, t.recordId, t.property, t.occurredAt),
    index('record_property_changes_agent').on(t.workspaceId, t.kind, t.agentId, t.occurredAt),
  ],
);
