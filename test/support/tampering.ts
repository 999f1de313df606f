import { sql } from 'drizzle-orm';
import { hashAuditEvent } from '../../server/src/domain/audit-chain.ts';
import { streamAuditEvents } from '../../server/src/store/audit-store.ts';
import type { Db } from '../../server/src/store/database.ts';

/**
 * What a database owner can do to the audit log (issue 17): switch the append-only guard off (see
 * migrations/0001_audit-append-only.sql), change rows, switch it on again.
 */
export async function asDatabaseOwner(db: Db, work: () => Promise<void>): Promise<void> {
  await db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
  try {
    await work();
  } finally {
    await db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
  }
}

export const tamper = {
  alter: (db: Db, workspaceId: string, seq: number) =>
    asDatabaseOwner(db, async () => {
      await db.execute(
        sql`update audit_events set after = '{"forged":true}' where workspace_id = ${workspaceId} and seq = ${seq}`,
      );
    }),
  delete: (db: Db, workspaceId: string, seq: number) =>
    asDatabaseOwner(db, async () => {
      await db.execute(sql`delete from audit_events where workspace_id = ${workspaceId} and seq = ${seq}`);
    }),
  /** Events `seq` and `seq + 1` swap places. */
  reorder: (db: Db, workspaceId: string, seq: number) =>
    asDatabaseOwner(db, async () => {
      await db.execute(sql`update audit_events set seq = -1 where workspace_id = ${workspaceId} and seq = ${seq}`);
      await db.execute(
        sql`update audit_events set seq = ${seq} where workspace_id = ${workspaceId} and seq = ${seq + 1}`,
      );
      await db.execute(sql`update audit_events set seq = ${seq + 1} where workspace_id = ${workspaceId} and seq = -1`);
    }),
  /** Deletes every event after `keep` and moves the head back onto event `keep`, so the chain itself holds. */
  truncateTail: (db: Db, workspaceId: string, keep: number) =>
    asDatabaseOwner(db, async () => {
      await db.execute(sql`delete from audit_events where workspace_id = ${workspaceId} and seq > ${keep}`);
      await db.execute(
        sql`update audit_heads set seq = ${keep}, hash = (select hash from audit_events where workspace_id = ${workspaceId} and seq = ${keep}) where workspace_id = ${workspaceId}`,
      );
    }),
  /** Alters event `seq`, then recomputes every hash from it on with our own code and moves the head: the chain itself holds. */
  recompute: (db: Db, workspaceId: string, seq: number) =>
    asDatabaseOwner(db, async () => {
      let prevHash: string | undefined;
      let last = { seq: 0, hash: '' };
      for await (const event of streamAuditEvents(db, workspaceId)) {
        if (event.seq < seq) continue;
        const rewritten = {
          ...event,
          prevHash: prevHash ?? event.prevHash,
          after: event.seq === seq ? { forged: true } : event.after,
        };
        const hash = hashAuditEvent(rewritten);
        await db.execute(
          sql`update audit_events set after = ${rewritten.after === null ? null : JSON.stringify(rewritten.after)}::json, prev_hash = ${rewritten.prevHash}, hash = ${hash} where workspace_id = ${workspaceId} and seq = ${event.seq}`,
        );
        prevHash = hash;
        last = { seq: event.seq, hash };
      }
      await db.execute(
        sql`update audit_heads set seq = ${last.seq}, hash = ${last.hash} where workspace_id = ${workspaceId}`,
      );
    }),
};
