import { bigint, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { workspaces } from './workspace-schema.ts';

/**
 * The last signed checkpoint of each workspace's audit chain (issue 17): claimed FOR UPDATE SKIP
 * LOCKED by the server publishing the next one, so one server publishes each. It only paces
 * publishing; the signed checkpoints live outside the database.
 */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  workspaceId: uuid('workspace_id')
    .primaryKey()
    .references(() => workspaces.id),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
  checkpointedAt: timestamp('checkpointed_at', { withTimezone: true, mode: 'date' }).notNull(),
});
