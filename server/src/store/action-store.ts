import { and, asc, desc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { actionOutcomes, actions, contactStops, recordPropertyChanges } from './schema.ts';

export type ActionRow = typeof actions.$inferSelect;
export type NewActionRow = typeof actions.$inferInsert;
export type ActionStatus = ActionRow['status'];
export type OutcomeRow = typeof actionOutcomes.$inferSelect;
export type ContactStopRow = typeof contactStops.$inferSelect;

export async function insertAction(tx: Tx, row: NewActionRow): Promise<void> {
  await tx.insert(actions).values(row);
}

export async function findAction(db: Db | Tx, workspaceId: string, id: string): Promise<ActionRow | undefined> {
  const [row] = await db
    .select()
    .from(actions)
    .where(and(eq(actions.workspaceId, workspaceId), eq(actions.id, id)));
  return row;
}

/** Holds the draft's row for the rest of the transaction: two decisions at once are taken one after the other. */
export async function lockAction(tx: Tx, workspaceId: string, id: string): Promise<ActionRow | undefined> {
  const [row] = await tx
    .select()
    .from(actions)
    .where(and(eq(actions.workspaceId, workspaceId), eq(actions.id, id)))
    .for('update');
  return row;
}

export async function findActionByIdempotencyKey(
  db: Db | Tx,
  key: { workspaceId: string; agentId: string; key: string },
): Promise<ActionRow | undefined> {
  const [row] = await db
    .select()
    .from(actions)
    .where(
      and(
        eq(actions.workspaceId, key.workspaceId),
        eq(actions.agentId, key.agentId),
        eq(actions.idempotencyKey, key.key),
      ),
    );
  return row;
}

export type ActionChange = Partial<
  Pick<
    ActionRow,
    | 'status'
    | 'reasons'
    | 'editedContent'
    | 'approvedBy'
    | 'contentHash'
    | 'releaseTokenHash'
    | 'releaseTokenSealed'
    | 'releasedAt'
    | 'decidedAt'
    | 'decidedBy'
    | 'crmObjectId'
    | 'message'
  >
>;

/** A held draft's CRM copy (its approval object) is due again after any change; a draft never held stays unmirrored at 0. */
const bumpMirror = sql`case when ${actions.mirrorSeq} > 0 then ${actions.mirrorSeq} + 1 else 0 end`;

export async function updateAction(tx: Tx | Db, workspaceId: string, id: string, change: ActionChange): Promise<void> {
  await tx
    .update(actions)
    .set({ ...change, mirrorSeq: bumpMirror })
    .where(and(eq(actions.workspaceId, workspaceId), eq(actions.id, id)));
}

/** Something shown on the draft's approval object changed without a change to the row (an outcome reported), or the CRM copy was changed by someone not allowed to: write ours again. */
export async function markActionMirrorDue(tx: Tx, workspaceId: string, id: string): Promise<void> {
  await tx
    .update(actions)
    .set({ mirrorSeq: bumpMirror, mirrorHeldUntil: null })
    .where(and(eq(actions.workspaceId, workspaceId), eq(actions.id, id)));
}

/** The draft a CRM approval-object record mirrors, locked. */
export async function lockActionByApprovalObject(
  tx: Tx,
  workspaceId: string,
  approvalObjectId: string,
): Promise<ActionRow | undefined> {
  const [row] = await tx
    .select()
    .from(actions)
    .where(and(eq(actions.workspaceId, workspaceId), eq(actions.approvalObjectId, approvalObjectId)))
    .for('update');
  return row;
}

export interface ActionFilter {
  recordId?: string | undefined;
  agentId?: string | undefined;
  /** Any of these statuses; omitted, all. */
  statuses?: readonly ActionStatus[] | undefined;
  /** Only drafts a policy held for people (each one of its record's approvals). */
  heldOnly?: boolean;
  /** Only drafts created at or before this instant (what has waited long enough). */
  createdBefore?: Date | undefined;
  /** The keyset cursor: the last draft of the page before (newest first). */
  after?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

const HELD_TIERS = ['approval', 'two_person'] as const;

/** Newest first. */
export async function listActions(db: Db, workspaceId: string, filter: ActionFilter): Promise<ActionRow[]> {
  const conditions: SQL[] = [eq(actions.workspaceId, workspaceId)];
  if (filter.heldOnly) conditions.push(inArray(actions.tier, [...HELD_TIERS]));
  if (filter.recordId !== undefined) conditions.push(eq(actions.recordId, filter.recordId));
  if (filter.agentId !== undefined) conditions.push(eq(actions.agentId, filter.agentId));
  if (filter.statuses !== undefined) conditions.push(inArray(actions.status, [...filter.statuses]));
  if (filter.createdBefore) conditions.push(lte(actions.createdAt, filter.createdBefore));
  if (filter.after)
    conditions.push(
      sql`(${actions.createdAt}, ${actions.id}) < (${filter.after.createdAt.toISOString()}::timestamptz, ${filter.after.id}::uuid)`,
    );
  return db
    .select()
    .from(actions)
    .where(and(...conditions))
    .orderBy(desc(actions.createdAt), desc(actions.id))
    .limit(filter.limit);
}

/** Held drafts by id (ids that name none are left out), unlocked: what a batch decision reads before and after its transaction. */
export async function findHeldDrafts(db: Db | Tx, workspaceId: string, ids: readonly string[]): Promise<ActionRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(actions)
    .where(
      and(eq(actions.workspaceId, workspaceId), inArray(actions.id, [...ids]), inArray(actions.tier, [...HELD_TIERS])),
    );
}

/** Locks held drafts in id order: a batch decision takes them after its approvals, so two batches never deadlock. */
export async function lockHeldDrafts(tx: Tx, workspaceId: string, ids: readonly string[]): Promise<ActionRow[]> {
  if (ids.length === 0) return [];
  return tx
    .select()
    .from(actions)
    .where(
      and(eq(actions.workspaceId, workspaceId), inArray(actions.id, [...ids]), inArray(actions.tier, [...HELD_TIERS])),
    )
    .orderBy(asc(actions.id))
    .for('update');
}

/** The pending drafts of many records of one object type (an index page's selection), oldest first, at most `limit`; only held drafts are ever pending. */
export async function pendingDraftsOnRecords(
  db: Db,
  selection: { workspaceId: string; objectType: string; recordIds: readonly string[] },
  limit: number,
): Promise<ActionRow[]> {
  return db
    .select()
    .from(actions)
    .where(
      and(
        eq(actions.workspaceId, selection.workspaceId),
        eq(actions.objectType, selection.objectType),
        inArray(actions.recordId, [...selection.recordIds]),
        eq(actions.status, 'pending'),
      ),
    )
    .orderBy(asc(actions.createdAt), asc(actions.id))
    .limit(limit);
}

export async function insertOutcome(tx: Tx, row: typeof actionOutcomes.$inferInsert): Promise<void> {
  await tx.insert(actionOutcomes).values(row);
}

export async function setOutcomeNote(tx: Tx, workspaceId: string, outcomeId: string, crmNoteId: string): Promise<void> {
  await tx
    .update(actionOutcomes)
    .set({ crmNoteId })
    .where(and(eq(actionOutcomes.workspaceId, workspaceId), eq(actionOutcomes.id, outcomeId)));
}

/** Each action's outcomes, oldest first. */
export async function listOutcomes(
  db: Db | Tx,
  workspaceId: string,
  actionIds: string[],
): Promise<Map<string, OutcomeRow[]>> {
  if (actionIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(actionOutcomes)
    .where(and(eq(actionOutcomes.workspaceId, workspaceId), inArray(actionOutcomes.actionId, actionIds)))
    .orderBy(asc(actionOutcomes.reportedAt), asc(actionOutcomes.id));
  return Map.groupBy(rows, (row) => row.actionId);
}

export async function findContactStops(db: Db | Tx, workspaceId: string, contactId: string): Promise<ContactStopRow[]> {
  return db
    .select()
    .from(contactStops)
    .where(and(eq(contactStops.workspaceId, workspaceId), eq(contactStops.contactId, contactId)));
}

/** The first report of each kind stands; a repeated one adds nothing. Whether this one was the first. */
export async function addContactStop(tx: Tx, row: ContactStopRow): Promise<boolean> {
  const added = await tx
    .insert(contactStops)
    .values(row)
    .onConflictDoNothing()
    .returning({ contactId: contactStops.contactId });
  return added.length > 0;
}

/**
 * Another agent's newest email to this contact since `since` that went out or still may (held,
 * released, sent, bounced): the "last touch" two agents must keep apart (issue 21).
 */
export async function lastEmailByAnotherAgent(
  tx: Tx,
  query: { workspaceId: string; contactId: string; agentId: string; since: Date },
): Promise<ActionRow | undefined> {
  const [row] = await tx
    .select()
    .from(actions)
    .where(
      and(
        eq(actions.workspaceId, query.workspaceId),
        eq(actions.recordId, query.contactId),
        eq(actions.kind, 'send_email'),
        sql`${actions.agentId} <> ${query.agentId}`,
        inArray(actions.status, ['pending', 'released', 'sent', 'bounced']),
        sql`${actions.createdAt} > ${query.since.toISOString()}`,
      ),
    )
    .orderBy(desc(actions.createdAt), desc(actions.id))
    .limit(1);
  return row;
}

/** Emails to this contact that could still go out: held, or released and not yet reported sent. */
export async function lockOpenEmailsTo(tx: Tx, workspaceId: string, contactId: string): Promise<ActionRow[]> {
  return tx
    .select()
    .from(actions)
    .where(
      and(
        eq(actions.workspaceId, workspaceId),
        eq(actions.recordId, contactId),
        eq(actions.kind, 'send_email'),
        inArray(actions.status, ['pending', 'released']),
      ),
    )
    .for('update');
}

export async function workspacesWithExpiredDrafts(db: Db, now: Date): Promise<string[]> {
  const rows = await db
    .selectDistinct({ workspaceId: actions.workspaceId })
    .from(actions)
    .where(and(eq(actions.status, 'pending'), lte(actions.expiresAt, now)));
  return rows.map((row) => row.workspaceId);
}

/** Rows a decision holds are skipped: it sees the expiry itself, or the next sweep takes them. */
export async function lockExpiredDrafts(tx: Tx, workspaceId: string, now: Date, limit: number): Promise<ActionRow[]> {
  return tx
    .select()
    .from(actions)
    .where(and(eq(actions.workspaceId, workspaceId), eq(actions.status, 'pending'), lte(actions.expiresAt, now)))
    .orderBy(asc(actions.expiresAt))
    .limit(limit)
    .for('update', { skipLocked: true });
}

export async function markDraftsExpired(tx: Tx, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(actions)
    .set({
      status: 'expired',
      decidedAt: now,
      message: 'Nobody decided before the draft expired.',
      mirrorSeq: bumpMirror,
    })
    .where(inArray(actions.id, ids));
}

/**
 * The newest value of each property that webhooks told us about for this record (the webhook
 * processor keeps every change in record_property_changes). Properties never seen are absent.
 */
export async function latestNotedValues(
  db: Db | Tx,
  key: { workspaceId: string; objectType: string; recordId: string; properties: readonly string[] },
): Promise<Record<string, string | null>> {
  const rows = await db
    .select({ property: recordPropertyChanges.property, value: recordPropertyChanges.value })
    .from(recordPropertyChanges)
    .where(
      and(
        eq(recordPropertyChanges.workspaceId, key.workspaceId),
        eq(recordPropertyChanges.objectType, key.objectType),
        eq(recordPropertyChanges.recordId, key.recordId),
        inArray(recordPropertyChanges.property, [...key.properties]),
      ),
    )
    .orderBy(asc(recordPropertyChanges.occurredAt), asc(recordPropertyChanges.eventId));
  return Object.fromEntries(rows.map((row) => [row.property, row.value]));
}
