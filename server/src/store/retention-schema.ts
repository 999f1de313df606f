import { sql } from 'drizzle-orm';
import { bigint, index, integer, json, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Personal values kept apart from an audit event (issue 21, point 11; domain/audit-personal.ts):
 * the event holds "[redacted]" and a salted digest of `values`; deleting the row redacts for good
 * and leaves the chain verifying. Not append-only. Foreign keys are in the migration only.
 */
export const auditPersonalData = pgTable(
  'audit_personal_data',
  {
    workspaceId: uuid('workspace_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    occurredAt: at('occurred_at').notNull(),
    objectType: text('object_type'),
    recordId: text('record_id'),
    emails: text('emails').array().notNull().default(sql`'{}'`),
    salt: text('salt').notNull(),
    values: json('values').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.seq], name: 'audit_personal_data_pkey' }),
    index('audit_personal_data_time').on(t.workspaceId, t.occurredAt),
    index('audit_personal_data_record').on(t.workspaceId, t.objectType, t.recordId),
    index('audit_personal_data_emails').using('gin', t.emails),
  ],
);

/** What a running retention pass fixed when it started and has removed so far. */
export interface RetentionRun {
  startedAt: string;
  /** Per kind, the instant before which rows go (ISO); a kind kept for ever has none. */
  cutoffs: Partial<Record<RetentionKind, string>>;
  removed: Record<RetentionKind, number>;
  /** Kinds with nothing left before their cutoff. */
  done: RetentionKind[];
}
export const RETENTION_KINDS = ['changeRecords', 'drafts', 'webhookPayloads', 'auditPersonalData'] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

/** A workspace's retention periods (days; null keeps for ever) and its retention job: the row is the job. */
export const workspaceRetention = pgTable(
  'workspace_retention',
  {
    workspaceId: uuid('workspace_id').primaryKey(),
    changeRecordsDays: integer('change_records_days'),
    draftsDays: integer('drafts_days'),
    webhookPayloadsDays: integer('webhook_payloads_days'),
    auditPersonalDataDays: integer('audit_personal_data_days'),
    nextRunAt: at('next_run_at').notNull(),
    run: json('run').$type<RetentionRun>(),
    leaseHolder: text('lease_holder'),
    leaseExpiresAt: at('lease_expires_at'),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [index('workspace_retention_due').on(t.nextRunAt)],
);
