import { and, asc, eq, inArray } from 'drizzle-orm';
import type { PersonRole } from '../domain/approval-lifecycle.ts';
import type { Db, Tx } from './database.ts';
import { people } from './approval-schema.ts';
import { teamRoles } from './team-role-schema.ts';

export type PersonRow = typeof people.$inferSelect;
export type TeamRoleRow = typeof teamRoles.$inferSelect;

export async function upsertPerson(
  tx: Db | Tx,
  row: { workspaceId: string; crmUserId: string; role: PersonRole; crmOwnerId: string | null; updatedAt: Date },
): Promise<PersonRow | undefined> {
  const [previous] = await tx
    .select()
    .from(people)
    .where(and(eq(people.workspaceId, row.workspaceId), eq(people.crmUserId, row.crmUserId)));
  await tx
    .insert(people)
    .values(row)
    .onConflictDoUpdate({
      target: [people.workspaceId, people.crmUserId],
      set: { role: row.role, crmOwnerId: row.crmOwnerId, updatedAt: row.updatedAt },
    });
  return previous;
}

/** Removes a person's own role; answers the row removed, if there was one. */
export async function deletePerson(
  tx: Db | Tx,
  workspaceId: string,
  crmUserId: string,
): Promise<PersonRow | undefined> {
  const [removed] = await tx
    .delete(people)
    .where(and(eq(people.workspaceId, workspaceId), eq(people.crmUserId, crmUserId)))
    .returning();
  return removed;
}

export async function findPerson(db: Db | Tx, workspaceId: string, crmUserId: string): Promise<PersonRow | undefined> {
  const [row] = await db
    .select()
    .from(people)
    .where(and(eq(people.workspaceId, workspaceId), eq(people.crmUserId, crmUserId)));
  return row;
}

export async function listPeople(db: Db, workspaceId: string): Promise<PersonRow[]> {
  return db.select().from(people).where(eq(people.workspaceId, workspaceId)).orderBy(asc(people.crmUserId));
}

export async function upsertTeamRole(
  tx: Db | Tx,
  row: { workspaceId: string; teamId: string; role: PersonRole; updatedAt: Date },
): Promise<TeamRoleRow | undefined> {
  const [previous] = await tx
    .select()
    .from(teamRoles)
    .where(and(eq(teamRoles.workspaceId, row.workspaceId), eq(teamRoles.teamId, row.teamId)));
  await tx
    .insert(teamRoles)
    .values(row)
    .onConflictDoUpdate({
      target: [teamRoles.workspaceId, teamRoles.teamId],
      set: { role: row.role, updatedAt: row.updatedAt },
    });
  return previous;
}

export async function deleteTeamRole(
  tx: Db | Tx,
  workspaceId: string,
  teamId: string,
): Promise<TeamRoleRow | undefined> {
  const [removed] = await tx
    .delete(teamRoles)
    .where(and(eq(teamRoles.workspaceId, workspaceId), eq(teamRoles.teamId, teamId)))
    .returning();
  return removed;
}

export async function listTeamRoles(db: Db | Tx, workspaceId: string): Promise<TeamRoleRow[]> {
  return db.select().from(teamRoles).where(eq(teamRoles.workspaceId, workspaceId)).orderBy(asc(teamRoles.teamId));
}

export async function findTeamRoles(
  db: Db | Tx,
  workspaceId: string,
  teamIds: readonly string[],
): Promise<TeamRoleRow[]> {
  if (teamIds.length === 0) return [];
  return db
    .select()
    .from(teamRoles)
    .where(and(eq(teamRoles.workspaceId, workspaceId), inArray(teamRoles.teamId, [...teamIds])));
}
