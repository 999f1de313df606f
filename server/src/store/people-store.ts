import { and, asc, eq } from 'drizzle-orm';
import type { PersonRole } from '../domain/approval-lifecycle.ts';
import type { Db, Tx } from './database.ts';
import { people } from './approval-schema.ts';

export type PersonRow = typeof people.$inferSelect;

export async function upsertPerson(tx: Db | Tx, row: { workspaceId: string; crmUserId: string; role: PersonRole; crmOwnerId: string | null; updatedAt: Date }): Promise<PersonRow | undefined> {
  const [previous] = await tx.select().from(people).where(and(eq(people.workspaceId, row.workspaceId), eq(people.crmUserId, row.crmUserId)));
  await tx
    .insert(people)
    .values(row)
    .onConflictDoUpdate({ target: [people.workspaceId, people.crmUserId], set: { role: row.role, crmOwnerId: row.crmOwnerId, updatedAt: row.updatedAt } });
  return previous;
}

export async function findPerson(db: Db | Tx, workspaceId: string, crmUserId: string): Promise<PersonRow | undefined> {
  const [row] = await db.select().from(people).where(and(eq(people.workspaceId, workspaceId), eq(people.crmUserId, crmUserId)));
  return row;
}

export async function listPeople(db: Db, workspaceId: string): Promise<PersonRow[]> {
  return db.select().from(people).where(eq(people.workspaceId, workspaceId)).orderBy(asc(people.crmUserId));
}
