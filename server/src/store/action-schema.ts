import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const ACTION_STATUSES = [
  'refused',
  'pending',
  'released',
  'completed',
  'sent',
  'bounced',
  'failed',
  'rejected',
  'expired',
  'stopped',
] as const;
export const OUTCOME_KINDS = ['sent', 'bounced', 'failed', 'replied', 'unsubscribed', 'complained'] as const;
export const STOP_REASONS = ['replied', 'unsubscribed', 'hard_bounced', 'complained'] as const;

/**
 * Issue 5, drafts: an agent's non-field action on one record (an email to send, a task or a note
 * to create), as the policy decided it. Held ones wait for people; released emails are sent by
 * the agent, released tasks and notes are created by this server.
 */
export const actions = pgTable(
  'actions',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    kind: text('kind', { enum: ['send_email', 'create_task', 'create_note'] }).notNull(),
    objectType: text('object_type').notNull(),
    recordId: text('record_id').notNull(),
    policyVersion: integer('policy_version').notNull(),
    /** Null when a stop rule refused it before any policy was asked. */
    tier: text('tier', { enum: ['auto', 'approval', 'two_person', 'deny'] }),
    status: text('status', { enum: ACTION_STATUSES }).notNull(),
    reasons: text('reasons').array().notNull(),
    /** What the agent proposed (to, subject, body, due date...), as validated by shared/action-api.ts. */
    content: jsonb('content').notNull(),
    /** What a person changed it to before approving; the agent's version stays in `content`. */
    editedContent: jsonb('edited_content'),
    evidence: jsonb('evidence').notNull(),
    /** The template family the agent tagged the draft with (issue 21), for template kill switches. */
    template: text('template'),
    /** Lower-cased recipient of a send_email. */
    recipientEmail: text('recipient_email'),
    recordOwnerId: text('record_owner_id'),
    delegatedUserId: text('delegated_user_id'),
    /** Distinct people who approved the content as it now stands (two_person needs two). */
    approvedBy: text('approved_by').array().notNull().default(sql`'{}'`),
    expiresAt: instant('expires_at'),
    /** SHA-256 of the released content; the release token vouches for exactly this. */
    contentHash: text('content_hash'),
    releaseTokenHash: text('release_token_hash'),
    /** The release token sealed with the secrets key, so the agent can read it again. */
    releaseTokenSealed: text('release_token_sealed'),
    releasedAt: instant('released_at'),
    decidedAt: instant('decided_at'),
    /** The task or note this server created in the CRM for a released create_task or create_note. */
    crmObjectId: text('crm_object_id'),
    /** The people whose decisions settled a held draft: its approvers once released, or the one who rejected it. */
    decidedBy: text('decided_by').array().notNull().default(sql`'{}'`),
    message: text('message'),
    /**
     * A held draft is an approval too, mirrored into the CRM's approval object like one: each
     * change to a held draft bumps `mirror_seq` (0 for drafts never held, which are not mirrored);
     * the mirror job writes the CRM and records the seq it wrote.
     */
    mirrorSeq: integer('mirror_seq').notNull().default(0),
    mirroredSeq: integer('mirrored_seq').notNull().default(0),
    /** A mirror job's lease on writing this draft, or its backoff after a failed write. */
    mirrorHeldUntil: instant('mirror_held_until'),
    /** The draft's record in the CRM's approval object, once created (not the task or note: that is `crm_object_id`). */
    approvalObjectId: text('approval_object_id'),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [
    index('actions_record').on(t.workspaceId, t.recordId),
    index('actions_agent').on(t.workspaceId, t.agentId),
    index('actions_status_expiry').on(t.status, t.expiresAt),
    uniqueIndex('actions_idempotency').on(t.workspaceId, t.agentId, t.idempotencyKey),
    index('actions_mirror_due').on(t.workspaceId).where(sql`${t.mirrorSeq} > ${t.mirroredSeq}`),
  ],
);

/** What the agent reported after sending (sent, bounced, failed) and what it learned later (replied, unsubscribed, complained). */
export const actionOutcomes = pgTable(
  'action_outcomes',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    actionId: uuid('action_id')
      .notNull()
      .references(() => actions.id),
    outcome: text('outcome', { enum: OUTCOME_KINDS }).notNull(),
    providerMessageId: text('provider_message_id'),
    detail: text('detail'),
    /** The note that logged this outcome on the record's timeline in the CRM. */
    crmNoteId: text('crm_note_id'),
    reportedAt: instant('reported_at').notNull(),
  },
  (t) => [index('action_outcomes_action').on(t.actionId)],
);

/** Contacts no agent may email again: they replied, unsubscribed, bounced hard or complained (compliance, whatever the policy says). */
export const contactStops = pgTable(
  'contact_stops',
  {
    workspaceId: uuid('workspace_id').notNull(),
    contactId: text('contact_id').notNull(),
    reason: text('reason', { enum: STOP_REASONS }).notNull(),
    actionId: uuid('action_id').notNull(),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.contactId, t.reason] })],
);
