import { and, asc, eq, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { type RetentionKind, type RetentionRun, workspaceRetention } from './retention-schema.ts';

export type RetentionRow = typeof workspaceRetention.$inferSelect;
export type RetentionPeriods = Pick<
  RetentionRow,
  'changeRecordsDays' | 'draftsDays' | 'webhookPayloadsDays' | 'auditPersonalDataDays'
>;

export async function readRetention(db: Db | Tx, workspaceId: string): Promise<RetentionRow | undefined> {
  const [row] = await db.select().from(workspaceRetention).where(eq(workspaceRetention.workspaceId, workspaceId));
  return row;
}

/** Sets the periods; the job runs next at `runAt` (new periods apply at once), keeping any run in hand. */
export async function saveRetentionPeriods(
  tx: Tx,
  workspaceId: string,
  periods: RetentionPeriods,
  runAt: Date,
): Promise<RetentionRow> {
  const [row] = await tx
    .insert(workspaceRetention)
    .values({ workspaceId, ...periods, nextRunAt: runAt, updatedAt: runAt })
    .onConflictDoUpdate({
      target: workspaceRetention.workspaceId,
      set: { ...periods, nextRunAt: runAt, updatedAt: runAt },
    })
    .returning();
  return row!;
}

/**
 * Takes one workspace whose retention is due, leasing it to `holder`: one it holds already (a run
 * it is part way through), or one nobody holds or whose holder's lease lapsed (a server that died
 * mid-run). SKIP LOCKED lets several servers claim different workspaces at once.
 */
export async function claimDueRetention(
  db: Db,
  claim: { holder: string; leaseMs: number; now: Date },
): Promise<RetentionRow | undefined> {
  return db.transaction(async (tx) => {
    const [due] = await tx
      .select({ workspaceId: workspaceRetention.workspaceId })
      .from(workspaceRetention)
      .where(
        and(
          lte(workspaceRetention.nextRunAt, claim.now),
          or(
            isNull(workspaceRetention.leaseExpiresAt),
            lt(workspaceRetention.leaseExpiresAt, claim.now),
            eq(workspaceRetention.leaseHolder, claim.holder),
          ),
        ),
      )
      .orderBy(asc(workspaceRetention.nextRunAt))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!due) return undefined;
    const [claimed] = await tx
      .update(workspaceRetention)
      .set({ leaseHolder: claim.holder, leaseExpiresAt: new Date(claim.now.getTime() + claim.leaseMs) })
      .where(eq(workspaceRetention.workspaceId, due.workspaceId))
      .returning();
    return claimed;
  });
}

/**
 * Stores the run's progress and renews the lease, in the transaction that removed the rows it
 * counts, and locks the row for it; false (nothing stored) when `holder` lost the lease.
 */
export async function saveRetentionRun(
  tx: Tx,
  workspaceId: string,
  holder: string,
  run: RetentionRun,
  leaseExpiresAt: Date,
): Promise<boolean> {
  const saved = await tx
    .update(workspaceRetention)
    .set({ run, leaseExpiresAt })
    .where(and(eq(workspaceRetention.workspaceId, workspaceId), eq(workspaceRetention.leaseHolder, holder)))
    .returning({ workspaceId: workspaceRetention.workspaceId });
  return saved.length === 1;
}

/** Ends the run: no run, no lease, due again at `nextRunAt`; false when `holder` lost the lease. */
export async function finishRetentionRun(
  tx: Tx,
  workspaceId: string,
  holder: string,
  nextRunAt: Date,
): Promise<boolean> {
  const done = await tx
    .update(workspaceRetention)
    .set({ run: null, leaseHolder: null, leaseExpiresAt: null, nextRunAt })
    .where(and(eq(workspaceRetention.workspaceId, workspaceId), eq(workspaceRetention.leaseHolder, holder)))
    .returning({ workspaceId: workspaceRetention.workspaceId });
  return done.length === 1;
}

/**
 * Removes up to `limit` rows of one kind older than `cutoff` in one workspace and says how many.
 * Only settled rows go: a change still applying or held, a draft held or released and not yet
 * sent, a webhook event not yet processed stay until they settle (as does a webhook delivery not
 * yet split into events: it is no workspace's alone, and nothing in it is processed).
 */
export async function removeExpired(
  tx: Tx,
  kind: RetentionKind,
  query: { workspaceId: string; cutoff: Date; limit: number },
): Promise<number> {
  const { workspaceId, limit } = query;
  const cutoff = query.cutoff.toISOString();
  switch (kind) {
    case 'changeRecords':
      return (
        (await removeSettledEntries(tx, 'changes', query)) +
        (await removeSettledEntries(tx, 'record_creations', query)) +
        (await removeSettledEntries(tx, 'record_associations', query)) +
        (await count(
          tx,
          sql`delete from change_records where (change_set_id, record_id) in (
              select r.change_set_id, r.record_id from change_records r join change_sets s on s.id = r.change_set_id
              where r.workspace_id = ${workspaceId} and s.workspace_id = ${workspaceId} and s.status = 'completed'
                and s.created_at < ${cutoff}
                and not exists (select 1 from changes c where c.change_set_id = r.change_set_id and c.record_id = r.record_id)
              limit ${limit})`,
        ))
      );
    case 'drafts':
      return removeDrafts(
        tx,
        workspaceId,
        sql`created_at < ${cutoff} and status not in ('pending', 'released')`,
        limit,
      );
    case 'webhookPayloads':
      return (
        (await count(
          tx,
          sql`delete from webhook_events where (workspace_id, event_id) in (
              select workspace_id, event_id from webhook_events
              where workspace_id = ${workspaceId} and processed_at is not null and received_at < ${cutoff}
              limit ${limit})`,
        )) +
        (await count(
          tx,
          sql`delete from record_property_changes where ctid in (
              select ctid from record_property_changes
              where workspace_id = ${workspaceId} and occurred_at < ${cutoff}
              limit ${limit})`,
        ))
      );
    case 'auditPersonalData':
      return count(
        tx,
        sql`delete from audit_personal_data where (workspace_id, seq) in (
            select workspace_id, seq from audit_personal_data
            where workspace_id = ${workspaceId} and occurred_at < ${cutoff}
            limit ${limit})`,
      );
  }
}

