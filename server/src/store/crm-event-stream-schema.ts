import { pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * A workspace's subscription to its CRM's change events (issue 20): which server holds it. Its
 * workspace foreign key is in the migration only, as for the SIEM tables.
 */
export const crmEventStreams = pgTable('crm_event_streams', {
  workspaceId: uuid('workspace_id').primaryKey(),
  leaseHolder: text('lease_holder'),
  leaseExpiresAt: at('lease_expires_at'),
  updatedAt: at('updated_at').notNull(),
});

/** The replay id of the last stored event of each topic; opaque, kept as the CRM gave it. */
export const crmEventStreamPositions = pgTable(
  'crm_event_stream_positions',
  {
    workspaceId: uuid('workspace_id').notNull(),
    topic: text('topic').notNull(),
    replayId: text('replay_id').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [primaryKey({ name: 'crm_event_stream_positions_pk', columns: [t.workspaceId, t.topic] })],
);
