import { and, arrayContains, desc, eq, inArray, isNotNull, lte, not, or, sql, type SQL } from 'drizzle-orm';
import { EXPIRED_REASON, type heldEntrySelection } from '../domain/held-entry.ts';
import type { Db, Tx } from './database.ts';
import { changeSets, delegations, recordAssociations, recordCreations } from './schema.ts';

/*
 * Held creations and associations (issue 21) as people find them: listed beside approvals, in the
 * inbox and on the record card, and expired by the approval job. A held entry is one given an
 * expiry when it was decided (tier `approval` or `two_person`), whatever became of it since.
 */

/** What of its change set a held entry is shown with. */
export interface HeldEntryContext {
  batchId: string;
  agentId: string;
  policyVersion: number;
  createdAt: Date;
  /** The person the agent acted for, who may not approve it; null without a delegation. */
  delegatedUserId: string | null;
}
export type HeldCreation = typeof recordCreations.$inferSelect & HeldEntryContext;
export type HeldAssociation = typeof recordAssociations.$inferSelect & HeldEntryContext;

export interface HeldEntryFilter {
  ids?: readonly string[] | undefined;
  /** Records the entry is about, optionally of one object type (see each listing). */
  record?: { recordIds: readonly string[]; objectType?: string | undefined } | undefined;
  batchId?: string | undefined;
  agentId?: string | undefined;
  /** heldEntrySelection's answer for the status asked for; omitted, every status. */
  selection?: NonNullable<ReturnType<typeof heldEntrySelection>> | undefined;
  createdBefore?: Date | undefined;
  limit: number;
}

const context = {
  batchId: changeSets.batchId,
  agentId: changeSets.agentId,
  policyVersion: changeSets.policyVersion,
  createdAt: changeSets.createdAt,
  delegatedUserId: delegations.crmUserId,
};

/**
 * Held creations, newest first: `record` finds the one that created the record and one that
 * likely duplicates it (a person deciding it looks at that record).
 */
export async function listHeldCreations(db: Db | Tx, workspaceId: string, filter: HeldEntryFilter) {
  const { record } = filter;
  const about =
    record &&
    and(
      or(
        inArray(recordCreations.recordId, [...record.recordIds]),
        inArray(recordCreations.duplicateOf, [...record.recordIds]),
      ),
      record.objectType === undefined ? undefined : eq(recordCreations.objectType, record.objectType),
    );
  const rows = await db
    .select({ entry: recordCreations, ...context })
    .from(recordCreations)
    .innerJoin(changeSets, eq(changeSets.id, recordCreations.changeSetId))
    .leftJoin(delegations, eq(delegations.id, changeSets.delegationId))
    .where(heldWhere(recordCreations, workspaceId, filter, about))
    .orderBy(desc(changeSets.createdAt), desc(recordCreations.id))
    .limit(filter.limit);
  return rows.map(({ entry, ...rest }): HeldCreation => ({ ...entry, ...rest }));
}

/** Held associations, newest first: `record` finds those from the record and those to it. */
export async function listHeldAssociations(db: Db | Tx, workspaceId: string, filter: HeldEntryFilter) {
  const { record } = filter;
  const about =
    record &&
    or(
      and(
        inArray(recordAssociations.recordId, [...record.recordIds]),
        record.objectType === undefined ? undefined : eq(recordAssociations.objectType, record.objectType),
      ),
      and(
        inArray(recordAssociations.toRecordId, [...record.recordIds]),
        record.objectType === undefined ? undefined : eq(recordAssociations.toObjectType, record.objectType),
      ),
    );
  const rows = await db
    .select({ entry: recordAssociations, ...context })
    .from(recordAssociations)
    .innerJoin(changeSets, eq(changeSets.id, recordAssociations.changeSetId))
    .leftJoin(delegations, eq(delegations.id, changeSets.delegationId))
    .where(heldWhere(recordAssociations, workspaceId, filter, about))
    .orderBy(desc(changeSets.createdAt), desc(recordAssociations.id))
    .limit(filter.limit);
  return rows.map(({ entry, ...rest }): HeldAssociation => ({ ...entry, ...rest }));
}

