import { and, asc, eq, inArray, isNull, lte, notInArray, or, sql } from 'drizzle-orm';
import { DECISIONS } from '../../../shared/agent-api.ts';
import { approvals } from './approval-schema.ts';
import { withItems, type StoredApproval } from './approval-store.ts';
import type { Db, Tx } from './database.ts';
import { changes } from './schema.ts';

/*
 * The apply queue: approved approvals are the queue's rows. A writer claims some (a lease in
 * `applying_since`), writes them to the CRM and settles each; a failed write waits for
 * `next_apply_at`, and a claim whose writer died is taken again once it is abandoned.
 */

/**
 * Claims the right to write approved approvals to the CRM; returns those this caller got, with
 * their items. A claim older than `abandonedBefore` belongs to a process that died mid-write
 * and may be taken again.
 */
export async function claimApplies(
  db: Db,
  workspaceId: string,
  ids: readonly string[],
  now: Date,
  abandonedBefore: Date,
): Promise<StoredApproval[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .update(approvals)
    .set({ applyingSince: now })
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        inArray(approvals.id, [...ids]),
        eq(approvals.status, 'approved'),
        or(isNull(approvals.applyingSince), lte(approvals.applyingSince, abandonedBefore)),
      ),
    )
    .returning();
  return withItems(db, rows);
}

/**
 * Renews a live writer's claim: `applying_since` moves from `held` (what this writer set last) to
 * `now` on those of `ids` still approved and still reading `held`. The ids it still holds; one
 * missing was settled, or taken by another writer that found the claim abandoned.
 */
export async function renewApplyClaims(
  db: Db,
  workspaceId: string,
  ids: readonly string[],
  held: Date,
  now: Date,
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .update(approvals)
    .set({ applyingSince: now })
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        inArray(approvals.id, [...ids]),
        eq(approvals.status, 'approved'),
        eq(approvals.applyingSince, held),
      ),
    )
    .returning({ id: approvals.id });
  return new Set(rows.map((row) => row.id));
}

const applyDue = (now: Date, abandonedBefore: Date) =>
  and(
    eq(approvals.status, 'approved'),
    or(isNull(approvals.nextApplyAt), lte(approvals.nextApplyAt, now)),
    or(isNull(approvals.applyingSince), lte(approvals.applyingSince, abandonedBefore)),
  );

/** Workspaces with approved writes due (see findDueApplies), but those in `except`. */
export async function workspacesWithAppliesDue(
  db: Db,
  query: { now: Date; abandonedBefore: Date; except: readonly string[]; limit: number },
): Promise<string[]> {
  const rows = await db
    .selectDistinct({ workspaceId: approvals.workspaceId })
    .from(approvals)
    .where(
      and(
        applyDue(query.now, query.abandonedBefore),
        query.except.length > 0 ? notInArray(approvals.workspaceId, [...query.except]) : undefined,
      ),
    )
    .limit(query.limit);
  return rows.map((row) => row.workspaceId);
}

/**
 * Approved approvals whose write is due: never tried, or failed and past their backoff, and not being written.
 * Taken in turns across workspaces (each one's oldest due first, then each one's second…), so one workspace's
 * backlog fills no more than its share of `limit` while others have writes due.
 */
export async function findDueApplies(
  db: Db,
  now: Date,
  abandonedBefore: Date,
  limit: number,
  only?: { workspaceId: string },
): Promise<{ workspaceId: string; id: string }[]> {
  const due = db
    .select({
      workspaceId: approvals.workspaceId,
      id: approvals.id,
      nextApplyAt: approvals.nextApplyAt,
      turn: sql<number>`row_number() over (partition by ${approvals.workspaceId} order by ${approvals.nextApplyAt}, ${approvals.id})`.as(
        'turn',
      ),
    })
    .from(approvals)
    .where(and(applyDue(now, abandonedBefore), only ? eq(approvals.workspaceId, only.workspaceId) : undefined))
    .as('due');
  return db
    .select({ workspaceId: due.workspaceId, id: due.id })
    .from(due)
    .orderBy(asc(due.turn), asc(due.nextApplyAt))
    .limit(limit);
}

/** Of these changes, those whose stored decision is none this server knows (edited in the database), by id. */
export async function damagedChanges(
  db: Db,
  workspaceId: string,
  changeIds: readonly string[],
): Promise<Map<string, { changeSetId: string; decision: string }>> {
  if (changeIds.length === 0) return new Map();
  const rows = await db
    .select({ id: changes.id, changeSetId: changes.changeSetId, decision: changes.decision })
    .from(changes)
    .where(
      and(
        eq(changes.workspaceId, workspaceId),
        sql`${changes.id} = any(${sql.param([...changeIds])}::uuid[])`,
        notInArray(changes.decision, [...DECISIONS]),
      ),
    );
  return new Map(rows.map(({ id, ...damaged }) => [id, damaged]));
}

/** The held changes an applied approval wrote now read `applied`, as auto-applied ones do (rollback relies on it). */
export async function markChangesApplied(tx: Tx, workspaceId: string, changeIds: string[]): Promise<void> {
  if (changeIds.length === 0) return;
  await tx
    .update(changes)
    .set({ decision: 'applied' })
    .where(and(eq(changes.workspaceId, workspaceId), inArray(changes.id, changeIds)));
}

/**
 * Records how claimed writes ended, in one statement. Conditional on `approved`: a rollback may
 * have withdrawn an approval meanwhile, and its word stands. A failed write is retried from
 * `retryAt`.
 */
export async function settleApplies(
  tx: Tx,
  outcomes: readonly { id: string; status: 'approved' | 'applied' | 'stale'; message: string | null; retryAt?: Date }[],
): Promise<void> {
  if (outcomes.length === 0) return;
  const rows = outcomes.map((outcome) => ({
    id: outcome.id,
    status: outcome.status,
    message: outcome.message,
    retry_at: outcome.retryAt?.toISOString() ?? null,
  }));
  await tx.execute(sql`
    update approvals set
      status = v.status,
      message = v.message,
      applying_since = null,
      mirror_seq = approvals.mirror_seq + 1,
      next_apply_at = coalesce(v.retry_at, approvals.next_apply_at),
      apply_attempts = approvals.apply_attempts + case when v.retry_at is null then 0 else 1 end
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id uuid, status text, message text, retry_at timestamptz)
    where approvals.id = v.id and approvals.status = 'approved'`);
}
