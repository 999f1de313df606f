import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { APPROVAL_STATUSES } from '../../../shared/approval-api.ts';
import { PERSON_ROLES } from '../domain/approval-lifecycle.ts';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Issue 5: all held writes of one change set on one record, decided together or per property.
 * Our database is the source of truth; the HubSpot approval object (later) only mirrors it.
 */
export const approvals = pgTable(
  'approvals',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    changeSetId: uuid('change_set_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    batchId: text('batch_id').notNull(),
    objectType: text('object_type').notNull(),
    recordId: text('record_id').notNull(),
    policyVersion: integer('policy_version').notNull(),
    /** The strictest tier among the record's held writes: one approval, one rule for who must agree. */
    tier: text('tier', { enum: ['approval', 'two_person'] }).notNull(),
    status: text('status', { enum: APPROVAL_STATUSES }).notNull(),
    expiresAt: instant('expires_at').notNull(),
    /** hubspot_owner_id when the agent proposed: a rep decides only on records they own. */
    recordOwnerId: text('record_owner_id'),
    /** The person the agent acted for; never counts as an approver. */
    delegatedUserId: text('delegated_user_id'),
    createdAt: instant('created_at').notNull(),
    decidedAt: instant('decided_at'),
    /** The people whose decisions settled it (approvers, or the one who rejected), as CRM user ids. */
    decidedBy: text('decided_by').array().notNull().default([]),
    /**
     * Set while one request writes the approved values to the CRM, so a concurrent or retried
     * apply does not write twice; cleared when the write fails (the approval stays `approved`).
     */
    applyingSince: instant('applying_since'),
    /** Why the approval ended as it did (the rejection reason, the CRM's refusal, what went stale). */
    message: text('message'),
    /** Failed writes of an approved approval are retried by a job from this time on, with backoff. */
    nextApplyAt: instant('next_apply_at'),
    applyAttempts: integer('apply_attempts').notNull().default(0),
    /**
     * The CRM mirror (shadow properties, pending count, approval object) trails our state: every
     * transition bumps `mirror_seq`; the mirror job writes the CRM and records the seq it wrote.
     */
    mirrorSeq: integer('mirror_seq').notNull().default(1),
    mirroredSeq: integer('mirrored_seq').notNull().default(0),
    /** A mirror job's lease on writing this approval, or its backoff after a failed write. */
    mirrorHeldUntil: instant('mirror_held_until'),
    /** The approval's record in the CRM's approval object, once created. */
    crmObjectId: text('crm_object_id'),
  },
  (t) => [
    index('approvals_record').on(t.workspaceId, t.recordId),
    index('approvals_batch').on(t.workspaceId, t.batchId),
    index('approvals_agent').on(t.workspaceId, t.agentId),
    index('approvals_status_expiry').on(t.status, t.expiresAt),
    // The console's inbox pages a workspace's pending approvals newest first, by keyset (issue 19).
    index('approvals_inbox').on(t.workspaceId, t.status, t.createdAt, t.id),
    index('approvals_mirror_due').on(t.workspaceId).where(sql`${t.mirrorSeq} > ${t.mirroredSeq}`),
    index('approvals_apply_due').on(t.nextApplyAt).where(sql`${t.status} = 'approved'`),
  ],
);

/** One held property of an approval: what the agent proposed, what a person edited it to, who approved. */
export const approvalItems = pgTable(
  'approval_items',
  {
    // No foreign key: its per-row check trigger cost 10 ms of the 2,000 items a 10,000-field change
    // set holds, and items are written only beside their approvals, by insertApprovals.
    approvalId: uuid('approval_id').notNull(),
    property: text('property').notNull(),
    /** The `changes` row that held this write. */
    changeId: uuid('change_id').notNull(),
    /** The value when the agent proposed; applying checks the CRM still holds it (staleness). */
    beforeValue: text('before_value'),
    proposedValue: text('proposed_value'),
    /** Whether a person edited the proposal; `edited_value` may then be null (they cleared it). */
    edited: boolean('edited').notNull().default(false),
    editedValue: text('edited_value'),
    status: text('status', { enum: ['pending', 'approved', 'rejected'] }).notNull(),
    approvedBy: text('approved_by').array().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.approvalId, t.property] }),
    // A rollback reads what an edited approval wrote by its change (issue 19); few items are edited.
    index('approval_items_edited_change').on(t.changeId).where(sql`${t.edited}`),
  ],
);

/** People who decide approvals, by CRM user id; their role is looked up here, never taken from a request. */
export const people = pgTable(
  'people',
  {
    workspaceId: uuid('workspace_id').notNull(),
    crmUserId: text('crm_user_id').notNull(),
    role: text('role', { enum: PERSON_ROLES }).notNull(),
    /** Their HubSpot owner id (not their user id): `hubspot_owner_id` names owners, and a rep decides on records they own. */
    crmOwnerId: text('crm_owner_id'),
    updatedAt: instant('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.crmUserId] })],
);
