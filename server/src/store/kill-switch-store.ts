import { and, eq } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { killSwitches } from './schema.ts';

export type KillSwitchRow = typeof killSwitches.$inferSelect;
export type KillSwitchScope = KillSwitchRow['scope'];

export async function upsertKillSwitch(tx: Tx, row: KillSwitchRow): Promise<void> {
  await tx
    .insert(killSwitches)
    .values(row)
    .onConflictDoUpdate({
      target: [killSwitches.workspaceId, killSwitches.scope, killSwitches.target],
      set: {
        engaged: row.engaged,
        reason: row.reason,
        changedBy: row.changedBy,
        changedAt: row.changedAt,
        condition: row.condition,
      },
    });
}

export async function findKillSwitch(
  db: Db | Tx,
  key: { workspaceId: string; scope: KillSwitchScope; target: string },
): Promise<KillSwitchRow | undefined> {
  const [row] = await db
    .select()
    .from(killSwitches)
    .where(
      and(
        eq(killSwitches.workspaceId, key.workspaceId),
        eq(killSwitches.scope, key.scope),
        eq(killSwitches.target, key.target),
      ),
    );
  return row;
}

export async function listKillSwitches(db: Db, workspaceId: string): Promise<KillSwitchRow[]> {
  return db.select().from(killSwitches).where(eq(killSwitches.workspaceId, workspaceId));
}

/** Every engaged switch of the workspace, whatever its scope (issue 21's scoped switches are matched per write). */
export async function listEngagedKillSwitches(db: Db | Tx, workspaceId: string): Promise<KillSwitchRow[]> {
  return db
    .select()
    .from(killSwitches)
    .where(and(eq(killSwitches.workspaceId, workspaceId), eq(killSwitches.engaged, true)));
}
