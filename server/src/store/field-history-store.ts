import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { ChangeKind, KnownWrite } from '../domain/crm-change-classification.ts';
import { personalOfEvent, shownWhole } from './audit-store.ts';
import { insertRowsSkippingDuplicates } from './bulk-insert.ts';
import type { Db, Tx } from './database.ts';
import { approvalItems, auditEvents, auditPersonalData, changeSets, changes, recordPropertyChanges } from './schema.ts';

export type FieldChangeRow = typeof recordPropertyChanges.$inferSelect;

export function fieldKey(objectType: string, recordId: string, property: string): string {
  return `${objectType}\u0000${recordId}\u0000${property}`;
}

/** What a change's write sent: a person's edit of a held value (joined below) replaces the agent's proposal. */
const sentValue = sql<string | null>`case when ${approvalItems.changeId} is null
  then ${changes.proposedValue} else ${approvalItems.editedValue} end`;

/**
 * What our app wrote (or was writing) to these records: applied changes, and bypass writes we
 * reverted. One query per kind, whatever the number of events.
 */
export async function findKnownWrites(
  tx: Tx,
  workspaceId: string,
  recordIds: readonly string[],
  properties: readonly string[],
): Promise<Map<string, KnownWrite[]>> {
  const known = new Map<string, KnownWrite[]>();
  if (recordIds.length === 0) return known;
  const add = (key: string, write: KnownWrite) => {
    const list = known.get(key);
    if (list) list.push(write);
    else known.set(key, [write]);
  };
  const applied = await tx
    .select({
      objectType: changeSets.objectType,
      recordId: changes.recordId,
      property: changes.property,
      value: sentValue,
      changeId: changes.id,
      agentId: changeSets.agentId,
    })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    // Only edited items (their partial index): the others wrote the proposal.
    .leftJoin(approvalItems, and(eq(approvalItems.changeId, changes.id), sql`${approvalItems.edited}`))
    .where(
      and(
        eq(changes.workspaceId, workspaceId),
        inArray(changes.recordId, [...recordIds]),
        inArray(changes.property, [...properties]),
        inArray(changes.decision, ['applied', 'applying']),
      ),
    );
  for (const row of applied)
    add(fieldKey(row.objectType, row.recordId, row.property), {
      value: row.value,
      changeId: row.changeId,
      agentId: row.agentId,
    });
  const reverted = await tx
    .select({
      objectType: auditEvents.objectType,
      recordId: auditEvents.recordId,
      property: auditEvents.property,
      after: auditEvents.after,
      personalValues: auditPersonalData.values,
    })
    .from(auditEvents)
    .leftJoin(auditPersonalData, personalOfEvent)
    .where(
      and(
        eq(auditEvents.workspaceId, workspaceId),
        inArray(auditEvents.recordId, [...recordIds]),
        eq(auditEvents.type, 'crm.bypass_reverted'),
      ),
    );
  for (const whole of reverted) {
    const row = shownWhole({ before: null, ...whole });
    const value = (row.after as { value?: string | null } | null)?.value ?? null;
    add(fieldKey(row.objectType ?? '', row.recordId ?? '', row.property ?? ''), {
      value,
      changeId: null,
      agentId: null,
    });
  }
  return known;
}

export async function insertFieldChanges(tx: Tx, rows: readonly FieldChangeRow[]): Promise<void> {
  await insertRowsSkippingDuplicates(
    tx,
    'record_property_changes',
    rows.map((row) => ({
      workspace_id: row.workspaceId,
      event_id: row.eventId,
      object_type: row.objectType,
      record_id: row.recordId,
      property: row.property,
      value: row.value,
      occurred_at: row.occurredAt.toISOString(),
      kind: row.kind,
      change_source: row.changeSource,
      source_id: row.sourceId,
      agent_id: row.agentId,
      change_id: row.changeId,
      data: row.data,
      attempt_number: row.attemptNumber,
    })),
  );
}

/**
 * The field's history, oldest first by when it happened in the CRM (not when HubSpot told us).
 * Rollback (issue 7) and the record card read this.
 */
export async function fieldHistory(
  db: Db | Tx,
  key: { workspaceId: string; objectType: string; recordId: string; property: string },
): Promise<FieldChangeRow[]> {
  return db
    .select()
    .from(recordPropertyChanges)
    .where(
      and(
        eq(recordPropertyChanges.workspaceId, key.workspaceId),
        eq(recordPropertyChanges.objectType, key.objectType),
        eq(recordPropertyChanges.recordId, key.recordId),
        eq(recordPropertyChanges.property, key.property),
      ),
    )
    .orderBy(recordPropertyChanges.occurredAt, recordPropertyChanges.eventId);
}

/** The newest change to a field strictly before `before`: the value a bypass overwrote. */
export async function fieldChangeBefore(
  db: Db | Tx,
  key: { workspaceId: string; objectType: string; recordId: string; property: string },
  before: Date,
): Promise<FieldChangeRow | undefined> {
  const [row] = await db
    .select()
    .from(recordPropertyChanges)
    .where(
      and(
        eq(recordPropertyChanges.workspaceId, key.workspaceId),
        eq(recordPropertyChanges.objectType, key.objectType),
        eq(recordPropertyChanges.recordId, key.recordId),
        eq(recordPropertyChanges.property, key.property),
        lt(recordPropertyChanges.occurredAt, before),
      ),
    )
    .orderBy(desc(recordPropertyChanges.occurredAt), desc(recordPropertyChanges.eventId))
    .limit(1);
  return row;
}

/** Changes of one kind since `since`, counted per agent and source: what the kill triggers compare to their thresholds. */
export async function countFieldChanges(
  db: Db,
  query: { workspaceId: string; kind: ChangeKind; since: Date },
): Promise<{ agentId: string | null; sourceId: string | null; count: number }[]> {
  return db
    .select({
      agentId: recordPropertyChanges.agentId,
      sourceId: recordPropertyChanges.sourceId,
      count: sql<number>`count(*)::int`,
    })
    .from(recordPropertyChanges)
    .where(
      and(
        eq(recordPropertyChanges.workspaceId, query.workspaceId),
        eq(recordPropertyChanges.kind, query.kind),
        gte(recordPropertyChanges.occurredAt, query.since),
      ),
    )
    .groupBy(recordPropertyChanges.agentId, recordPropertyChanges.sourceId);
}
