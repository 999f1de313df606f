import { and, asc, eq, gt, gte, inArray, lt, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { DECISIONS } from '../../../shared/agent-api.ts';
import type { RollbackSelector } from '../../../shared/rollback-api.ts';
import type { Db, Tx } from './database.ts';
import { agents, approvalItems, changeSets, changes, recordPropertyChanges } from './schema.ts';

export interface SelectedChangeRow {
  objectType: string;
  recordId: string;
  changeId: string;
  changeSetId: string;
  property: string;
  before: string | null;
  written: string | null;
  at: Date;
}

export interface OtherChangeRow {
  objectType: string;
  recordId: string;
  property: string;
  value: string | null;
  at: Date;
  /** A field-history kind (issue 6) or 'agent' for a change from our own records. */
  kind: string;
  who: string | null;
}

/**
 * The value a change wrote: the agent's proposal, or the value a person edited it to before
 * approving (issue 19: read as the proposal, an edited approval's own write was a conflict). The
 * edited value may be null (cleared), hence the one-element array.
 */
const writtenValue = sql<string | null>`(coalesce((select array[${approvalItems.editedValue}] from ${approvalItems}
  where ${approvalItems.changeId} = ${changes.id} and ${approvalItems.edited} limit 1), array[${changes.proposedValue}]))[1]`;

/** Applied changes that wrote something, narrowed by every part of the selector, in one workspace. */
function selectedWhere(
  workspaceId: string,
  selector: RollbackSelector,
  decision: 'applied' | 'pending_approval' = 'applied',
): SQL {
  const conditions: SQL[] = [eq(changes.decision, decision), selectorWhere(workspaceId, selector)];
  if (decision === 'applied') conditions.push(sql`${changes.beforeValue} is distinct from ${changes.proposedValue}`);
  return and(...conditions)!;
}

/** The changes the selector names in one workspace, whatever their decision. */
function selectorWhere(workspaceId: string, selector: RollbackSelector): SQL {
  const conditions: SQL[] = [eq(changes.workspaceId, workspaceId), eq(changeSets.workspaceId, workspaceId)];
  if (selector.batchId !== undefined) conditions.push(eq(changeSets.batchId, selector.batchId));
  if (selector.agentId !== undefined) conditions.push(eq(changeSets.agentId, selector.agentId));
  if (selector.since !== undefined) conditions.push(gte(changeSets.createdAt, new Date(selector.since)));
  if (selector.until !== undefined) conditions.push(lt(changeSets.createdAt, new Date(selector.until)));
  if (selector.changeIds !== undefined) conditions.push(inArray(changes.id, selector.changeIds));
  if (selector.recordIds !== undefined) conditions.push(inArray(changes.recordId, selector.recordIds));
  return and(...conditions)!;
}

/**
 * A change the selector names whose decision is none this server knows (edited in the database),
 * if any: a rollback would skip it as not applied, so it is not planned until the row is fixed.
 */
export async function findDamagedSelectedChange(
  db: Db | Tx,
  workspaceId: string,
  selector: RollbackSelector,
): Promise<{ changeSetId: string; changeId: string; decision: string } | undefined> {
  const [row] = await db
    .select({ changeSetId: changes.changeSetId, changeId: changes.id, decision: changes.decision })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    .where(and(selectorWhere(workspaceId, selector), notInArray(changes.decision, [...DECISIONS])))
    .limit(1);
  return row;
}

/**
 * The next page of record ids the selection touches, after `after`, in record id order: the dry
 * run and the approvals sweep walk the selection page by page and never hold it whole. Keyed by
 * record id alone so the walk follows the changes_record index instead of sorting the selection
 * for every page.
 */
export async function selectedRecordsPage(
  db: Db | Tx,
  query: {
    workspaceId: string;
    selector: RollbackSelector;
    after: string | null;
    limit: number;
    decision?: 'applied' | 'pending_approval';
  },
): Promise<string[]> {
  const where = selectedWhere(query.workspaceId, query.selector, query.decision);
  const rows = await db
    .selectDistinct({ recordId: changes.recordId })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    .where(query.after === null ? where : and(where, gt(changes.recordId, query.after)))
    .orderBy(asc(changes.recordId))
    .limit(query.limit);
  return rows.map((row) => row.recordId);
}

/** The selection's changes on these records, oldest first per field. */
export async function selectedChangesOf(
  db: Db | Tx,
  query: {
    workspaceId: string;
    selector: RollbackSelector;
    recordIds: readonly string[];
    decision?: 'applied' | 'pending_approval';
  },
): Promise<SelectedChangeRow[]> {
  if (query.recordIds.length === 0) return [];
  return db
    .select({
      objectType: changeSets.objectType,
      recordId: changes.recordId,
      changeId: changes.id,
      changeSetId: changes.changeSetId,
      property: changes.property,
      before: changes.beforeValue,
      written: writtenValue,
      at: changeSets.createdAt,
    })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    .where(
      and(
        selectedWhere(query.workspaceId, query.selector, query.decision),
        inArray(changes.recordId, [...query.recordIds]),
      ),
    )
    .orderBy(
      asc(changeSets.objectType),
      asc(changes.recordId),
      asc(changes.property),
      asc(changeSets.createdAt),
      asc(changes.ordinal),
    );
}

/**
 * Stores the selection as rollback items, one per object type × record × property, in one
 * statement: Postgres groups and orders it, so no process holds the selection (100,000 fields
 * and more). Each item keeps the facts the planner needs (issue 7's selectionBounds): its
 * changes oldest first, when the earliest was made, the value before it, and the value the
 * latest wrote. Returns how many items were stored. The three aggregates share one order (the
 * latest's value is the last element), so the database sorts the selection once instead of each
 * field's changes again per aggregate: grouping 8,000 fields took about 220 ms on PGlite, now 130.
 */
export async function insertSelectionAsItems(
  tx: Tx,
  query: { rollbackId: string; workspaceId: string; selector: RollbackSelector },
): Promise<number> {
  const oldestFirst = sql`order by ${changeSets.createdAt}, ${changes.ordinal}`;
  const result = await tx.execute(sql`
    with inserted as (insert into rollback_items (rollback_id, seq, workspace_id, object_type, record_id, property, change_ids, selected_from, restore_value, expected_value, state)
    select ${query.rollbackId}, (row_number() over (order by object_type, record_id, property))::int - 1, ${query.workspaceId},
      object_type, record_id, property, change_ids, selected_from, restore_value, expected_value, 'pending'
    from (
      select ${changeSets.objectType} as object_type, ${changes.recordId} as record_id, ${changes.property} as property,
        array_agg(${changes.id} ${oldestFirst}) as change_ids,
        min(${changeSets.createdAt}) as selected_from,
        (array_agg(${changes.beforeValue} ${oldestFirst}))[1] as restore_value,
        (array_agg(${writtenValue} ${oldestFirst}))[count(*)::int] as expected_value
      from ${changes} inner join ${changeSets} on ${changeSets.id} = ${changes.changeSetId}
      where ${selectedWhere(query.workspaceId, query.selector)}
      group by ${changeSets.objectType}, ${changes.recordId}, ${changes.property}
    ) as fields
    returning 1)
    select count(*)::int as items from inserted`);
  return (result as unknown as { rows: { items: number }[] }).rows[0]?.items ?? 0;
}

/**
 * Gives the planner the rollback's tables as they are now, where they changed enough for the
 * statistics to mislead it: more rows added or changed since the last ANALYZE than autovacuum's
 * default threshold (50 + 10% of the table), counting the items just inserted, which ANALYZE sees
 * in its own transaction but the counters do not yet. A plan adds thousands of items at once, and
 * the job's queries then pick their plans by these statistics: left as they were (PGlite never
 * refreshes them; Postgres's autovacuum comes later), every step scanned and sorted the whole
 * rollback instead of reading its own page. Only the columns those queries filter on are analyzed:
 * both whole tables at each plan cost about 300 ms of CPU on PGlite for 8,000 items, and `changes`
 * (all the workspaces' history) is analyzed only once it grew.
 */
export async function refreshStatistics(tx: Tx, itemsAdded: number): Promise<void> {
  const result = await tx.execute(sql`
    select c.relname as "table"
    from pg_class c join pg_stat_user_tables s on s.relid = c.oid
    where c.oid in ('rollback_items'::regclass, 'changes'::regclass)
      and s.n_mod_since_analyze + case when c.relname = 'rollback_items' then ${itemsAdded}::int else 0 end
        > 50 + 0.1 * greatest(c.reltuples, 0)`);
  const stale = new Set((result as unknown as { rows: { table: string }[] }).rows.map((row) => row.table));
  if (stale.has('rollback_items')) await tx.execute(sql`analyze rollback_items (rollback_id, seq, state)`);
  if (stale.has('changes')) await tx.execute(sql`analyze changes (workspace_id, change_set_id, record_id, decision)`);
}

/**
 * Everything else that touched these records since `since`: our own changes that wrote a value
 * (any agent, any rollback) and what HubSpot's webhooks told us (issue 6's field history). Our own writes
 * echoed by a webhook are left out of the history, as the change they echo is already here.
 * The caller drops the selection's own changes by id.
 */
export async function otherChangesOf(
  db: Db | Tx,
  query: {
    workspaceId: string;
    objectType: string;
    recordIds: readonly string[];
    since: Date;
    excludeChangeIds: readonly string[];
  },
): Promise<OtherChangeRow[]> {
  if (query.recordIds.length === 0) return [];
  // One array parameter each, not one per id: a step's 2,000 records and their change ids as
  // 6,000 parameters cost a tenth of the rollback's CPU to build and bind (issue 20).
  const recordIds = sql.param([...query.recordIds]);
  const ours = await db
    .select({
      recordId: changes.recordId,
      property: changes.property,
      value: writtenValue,
      at: changeSets.createdAt,
      who: agents.name,
    })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    .innerJoin(agents, eq(agents.id, changeSets.agentId))
    .where(
      and(
        eq(changes.workspaceId, query.workspaceId),
        eq(changeSets.objectType, query.objectType),
        sql`${changes.recordId} = any(${recordIds}::text[])`,
        inArray(changes.decision, ['applied', 'applying']),
        // A decision that found the value already there wrote nothing, so it changed nothing since (issue 17).
        sql`not ('value_unchanged' = any(${changes.reasons}))`,
        gte(changeSets.createdAt, query.since),
        ...(query.excludeChangeIds.length > 0
          ? [sql`${changes.id} <> all(${sql.param([...query.excludeChangeIds])}::uuid[])`]
          : []),
      ),
    );
  const reported = await db
    .select({
      recordId: recordPropertyChanges.recordId,
      property: recordPropertyChanges.property,
      value: recordPropertyChanges.value,
      at: recordPropertyChanges.occurredAt,
      kind: recordPropertyChanges.kind,
      sourceId: recordPropertyChanges.sourceId,
    })
    .from(recordPropertyChanges)
    .where(
      and(
        eq(recordPropertyChanges.workspaceId, query.workspaceId),
        eq(recordPropertyChanges.objectType, query.objectType),
        sql`${recordPropertyChanges.recordId} = any(${recordIds}::text[])`,
        ne(recordPropertyChanges.property, ''),
        gte(recordPropertyChanges.occurredAt, query.since),
        or(ne(recordPropertyChanges.kind, 'own_write'), sql`${recordPropertyChanges.changeId} is null`),
      ),
    );
  return [
    ...ours.map((row) => ({
      objectType: query.objectType,
      recordId: row.recordId,
      property: row.property,
      value: row.value,
      at: row.at,
      kind: 'agent',
      who: row.who,
    })),
    ...reported.map((row) => ({
      objectType: query.objectType,
      recordId: row.recordId,
      property: row.property,
      value: row.value,
      at: row.at,
      kind: row.kind,
      who: who(row.sourceId),
    })),
  ];
}

/** HubSpot's sourceId names a person as "userId:9001"; keep the id. */
function who(sourceId: string | null): string | null {
  if (sourceId === null) return null;
  return sourceId.startsWith('userId:') ? sourceId.slice('userId:'.length) : sourceId;
}
