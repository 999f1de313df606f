import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { actions } from './action-schema.ts';
import type { Db, Tx } from './database.ts';
import { changeSets, workspaces } from './schema.ts';

export type WorkspaceRow = typeof workspaces.$inferSelect;

export async function insertWorkspace(tx: Tx, row: typeof workspaces.$inferInsert): Promise<void> {
  await tx.insert(workspaces).values(row);
}

export async function findWorkspace(db: Db, id: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id));
  return row;
}

/** The active workspace of a portal; a removed one no longer answers for it. */
export async function findWorkspaceByPortal(db: Db, portalId: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db
    .select()
    .from(workspaces)
    .where(and(eq(workspaces.hubspotPortalId, portalId), isNull(workspaces.removedAt)));
  return row;
}

export async function findWorkspaceByAdminTokenHash(db: Db, tokenHash: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.adminTokenHash, tokenHash));
  return row;
}

/** The HubSpot portal of every workspace; demo mode checks that none but the sandbox's is connected. */
export async function listWorkspacePortals(db: Db): Promise<{ id: string; hubspotPortalId: string }[]> {
  return db
    .select({ id: workspaces.id, hubspotPortalId: workspaces.hubspotPortalId })
    .from(workspaces)
    .where(isNull(workspaces.removedAt));
}

/** Every workspace, removed ones too, oldest first. */
export async function listWorkspaces(db: Db): Promise<WorkspaceRow[]> {
  return db.select().from(workspaces).orderBy(asc(workspaces.createdAt), asc(workspaces.id));
}

/** Locks the workspace's row, so a change and a removal of one workspace never interleave. */
export async function lockWorkspace(tx: Tx, id: string): Promise<WorkspaceRow | undefined> {
  const [row] = await tx.select().from(workspaces).where(eq(workspaces.id, id)).for('update');
  return row;
}

export async function updateWorkspace(
  tx: Tx,
  id: string,
  changes: Partial<Pick<WorkspaceRow, 'name' | 'hubspotTokenEnc' | 'hubspotClientSecretEnc' | 'removedAt'>>,
): Promise<void> {
  await tx.update(workspaces).set(changes).where(eq(workspaces.id, id));
}

/** Whether agents ever submitted work here: change sets or actions (drafts). Agents and policies alone are set-up, not data. */
export async function workspaceHasSubmittedWork(db: Db | Tx, id: string): Promise<boolean> {
  const result = await db.execute(sql`
    select exists (select 1 from ${changeSets} where ${changeSets.workspaceId} = ${id})
        or exists (select 1 from ${actions} where ${actions.workspaceId} = ${id}) as has_work`);
  return (result as unknown as { rows: { has_work: boolean }[] }).rows[0]?.has_work === true;
}

export async function setSalesforceSession(db: Db, id: string, salesforceSessionEnc: string): Promise<void> {
  await db.update(workspaces).set({ salesforceSessionEnc }).where(eq(workspaces.id, id));
}

export async function setApprovalObject(db: Db, id: string, approvalObject: { objectTypeId: string }): Promise<void> {
  await db.update(workspaces).set({ approvalObject }).where(eq(workspaces.id, id));
}
