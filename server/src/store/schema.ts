import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  json,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { KILL_SWITCH_SCOPES } from '../../../shared/kill-switch.ts';
import { workspaces } from './workspace-schema.ts';

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

export { crmConnections, workspaces } from './workspace-schema.ts';

export const agents = pgTable(
  'agents',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    name: text('name').notNull(),
    role: text('role', { enum: ['prospecting', 'enrichment', 'outreach', 'routing', 'admin'] }).notNull(),
    status: text('status', { enum: ['active', 'paused', 'revoked'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('agents_workspace_name').on(t.workspaceId, t.name)],
);

/** An agent may act for a person only through one of these; it names the person and expires. */
export const delegations = pgTable('delegations', {
  id: uuid('id').primaryKey(),
  workspaceId: uuid('workspace_id')
    .notNull()
    .references(() => workspaces.id),
  agentId: uuid('agent_id')
    .notNull()
    .references(() => agents.id),
  crmUserId: text('crm_user_id').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  createdAt: createdAt(),
});

export const policyVersions = pgTable(
  'policy_versions',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    version: integer('version').notNull(),
    document: jsonb('document').notNull(),
    publishedBy: text('published_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.version] })],
);

export const killSwitches = pgTable(
  'kill_switches',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    scope: text('scope', { enum: KILL_SWITCH_SCOPES }).notNull(),
    /**
     * '' for the workspace scope, the agent id, the action kind, `list:<id>` or `record:<condition>`
     * for a segment, a recipient domain, a template family, or an evidence source (issue 21).
     */
    target: text('target').notNull(),
    /** A segment defined by a record condition: the condition itself. */
    condition: jsonb('condition'),
    engaged: boolean('engaged').notNull(),
    reason: text('reason').notNull(),
    changedBy: text('changed_by').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.scope, t.target] })],
);

export const changeSets = pgTable(
  'change_sets',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id),
    batchId: text('batch_id').notNull(),
    objectType: text('object_type').notNull(),
    policyVersion: integer('policy_version').notNull(),
    delegationId: uuid('delegation_id').references(() => delegations.id),
    status: text('status', { enum: ['applying', 'completed'] }).notNull(),
    createdAt: createdAt(),
    /**
     * Issue 17: the process writing an `applying` change set holds it until `leaseExpiresAt`,
     * renewing while its writes run; once the lease lapses (the process died), any server's
     * recovery job takes it over and settles what the CRM shows landed.
     */
    leaseHolder: text('lease_holder'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('change_sets_workspace_batch').on(t.workspaceId, t.batchId),
    index('change_sets_applying_lease').on(t.leaseExpiresAt).where(sql`${t.status} = 'applying'`),
    // Submissions look up the few still applying under the chain lock (issue 17).
    index('change_sets_applying').on(t.workspaceId).where(sql`${t.status} = 'applying'`),
  ],
);

/** One row per record of a change set: the evidence the agent gave for all of that record's fields. */
export const changeRecords = pgTable(
  'change_records',
  {
    workspaceId: uuid('workspace_id').notNull(),
    // No foreign key: its per-row check trigger doubled the cost of storing a 10,000-row change set,
    // and the rows are written in the same transaction as their change set, by one function.
    changeSetId: uuid('change_set_id').notNull(),
    recordId: text('record_id').notNull(),
    // json, as the audit log's: stored whole and never queried inside.
    evidence: json('evidence').notNull(),
  },
  (t) => [primaryKey({ columns: [t.changeSetId, t.recordId] })],
);

/**
 * One row per record × property of a change set: before, proposed, decision, reasons. Its pages
 * are filled to half (fillfactor 50, migration 0039; drizzle cannot declare it): an applied write's
 * row is settled from `applying` in place, without touching the indexes.
 */
export const changes = pgTable(
  'changes',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    changeSetId: uuid('change_set_id').notNull(), // no foreign key: see change_records
    ordinal: integer('ordinal').notNull(),
    recordId: text('record_id').notNull(),
    property: text('property').notNull(),
    beforeValue: text('before_value'),
    proposedValue: text('proposed_value'),
    tier: text('tier'),
    decision: text('decision', { enum: ['applying', 'applied', 'pending_approval', 'denied', 'failed'] }).notNull(),
    reasons: text('reasons').array().notNull(),
    message: text('message'),
  },
  (t) => [
    index('changes_change_set_record').on(t.changeSetId, t.recordId),
    index('changes_record').on(t.workspaceId, t.recordId),
  ],
);

