import { and, asc, eq, gt, gte, inArray, lt, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { RollbackSelector } from '../../../shared/rollback-api.ts';
import type { Db, Tx } from './database.ts';
import { agents, changeSets, changes, recordPropertyChanges } from './schema.ts';

export interface RecordKey {
  objectType: string;
  recordId: string;
}

export interface SelectedChangeRow extends RecordKey {
  changeId: string;
  changeSetId: string;
  property: string;
  before: string | null;
  written: string | null;
  at: Date;
}

export interface OtherChangeRow extends RecordKey {
  property: string;
  value: string | null;
  at: Date;
  /** A field-history kind (issue 6) or 'agent' for a change from our own records. */
  kind: string;
  who: string | null;
}

/** Applied changes that wrote something, narrowed by every part of the selector, in one workspace. */
function selectedWhere(workspaceId: string, selector: RollbackSelector, decision: 'applied' | 'pending_approval' = 'applied'): SQL {
  const conditions: SQL[] = [eq(changes.workspaceId, workspaceId), eq(changeSets.workspaceId, workspaceId), eq(changes.decision, decision)];
  if (decision === 'applied') conditions.push(sql`${changes.beforeValue} is distinct from ${changes.proposedValue}`);
  if (selector.batchId !== undefined) conditions.push(eq(changeSets.batchId, selector.batchId));
  if (selector.agentId !== undefined) conditions.push(eq(changeSets.agentId, selector.agentId));
  if (selector.since !== undefined) conditions.push(gte(changeSets.createdAt, new Date(selector.since)));
  if (selector.until !== undefined) conditions.push(lt(changeSets.createdAt, new Date(selector.until)));
  if (selector.changeIds !== undefined) conditions.push(inArray(changes.id, selector.changeIds));
  if (selector.recordIds !== undefined) conditions.push(inArray(changes.recordId, selector.recordIds));
  return and(...conditions)!;
}

/**
 * The next page of records the selection touches, after `after`, in (object type, record id)
 * order: the plan walks the selection page by page and never holds it whole.
 */
export async function selectedRecordsPage(db: Db | Tx, query: { workspaceId: string; selector: RollbackSelector; after: RecordKey | null; limit: number; decision?: 'applied' | 'pending_approval' }): Promise<RecordKey[]> {
  const where = selectedWhere(query.workspaceId, query.selector, query.decision);
  const after = query.after
    ? or(gt(changeSets.objectType, query.after.objectType), and(eq(changeSets.objectType, query.after.objectType), gt(changes.recordId, query.after.recordId)))!
    : undefined;
  return db
    .selectDistinct({ objectType: changeSets.objectType, recordId: changes.recordId })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    .where(after ? and(where, after) : where)
    .orderBy(asc(changeSets.objectType), asc(changes.recordId))
    .limit(query.limit);
}

/** The selection's changes on these records (one object type), oldest first per field. */
export async function selectedChangesOf(db: Db | Tx, query: { workspaceId: string; selector: RollbackSelector; objectType: string; recordIds: readonly string[]; decision?: 'applied' | 'pending_approval' }): Promise<SelectedChangeRow[]> {
  if (query.recordIds.length === 0) return [];
  return db
    .select({
      objectType: changeSets.objectType,
      recordId: changes.recordId,
      changeId: changes.id,
      changeSetId: changes.changeSetId,
      property: changes.property,
      before: changes.beforeValue,
      written: changes.proposedValue,
      at: changeSets.createdAt,
    })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    .where(and(selectedWhere(query.workspaceId, query.selector, query.decision), eq(changeSets.objectType, query.objectType), inArray(changes.recordId, [...query.recordIds])))
    .orderBy(asc(changes.recordId), asc(changes.property), asc(changeSets.createdAt), asc(changes.ordinal));
}

/**
 * Everything else that touched these records since `since`: our own applied changes (any agent,
 * any rollback) and what HubSpot's webhooks told us (issue 6's field history). Our own writes
 * echoed by a webhook are left out of the history, as the change they echo is already here.
 * The caller drops the selection's own changes by id.
 */
export async function otherChangesOf(db: Db | Tx, query: { workspaceId: string; objectType: string; recordIds: readonly string[]; since: Date; excludeChangeIds: readonly string[] }): Promise<OtherChangeRow[]> {
  if (query.recordIds.length === 0) return [];
  const recordIds = [...query.recordIds];
  const ours = await db
    .select({ recordId: changes.recordId, property: changes.property, value: changes.proposedValue, at: changeSets.createdAt, who: agents.name })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    .innerJoin(agents, eq(agents.id, changeSets.agentId))
    .where(
      and(
        eq(changes.workspaceId, query.workspaceId),
        eq(changeSets.objectType, query.objectType),
        inArray(changes.recordId, recordIds),
        inArray(changes.decision, ['applied', 'applying']),
        gte(changeSets.createdAt, query.since),
        ...(query.excludeChangeIds.length > 0 ? [notInArray(changes.id, [...query.excludeChangeIds])] : []),
      ),
    );
  const reported = await db
    .select({ recordId: recordPropertyChanges.recordId, property: recordPropertyChanges.property, value: recordPropertyChanges.value, at: recordPropertyChanges.occurredAt, kind: recordPropertyChanges.kind, sourceId: recordPropertyChanges.sourceId })
    .from(recordPropertyChanges)
    .where(
      and(
        eq(recordPropertyChanges.workspaceId, query.workspaceId),
        eq(recordPropertyChanges.objectType, query.objectType),
        inArray(recordPropertyChanges.recordId, recordIds),
        ne(recordPropertyChanges.property, ''),
        gte(recordPropertyChanges.occurredAt, query.since),
        or(ne(recordPropertyChanges.kind, 'own_write'), sql`${recordPropertyChanges.changeId} is null`),
      ),
    );
  return [
    ...ours.map((row) => ({ objectType: query.objectType, recordId: row.recordId, property: row.property, value: row.value, at: row.at, kind: 'agent', who: row.who })),
    ...reported.map((row) => ({ objectType: query.objectType, recordId: row.recordId, property: row.property, value: row.value, at: row.at, kind: row.kind, who: who(row.sourceId) })),
  ];
}

/** HubSpot's sourceId names a person as "userId:9001"; keep the id. */
function who(sourceId: string | null): string | null {
  if (sourceId === null) return null;
  return sourceId.startsWith('userId:') ? sourceId.slice('userId:'.length) : sourceId;
}
