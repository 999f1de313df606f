import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Issue 5, QA sampling: an `auto`-applied write picked for a person to check after the fact.
 * The value is already live; a `wrong` verdict reverts it through a rollback of that change.
 */
export const qaReviews = pgTable(
  'qa_reviews',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    changeId: uuid('change_id').notNull(),
    changeSetId: uuid('change_set_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    objectType: text('object_type').notNull(),
    recordId: text('record_id').notNull(),
    property: text('property').notNull(),
    beforeValue: text('before_value'),
    appliedValue: text('applied_value'),
    status: text('status', { enum: ['open', 'correct', 'wrong'] }).notNull(),
    sampledAt: instant('sampled_at').notNull(),
    reviewedBy: text('reviewed_by'),
    reviewedAt: instant('reviewed_at'),
    note: text('note'),
    /** The rollback that reverted a wrong value. */
    rollbackId: uuid('rollback_id'),
  },
  (t) => [
    uniqueIndex('qa_reviews_change').on(t.changeId),
    index('qa_reviews_queue').on(t.workspaceId, t.status, t.sampledAt),
    index('qa_reviews_agent').on(t.workspaceId, t.agentId),
  ],
);

/**
 * Issue 5, dual control: a change to governance itself that waits for a second admin (releasing
 * a workspace kill switch, raising a cap by more than the set share, lowering a tier).
 */
export const governanceRequests = pgTable(
  'governance_requests',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    kind: text('kind', { enum: ['kill_switch_release', 'policy_publish', 'erasure'] }).notNull(),
    /** What takes effect on confirmation: the kill switch, the policy document, or whom to erase. */
    payload: jsonb('payload').notNull(),
    /** Why a second admin is needed, as reason codes with sentences. */
    reasons: jsonb('reasons').notNull(),
    status: text('status', { enum: ['pending', 'confirmed', 'cancelled'] }).notNull(),
    requestedBy: text('requested_by').notNull(),
    requestedAt: instant('requested_at').notNull(),
    decidedBy: text('decided_by'),
    decidedAt: instant('decided_at'),
    /** Set while a confirmation takes effect; a confirmation cut short (a crash) frees it at this time. */
    confirmingUntil: instant('confirming_until'),
  },
  (t) => [index('governance_requests_open').on(t.workspaceId, t.status)],
);
