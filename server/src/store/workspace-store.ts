import { eq } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { workspaces } from './schema.ts';

export type WorkspaceRow = typeof workspaces.$inferSelect;

export async function insertWorkspace(tx: Tx, row: typeof workspaces.$inferInsert): Promise<void> {
  await tx.insert(workspaces).values(row);
}

export async function findWorkspace(db: Db, id: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id));
  return row;
}

export async function findWorkspaceByPortal(db: Db, portalId: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.hubspotPortalId, portalId));
  return row;
}

export async function findWorkspaceByAdminTokenHash(db: Db, tokenHash: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.adminTokenHash, tokenHash));
  return row;
}

/** The HubSpot portal of every workspace; demo mode checks that none but the sandbox's is connected. */
export async function listWorkspacePortals(db: Db): Promise<{ id: string; hubspotPortalId: string }[]> {
  return db.select({ id: workspaces.id, hubspotPortalId: workspaces.hubspotPortalId }).from(workspaces);
}

export async function setApprovalObject(db: Db, id: string, approvalObject: { objectTypeId: string }): Promise<void> {
  await db.update(workspaces).set({ approvalObject }).where(eq(workspaces.id, id));
}