/**
 * Up to `limit` entries (field changes, creations or associations) of completed change sets made
 * before `cutoff` whose decision is settled, in one workspace.
 */
function removeSettledEntries(
  tx: Tx,
  table: 'changes' | 'record_creations' | 'record_associations',
  query: { workspaceId: string; cutoff: Date; limit: number },
): Promise<number> {
  const { workspaceId, limit } = query;
  const entries = sql.identifier(table);
  return count(
    tx,
    sql`delete from ${entries} where id in (
        select e.id from ${entries} e join change_sets s on s.id = e.change_set_id
        where e.workspace_id = ${workspaceId} and s.workspace_id = ${workspaceId} and s.status = 'completed'
          and s.created_at < ${query.cutoff.toISOString()} and e.decision in ('applied', 'denied', 'failed')
        limit ${limit})`,
  );
}

/** Settled drafts matching `condition` (on `actions`), with their reported outcomes. */
export async function removeDrafts(tx: Tx, workspaceId: string, condition: ReturnType<typeof sql>, limit: number) {
  const ids = await rows<{ id: string }>(
    tx,
    sql`select id from actions where workspace_id = ${workspaceId} and ${condition} limit ${limit}`,
  );
  if (ids.length === 0) return 0;
  const list = sql.param(ids.map((row) => row.id));
  await tx.execute(sql`delete from action_outcomes where action_id = any(${list}::uuid[])`);
  return count(tx, sql`delete from actions where id = any(${list}::uuid[])`);
}

/**
 * An erasure request for one person (a CRM record, an email address, or both): deletes the
 * personal values kept apart from audit events about them, their settled drafts, our settled
 * change records and the field history on their record. Says how many of each went.
 */
export async function erasePersonData(
  tx: Tx,
  workspaceId: string,
  person: { objectType?: string | undefined; recordId?: string | undefined; email?: string | undefined },
): Promise<{ auditPersonalData: number; drafts: number; changeRecords: number; fieldHistory: number }> {
  const onRecord = person.recordId !== undefined && person.objectType !== undefined;
  const email = person.email?.toLowerCase();
  const auditPersonalData = await count(
    tx,
    sql`delete from audit_personal_data where workspace_id = ${workspaceId} and (
        ${onRecord ? sql`(object_type = ${person.objectType} and record_id = ${person.recordId})` : sql`false`}
        or ${email ? sql`emails @> array[${email}]::text[]` : sql`false`})`,
  );
  const drafts = await removeDrafts(
    tx,
    workspaceId,
    sql`status not in ('pending', 'released') and (
        ${onRecord ? sql`(object_type = ${person.objectType} and record_id = ${person.recordId})` : sql`false`}
        or ${email ? sql`recipient_email = ${email}` : sql`false`})`,
    Number.MAX_SAFE_INTEGER,
  );
  if (!onRecord) return { auditPersonalData, drafts, changeRecords: 0, fieldHistory: 0 };
  const ofRecord = sql`select s.id from change_sets s where s.workspace_id = ${workspaceId} and s.object_type = ${person.objectType}`;
  const changeRecords =
    (await count(
      tx,
      sql`delete from changes where workspace_id = ${workspaceId} and record_id = ${person.recordId}
          and change_set_id in (${ofRecord}) and decision in ('applied', 'denied', 'failed')`,
    )) +
    (await count(
      tx,
      sql`delete from change_records r where workspace_id = ${workspaceId} and record_id = ${person.recordId}
          and change_set_id in (${ofRecord})
          and not exists (select 1 from changes c where c.change_set_id = r.change_set_id and c.record_id = r.record_id)`,
    )) +
    (await count(
      tx,
      sql`delete from record_creations where workspace_id = ${workspaceId} and record_id = ${person.recordId}
          and object_type = ${person.objectType} and decision in ('applied', 'denied', 'failed')`,
    )) +
    (await count(
      tx,
      sql`delete from record_associations where workspace_id = ${workspaceId}
          and ((object_type = ${person.objectType} and record_id = ${person.recordId})
            or (to_object_type = ${person.objectType} and to_record_id = ${person.recordId}))
          and decision in ('applied', 'denied', 'failed')`,
    ));
  const fieldHistory = await count(
    tx,
    sql`delete from record_property_changes where workspace_id = ${workspaceId}
        and object_type = ${person.objectType} and record_id = ${person.recordId}`,
  );
  return { auditPersonalData, drafts, changeRecords, fieldHistory };
}

async function count(tx: Tx, statement: ReturnType<typeof sql>): Promise<number> {
  return (await rows(tx, sql`with gone as (${statement} returning 1) select count(*)::int as n from gone`)).map(
    (row) => (row as { n: number }).n,
  )[0]!;
}

async function rows<T>(tx: Tx, statement: ReturnType<typeof sql>): Promise<T[]> {
  // node-postgres and PGlite both answer with `rows`.
  return ((await tx.execute(statement)) as unknown as { rows: T[] }).rows;
}
