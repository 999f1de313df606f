import { bigint, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * A workspace's SIEM destination and its delivery state (issue 22): the audit chain is the queue
 * and `cursorSeq` this destination's place in it. Its workspace foreign key is in the migration
 * only, so this file need not import schema.ts (which re-exports it) and make a cycle.
 */
export const siemDestinations = pgTable(
  'siem_destinations',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    name: text('name').notNull(),
    kind: text('kind', { enum: ['otlp', 'splunk_hec', 'webhook'] }).notNull(),
    url: text('url').notNull(),
    /** AES-GCM sealed: the HEC token, the webhook's signing secret, or the OTLP bearer token. */
    secretEnc: text('secret_enc'),
    downAfterSeconds: integer('down_after_seconds').notNull(),
    /** The last seq the destination acknowledged; delivery resumes after it. */
    cursorSeq: bigint('cursor_seq', { mode: 'number' }).notNull(),
    /** The seq of the last signed checkpoint the destination acknowledged. */
    checkpointCursorSeq: bigint('checkpoint_cursor_seq', { mode: 'number' }).notNull().default(0),
    deliveredAt: at('delivered_at'),
    nextAttemptAt: at('next_attempt_at').notNull(),
    /** Failed attempts in a row; the backoff grows with them. */
    attempts: integer('attempts').notNull().default(0),
    failingSince: at('failing_since'),
    lastError: text('last_error'),
    /** When the outage was recorded in the audit log; cleared when a delivery succeeds again. */
    downRecordedAt: at('down_recorded_at'),
    leaseHolder: text('lease_holder'),
    leaseExpiresAt: at('lease_expires_at'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('siem_destinations_workspace_name').on(t.workspaceId, t.name),
    index('siem_destinations_due').on(t.nextAttemptAt),
  ],
);