/** One row per creation entry of a change set (issue 21); `recordId` is set once the CRM created the record. */
export const recordCreations = pgTable(
  'record_creations',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    changeSetId: uuid('change_set_id').notNull(), // no foreign key: see change_records
    ordinal: integer('ordinal').notNull(),
    objectType: text('object_type').notNull(),
    properties: json('properties').$type<Record<string, string | null>>().notNull(),
    evidence: json('evidence').notNull(),
    tier: text('tier'),
    decision: text('decision', { enum: ['applying', 'applied', 'pending_approval', 'denied', 'failed'] }).notNull(),
    reasons: text('reasons').array().notNull(),
    duplicateOf: text('duplicate_of'),
    recordId: text('record_id'),
    message: text('message'),
    approvedBy: text('approved_by').array().notNull().default(sql`'{}'`),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    /** When a held entry stopped waiting: approved enough, rejected or expired. */
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
    rolledBackBy: uuid('rolled_back_by'),
    rollbackOutcome: text('rollback_outcome', { enum: ['archived', 'conflict'] }),
    rollbackMessage: text('rollback_message'),
    /** The duplicate check's keys (domain `creationKeys`): later creations are matched against these. */
    emailKey: text('email_key'),
    nameKey: text('name_key'),
  },
  (t) => [
    index('record_creations_change_set').on(t.changeSetId, t.ordinal),
    index('record_creations_record').on(t.workspaceId, t.recordId).where(sql`${t.recordId} is not null`),
    index('record_creations_email_key').on(t.workspaceId, t.emailKey).where(sql`${t.emailKey} is not null`),
    index('record_creations_name_key').on(t.workspaceId, t.nameKey).where(sql`${t.nameKey} is not null`),
    // Held creations: the approvals listing, the inbox and the expiry sweep.
    index('record_creations_held').on(t.workspaceId, t.expiresAt).where(sql`${t.expiresAt} is not null`),
  ],
);

/** Associations an agent asked for in a change set (issue 21), decided and applied like creations. */
export const recordAssociations = pgTable(
  'record_associations',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    changeSetId: uuid('change_set_id').notNull(), // no foreign key: see change_records
    ordinal: integer('ordinal').notNull(),
    objectType: text('object_type').notNull(),
    recordId: text('record_id').notNull(),
    toObjectType: text('to_object_type').notNull(),
    toRecordId: text('to_record_id').notNull(),
    evidence: json('evidence').notNull(),
    tier: text('tier'),
    decision: text('decision', { enum: ['applying', 'applied', 'pending_approval', 'denied', 'failed'] }).notNull(),
    reasons: text('reasons').array().notNull(),
    message: text('message'),
    /** Whether the CRM had the link before we sent it (null until read): a rollback leaves such a link. */
    alreadyLinked: boolean('already_linked'),
    approvedBy: text('approved_by').array().notNull().default(sql`'{}'`),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    /** When a held entry stopped waiting: approved enough, rejected or expired. */
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
    rolledBackBy: uuid('rolled_back_by'),
    rollbackOutcome: text('rollback_outcome', { enum: ['removed', 'conflict'] }),
    rollbackMessage: text('rollback_message'),
  },
  (t) => [
    index('record_associations_change_set').on(t.changeSetId, t.ordinal),
    // Rollbacks select by record id, and erasing a person finds their associations by it.
    index('record_associations_record').on(t.workspaceId, t.recordId),
    // Held associations: the approvals listing, the inbox and the expiry sweep.
    index('record_associations_held').on(t.workspaceId, t.expiresAt).where(sql`${t.expiresAt} is not null`),
  ],
);

/** A retried submission with the same key returns the stored answer instead of acting twice. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    workspaceId: uuid('workspace_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    changeSetId: uuid('change_set_id'),
    createdAt: createdAt(),
    /** Until the change set is attached, the claiming request renews this; lapsed, the claim was abandoned. */
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.agentId, t.key] })],
);

