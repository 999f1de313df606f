import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const QUARANTINE_STATUSES = ['collecting', 'marking', 'completed'] as const;

/**
 * Issue 21, quarantine: one per kill switch engagement that names an agent. The row is also the
 * job: a worker claims it with a lease, collects what the agent wrote in the window into
 * record_reviews, then marks those records in the CRM; another worker carries on after a crash.
 */
export const quarantines = pgTable(
  'quarantines',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    reason: text('reason').notNull(),
    windowStart: instant('window_start').notNull(),
    windowEnd: instant('window_end').notNull(),
    status: text('status', { enum: QUARANTINE_STATUSES }).notNull(),
    leaseHolder: text('lease_holder'),
    leaseExpiresAt: instant('lease_expires_at'),
    createdAt: instant('created_at').notNull(),
    completedAt: instant('completed_at'),
  },
  (t) => [index('quarantines_open').on(t.leaseExpiresAt).where(sql`status <> 'completed'`)],
);

/** A record a quarantine marked for review, until a person clears it or a rollback covers it. */
export const recordReviews = pgTable(
  'record_reviews',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    quarantineId: uuid('quarantine_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    objectType: text('object_type').notNull(),
    recordId: text('record_id').notNull(),
    reason: text('reason').notNull(),
    /** The CRM's needs-review property is set on the record. */
    crmMarked: boolean('crm_marked').notNull().default(false),
    markedAt: instant('marked_at').notNull(),
    clearedAt: instant('cleared_at'),
    /** `person:<name>` or `rollback:<id>`. */
    clearedBy: text('cleared_by'),
    /** The CRM's needs-review property is emptied again. */
    crmCleared: boolean('crm_cleared').notNull().default(false),
  },
  (t) => [
    uniqueIndex('record_reviews_open').on(t.workspaceId, t.objectType, t.recordId).where(sql`cleared_at IS NULL`),
    index('record_reviews_quarantine').on(t.quarantineId).where(sql`crm_marked = false`),
    index('record_reviews_to_unmark')
      .on(t.workspaceId)
      .where(sql`cleared_at IS NOT NULL AND crm_marked = true AND crm_cleared = false`),
  ],
);
