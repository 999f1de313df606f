import { sql } from 'drizzle-orm';
import {
  bigint,
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
import type {
  AlertChannelKind,
  AlertChannelSettings,
  AlertRuleKind,
  AlertRuleParams,
} from '../../../shared/alert-api.ts';
import type { Alert } from '../domain/alerts.ts';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Alerts to people (issue 22, part 3). The workspace foreign keys are in the migration only, so
 * this file need not import schema.ts (which re-exports it) and make a cycle.
 */
export const alertChannels = pgTable(
  'alert_channels',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    name: text('name').notNull(),
    kind: text('kind').$type<AlertChannelKind>().notNull(),
    /** What may be shown: the email addresses and SMTP host; nothing secret. */
    settings: jsonb('settings').$type<AlertChannelSettings>().notNull(),
    /** AES-GCM sealed JSON: the webhook URL (a secret in itself), the signing secret, the SMTP password. */
    secretsEnc: text('secrets_enc').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('alert_channels_workspace_name').on(t.workspaceId, t.name)],
);

export const alertRules = pgTable(
  'alert_rules',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    name: text('name').notNull(),
    kind: text('kind').$type<AlertRuleKind>().notNull(),
    params: jsonb('params').$type<AlertRuleParams>().notNull(),
    channelIds: jsonb('channel_ids').$type<string[]>().notNull(),
    /** One alert per subject per this many minutes; the rest are counted in the next one. */
    windowMinutes: integer('window_minutes').notNull(),
    /** The last audit seq this rule has looked at (rules that watch the chain). */
    cursorSeq: bigint('cursor_seq', { mode: 'number' }).notNull(),
    nextCheckAt: at('next_check_at').notNull(),
    leaseHolder: text('lease_holder'),
    leaseExpiresAt: at('lease_expires_at'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('alert_rules_workspace_name').on(t.workspaceId, t.name),
    index('alert_rules_due').on(t.nextCheckAt),
  ],
);

export const alertSubjects = pgTable(
  'alert_subjects',
  {
    ruleId: uuid('rule_id')
      .notNull()
      .references(() => alertRules.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    raisedAt: at('raised_at').notNull(),
    /** Alerts for this subject held back since `raisedAt`. */
    suppressed: integer('suppressed').notNull().default(0),
  },
  (t) => [primaryKey({ name: 'alert_subjects_pk', columns: [t.ruleId, t.subject] })],
);

export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => alertChannels.id, { onDelete: 'cascade' }),
    alert: jsonb('alert').$type<Alert>().notNull(),
    status: text('status', { enum: ['pending', 'sent', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at').notNull(),
    lastError: text('last_error'),
    leaseHolder: text('lease_holder'),
    leaseExpiresAt: at('lease_expires_at'),
    sentAt: at('sent_at'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [index('alert_deliveries_due').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`)],
);