/** Counters behind the daily caps, keyed by the calendar day in the policy's time zone. */
export const usageCounters = pgTable(
  'usage_counters',
  {
    workspaceId: uuid('workspace_id').notNull(),
    scope: text('scope', {
      enum: [
        'agent_writes',
        'record_writes',
        'domain_sends',
        'agent_creates',
        'contact_sends',
        // Issue 21: emails per account per day and per week (`day` then names the week), CRM calls made for an agent.
        'account_sends',
        'account_week_sends',
        'agent_crm_calls',
        // Issue 21: associations an agent made per day.
        'agent_associations',
      ],
    }).notNull(),
    subject: text('subject').notNull(),
    day: text('day').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.scope, t.subject, t.day] })],
);

/** Spend agents reported in evidence (issue 21's budgets), in millionths of the currency, per agent, day and currency. */
export const agentSpend = pgTable(
  'agent_spend',
  {
    workspaceId: uuid('workspace_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    day: text('day').notNull(),
    currency: text('currency').notNull(),
    micros: bigint('micros', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.agentId, t.day, t.currency] })],
);

/** The head of each workspace's audit hash chain; locking it serialises appends and decisions. */
export const auditHeads = pgTable('audit_heads', {
  workspaceId: uuid('workspace_id')
    .primaryKey()
    .references(() => workspaces.id),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
});

/**
 * Append-only (a trigger refuses UPDATE and DELETE); one hash chain per workspace. JSON columns are
 * `json`, not `jsonb`: kept as the text that was written, and checked without being converted,
 * which made storing a change set's 2,000 events a third cheaper; nothing queries inside them.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    workspaceId: uuid('workspace_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    type: text('type').notNull(),
    actor: json('actor').notNull(),
    agentId: uuid('agent_id'),
    batchId: text('batch_id'),
    changeSetId: uuid('change_set_id'),
    objectType: text('object_type'),
    recordId: text('record_id'),
    property: text('property'),
    before: json('before'),
    after: json('after'),
    evidence: json('evidence'),
    reasons: text('reasons').array().notNull().default(sql`'{}'`),
    policyVersion: integer('policy_version'),
    data: json('data'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.seq] }),
    index('audit_events_agent').on(t.workspaceId, t.agentId, t.seq),
    index('audit_events_batch').on(t.workspaceId, t.batchId, t.seq),
    index('audit_events_record').on(t.workspaceId, t.recordId, t.seq),
    index('audit_events_time').on(t.workspaceId, t.occurredAt),
    // The console's search by action kind (issue 19): a rare kind is found without reading the whole log.
    index('audit_events_type').on(t.workspaceId, t.type, t.seq),
    // The console's search by person (issue 19); only events a person did carry a CRM user id.
    index('audit_events_person')
      .on(t.workspaceId, sql`(${t.actor}->>'crmUserId')`, t.seq)
      .where(sql`(${t.actor}->>'crmUserId') is not null`),
  ],
);

export { recordPropertyChanges, webhookDeliveries, webhookEvents } from './webhook-schema.ts';
export { approvalItems, approvals, people } from './approval-schema.ts';
export { rollbackItems, rollbacks } from './rollback-schema.ts';
export { actionOutcomes, actions, contactStops } from './action-schema.ts';
export { governanceRequests, qaReviews } from './governance-schema.ts';
export { teamRoles } from './team-role-schema.ts';
export { auditCheckpointLog, auditCheckpoints } from './audit-checkpoint-schema.ts';
export { consoleSessions, consoleSignInLinks } from './console-schema.ts';
export { siemDestinations } from './siem-schema.ts';
export { alertChannels, alertDeliveries, alertRules, alertSubjects } from './alert-schema.ts';
export { crmEventStreamPositions, crmEventStreams } from './crm-event-stream-schema.ts';
export { agentRegressionCases, agentSafety } from './agent-safety-schema.ts';
export { auditPersonalData, workspaceRetention } from './retention-schema.ts';
export { quarantines, recordReviews } from './quarantine-schema.ts';