function heldWhere(
  table: typeof recordCreations | typeof recordAssociations,
  workspaceId: string,
  filter: HeldEntryFilter,
  about: SQL | undefined,
): SQL | undefined {
  const { selection } = filter;
  const expired = arrayContains(table.reasons, [EXPIRED_REASON]);
  return and(
    eq(table.workspaceId, workspaceId),
    eq(changeSets.workspaceId, workspaceId),
    isNotNull(table.expiresAt),
    filter.ids === undefined ? undefined : inArray(table.id, [...filter.ids]),
    about,
    filter.batchId === undefined ? undefined : eq(changeSets.batchId, filter.batchId),
    filter.agentId === undefined ? undefined : eq(changeSets.agentId, filter.agentId),
    filter.createdBefore === undefined ? undefined : lte(changeSets.createdAt, filter.createdBefore),
    selection === undefined ? undefined : inArray(table.decision, [...selection.decisions]),
    selection?.expired === undefined ? undefined : selection.expired ? expired : not(expired),
  );
}

/** The tables of held entries, named for the expiry's statements. */
export type HeldEntryTable = 'record_creations' | 'record_associations';

export async function workspacesWithExpiredEntries(db: Db, table: HeldEntryTable, now: Date): Promise<string[]> {
  const found = await rows<{ workspace_id: string }>(
    db,
    sql`select distinct workspace_id from ${sql.identifier(table)}
        where decision = 'pending_approval' and expires_at <= ${now.toISOString()}`,
  );
  return found.map((row) => row.workspace_id);
}

/** A held entry the expiry refused, with what its audit event names. */
export interface ExpiredEntry {
  id: string;
  changeSetId: string;
  objectType: string;
  /** The association's record; null for a creation, which made none. */
  recordId: string | null;
  expiresAt: string;
  batchId: string;
  agentId: string;
  policyVersion: number;
}

/**
 * Refuses up to `limit` of the workspace's held entries past their expiry, for good: `denied`,
 * with the reason `approval_expired`. Rows a decision holds locked are skipped (it sees the expiry
 * itself, or the next sweep takes them).
 */
export async function expireHeldEntries(
  tx: Tx,
  table: HeldEntryTable,
  query: { workspaceId: string; now: Date; limit: number },
): Promise<ExpiredEntry[]> {
  const entries = sql.identifier(table);
  const now = query.now.toISOString();
  const expired = await rows<Omit<ExpiredEntry, 'recordId'> & { recordId: string | null }>(
    tx,
    sql`with due as (
          select id from ${entries}
          where workspace_id = ${query.workspaceId} and decision = 'pending_approval' and expires_at <= ${now}
          order by expires_at limit ${query.limit}
          for update skip locked)
        update ${entries} e set
          decision = 'denied',
          reasons = array_append(e.reasons, ${EXPIRED_REASON}),
          message = 'Nobody decided before the approval expired.',
          decided_at = ${now}
        from due, change_sets s
        where e.id = due.id and s.id = e.change_set_id
        returning e.id, e.change_set_id as "changeSetId", e.object_type as "objectType",
          ${table === 'record_associations' ? sql`e.record_id` : sql`null::text`} as "recordId",
          to_json(e.expires_at) #>> '{}' as "expiresAt",
          s.batch_id as "batchId", s.agent_id as "agentId", s.policy_version as "policyVersion"`,
  );
  return expired;
}

async function rows<T>(db: Db | Tx, statement: SQL): Promise<T[]> {
  // node-postgres and PGlite both answer with `rows`.
  return ((await db.execute(statement)) as unknown as { rows: T[] }).rows;
}
