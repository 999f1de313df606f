import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const ROLLBACK_STATUSES = ['running', 'paused', 'completed'] as const;
export const ROLLBACK_ITEM_STATES = [
  'pending',
  'writing',
  'reverted',
  'conflict',
  'already_reverted',
  'failed',
] as const;

/**
 * Issue 7: one rollback of selected changes. The row is also the job (as webhook_events are for
 * issue 6): a worker claims it with a lease and works through its items; a worker that dies
 * leaves the lease to expire and another takes over where the items say it stopped.
 */
export const rollbacks = pgTable(
  'rollbacks',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    /** The selector as the admin gave it (shared/rollback-api.ts). */
    selector: jsonb('selector').notNull(),
    /** `batch:<id>` when the selector names a batch, else a hash of the selector: one active rollback per key. */
    selectorKey: text('selector_key').notNull(),
    force: boolean('force').notNull(),
    status: text('status', { enum: ROLLBACK_STATUSES }).notNull(),
    /** Why it is paused (an admin, a kill switch), or null. */
    statusReason: text('status_reason'),
    /** Who ran it, as the audit log records it. */
    actor: jsonb('actor').notNull(),
    /** The workspace's rollback agent: the rollback's own writes form change sets of this agent. */
    agentId: uuid('agent_id').notNull(),
    /** The rollback's change set per object type, created as its first write of that type is made. */
    changeSetIds: jsonb('change_set_ids').notNull().default(sql`'{}'::jsonb`),
    total: integer('total').notNull(),
    leaseHolder: text('lease_holder'),
    leaseExpiresAt: instant('lease_expires_at'),
    createdAt: instant('created_at').notNull(),
    completedAt: instant('completed_at'),
  },
  (t) => [
    uniqueIndex('rollbacks_active_selector').on(t.workspaceId, t.selectorKey).where(sql`status <> 'completed'`),
    index('rollbacks_running').on(t.leaseExpiresAt).where(sql`status = 'running'`),
  ],
);

/**
 * One record × property of a rollback: what to restore, and what happened to it. Pages filled to
 * half (fillfactor 50, migration 0039; drizzle cannot declare it), so a step's updates stay in place.
 */
export const rollbackItems = pgTable(
  'rollback_items',
  {
    rollbackId: uuid('rollback_id').notNull(),
    /** Items of one record are consecutive, so one CRM batch of 100 records is a range of seq. */
    seq: integer('seq').notNull(),
    workspaceId: uuid('workspace_id').notNull(),
    objectType: text('object_type').notNull(),
    recordId: text('record_id').notNull(),
    property: text('property').notNull(),
    /** The selected changes on this field, oldest first. */
    changeIds: uuid('change_ids').array().notNull(),
    /** When the earliest selected change was made: later changes by others make a conflict. */
    selectedFrom: instant('selected_from').notNull(),
    restoreValue: text('restore_value'),
    /** What the latest selected change wrote: the CRM must still hold it for a plain revert. */
    expectedValue: text('expected_value'),
    state: text('state', { enum: ROLLBACK_ITEM_STATES }).notNull(),
    forced: boolean('forced').notNull().default(false),
    /** The later change that makes it a conflict: origin, who, when, value. */
    conflict: jsonb('conflict'),
    /** The value the CRM held right before the rollback wrote (or decided not to). */
    valueFound: text('value_found'),
    /** The rollback's own change row for this field, once a write was attempted. */
    revertChangeId: uuid('revert_change_id'),
    attempts: integer('attempts').notNull().default(0),
    message: text('message'),
    settledAt: instant('settled_at'),
  },
  // No index on state: every step changes it twice per item, and the walk in seq order is the primary key's.
  (t) => [primaryKey({ columns: [t.rollbackId, t.seq] })],
);
