import { and, asc, eq, gt, isNull, type SQL, sql } from 'drizzle-orm';
import { consoleSessions, consoleSignInLinks } from './console-schema.ts';
import type { Db } from './database.ts';
import { eventWithPersonalColumns, personalOfEvent, shownWhole } from './audit-store.ts';
import { type ChangeRow, type ChangeSetRow, findChangeSet, findRecordsEvidence } from './change-store.ts';
import { type StoredApproval, withItems } from './approval-store.ts';
import { approvals, auditEvents, auditPersonalData, changes } from './schema.ts';

export type ConsoleSessionRow = typeof consoleSessions.$inferSelect;

export async function insertSignInLink(db: Db, row: typeof consoleSignInLinks.$inferInsert): Promise<void> {
  await db.insert(consoleSignInLinks).values(row);
}

/** Who an unused, unexpired link would sign in, without spending it (what opening the link shows). */
export async function findLiveSignInLink(
  db: Db,
  tokenHash: string,
  now: Date,
): Promise<{ workspaceId: string; crmUserId: string } | undefined> {
  const [row] = await db
    .select({ workspaceId: consoleSignInLinks.workspaceId, crmUserId: consoleSignInLinks.crmUserId })
    .from(consoleSignInLinks)
    .where(
      and(
        eq(consoleSignInLinks.tokenHash, tokenHash),
        isNull(consoleSignInLinks.usedAt),
        gt(consoleSignInLinks.expiresAt, now),
      ),
    );
  return row;
}

/** Marks an unused, unexpired link used and answers who it signs in; one statement, so two clicks cannot both win. */
export async function consumeSignInLink(
  db: Db,
  tokenHash: string,
  now: Date,
): Promise<{ workspaceId: string; crmUserId: string } | undefined> {
  const [row] = await db
    .update(consoleSignInLinks)
    .set({ usedAt: now })
    .where(
      and(
        eq(consoleSignInLinks.tokenHash, tokenHash),
        isNull(consoleSignInLinks.usedAt),
        gt(consoleSignInLinks.expiresAt, now),
      ),
    )
    .returning({ workspaceId: consoleSignInLinks.workspaceId, crmUserId: consoleSignInLinks.crmUserId });
  return row;
}

export async function insertSession(db: Db, row: typeof consoleSessions.$inferInsert): Promise<void> {
  await db.insert(consoleSessions).values(row);
}

export async function findLiveSession(db: Db, tokenHash: string, now: Date): Promise<ConsoleSessionRow | undefined> {
  const [row] = await db
    .select()
    .from(consoleSessions)
    .where(
      and(
        eq(consoleSessions.tokenHash, tokenHash),
        isNull(consoleSessions.endedAt),
        gt(consoleSessions.expiresAt, now),
      ),
    );
  return row;
}

export async function endSession(db: Db, tokenHash: string, now: Date): Promise<void> {
  await db
    .update(consoleSessions)
    .set({ endedAt: now })
    .where(and(eq(consoleSessions.tokenHash, tokenHash), isNull(consoleSessions.endedAt)));
}

export type AuditEventRow = typeof auditEvents.$inferSelect;

export async function findAuditEvent(db: Db, workspaceId: string, seq: number): Promise<AuditEventRow | undefined> {
  const [row] = await db
    .select(eventWithPersonalColumns)
    .from(auditEvents)
    .leftJoin(auditPersonalData, personalOfEvent)
    .where(and(eq(auditEvents.workspaceId, workspaceId), eq(auditEvents.seq, seq)));
  return row && shownWhole(row);
}

/** Everything the log holds on one record within one batch, oldest first: the story of a write. */
export function auditEventsOnRecordInBatch(
  db: Db,
  workspaceId: string,
  batchId: string,
  recordId: string,
): Promise<AuditEventRow[]> {
  return workspaceEventsOldestFirst(
    db,
    workspaceId,
    eq(auditEvents.batchId, batchId),
    eq(auditEvents.recordId, recordId),
  );
}

/** A workspace's events matching `conditions`, oldest first, at most 500, personal values shown whole. */
async function workspaceEventsOldestFirst(db: Db, workspaceId: string, ...conditions: SQL[]): Promise<AuditEventRow[]> {
  const rows = await db
    .select(eventWithPersonalColumns)
    .from(auditEvents)
    .leftJoin(auditPersonalData, personalOfEvent)
    .where(and(eq(auditEvents.workspaceId, workspaceId), ...conditions))
    .orderBy(asc(auditEvents.seq))
    .limit(500);
  return rows.map(shownWhole);
}

/** What a change set keeps for one of its records: the agent's evidence, each property's change, the approvals that held them. */
export interface ChangeSetRecord {
  changeSet: ChangeSetRow;
  evidence: unknown;
  changes: ChangeRow[];
  approvals: StoredApproval[];
}

export async function findChangeSetRecord(
  db: Db,
  workspaceId: string,
  changeSetId: string,
  recordId: string,
): Promise<ChangeSetRecord | undefined> {
  const changeSet = await findChangeSet(db, workspaceId, changeSetId);
  if (!changeSet) return undefined;
  const evidence = await findRecordsEvidence(db, workspaceId, [{ changeSetId, recordId }]);
  const recordChanges = await db
    .select()
    .from(changes)
    .where(
      and(eq(changes.workspaceId, workspaceId), eq(changes.changeSetId, changeSetId), eq(changes.recordId, recordId)),
    )
    .orderBy(asc(changes.ordinal));
  const held = await db
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        eq(approvals.recordId, recordId),
        eq(approvals.changeSetId, changeSetId),
      ),
    )
    .orderBy(asc(approvals.createdAt));
  return {
    changeSet,
    evidence: [...evidence.values()][0] ?? null,
    changes: recordChanges,
    approvals: await withItems(db, held),
  };
}

/** Every event about one draft (emails, tasks, notes), oldest first: each carries its id in `data.actionId`. */
export function auditEventsOfAction(
  db: Db,
  workspaceId: string,
  recordId: string,
  actionId: string,
): Promise<AuditEventRow[]> {
  return workspaceEventsOldestFirst(
    db,
    workspaceId,
    eq(auditEvents.recordId, recordId),
    sql`${auditEvents.data}->>'actionId' = ${actionId}`,
  );
}
