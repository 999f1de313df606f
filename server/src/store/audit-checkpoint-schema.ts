import { bigint, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { AuditCheckpoint } from '../domain/audit-checkpoint.ts';
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

/**
 * Every signed checkpoint, as published (issue 22): SIEM destinations are sent them in seq order,
 * each after the event it signs, so a receiver can check what it holds against the signature.
 */
export const auditCheckpointLog = pgTable(
  'audit_checkpoint_log',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    checkpoint: jsonb('checkpoint').$type<AuditCheckpoint>().notNull(),
  },
  (t) => [primaryKey({ name: 'audit_checkpoint_log_pk', columns: [t.workspaceId, t.seq] })],
);
