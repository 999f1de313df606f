import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import type { AgentRole, AgentStatus } from '../../../shared/crm-names.ts';
import type { Db, Tx } from './database.ts';
import { agents, delegations } from './schema.ts';

export type AgentRow = typeof agents.$inferSelect;
export type DelegationRow = typeof delegations.$inferSelect;

export async function insertAgent(
  tx: Tx,
  row: { id: string; workspaceId: string; name: string; role: AgentRole; tokenHash: string },
): Promise<void> {
  await tx.insert(agents).values({ ...row, status: 'active' });
}

export async function listAgents(db: Db | Tx, workspaceId: string): Promise<AgentRow[]> {
  return db
    .select()
    .from(agents)
    .where(eq(agents.workspaceId, workspaceId))
    .orderBy(asc(agents.createdAt), asc(agents.name));
}

export async function findAgent(db: Db | Tx, workspaceId: string, agentId: string): Promise<AgentRow | undefined> {
  const [row] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.workspaceId, workspaceId), eq(agents.id, agentId)));
  return row;
}

export async function findAgentByName(db: Db | Tx, workspaceId: string, name: string): Promise<AgentRow | undefined> {
  const [row] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.workspaceId, workspaceId), eq(agents.name, name)));
  return row;
}

export async function findAgentByTokenHash(db: Db, tokenHash: string): Promise<AgentRow | undefined> {
  const [row] = await db.select().from(agents).where(eq(agents.tokenHash, tokenHash));
  return row;
}

export async function updateAgentStatus(
  tx: Tx,
  workspaceId: string,
  agentId: string,
  status: AgentStatus,
): Promise<void> {
  await tx
    .update(agents)
    .set({ status })
    .where(and(eq(agents.workspaceId, workspaceId), eq(agents.id, agentId)));
}

export async function insertDelegation(
  tx: Tx,
  row: { id: string; workspaceId: string; agentId: string; crmUserId: string; expiresAt: Date },
): Promise<void> {
  await tx.insert(delegations).values(row);
}

/** The newest unexpired, unrevoked delegation from this person to this agent. */
export async function findActiveDelegation(
  db: Db,
  query: { workspaceId: string; agentId: string; crmUserId: string; now: Date },
): Promise<DelegationRow | undefined> {
  const [row] = await db
    .select()
    .from(delegations)
    .where(
      and(
        eq(delegations.workspaceId, query.workspaceId),
        eq(delegations.agentId, query.agentId),
        eq(delegations.crmUserId, query.crmUserId),
        gt(delegations.expiresAt, query.now),
        isNull(delegations.revokedAt),
      ),
    )
    .orderBy(asc(delegations.expiresAt))
    .limit(1);
  return row;
}

/** A delegation by id, whatever its state: recovery names the person a change set was made for. */
export async function findDelegation(db: Db | Tx, workspaceId: string, id: string): Promise<DelegationRow | undefined> {
  const [row] = await db
    .select()
    .from(delegations)
    .where(and(eq(delegations.workspaceId, workspaceId), eq(delegations.id, id)));
  return row;
}

export async function revokeDelegation(tx: Tx, workspaceId: string, id: string, now: Date): Promise<void> {
  await tx
    .update(delegations)
    .set({ revokedAt: now })
    .where(and(eq(delegations.workspaceId, workspaceId), eq(delegations.id, id)));
}

/** The delegations still in force (not expired, not revoked), soonest to end first. */
export async function listLiveDelegations(db: Db | Tx, workspaceId: string, now: Date): Promise<DelegationRow[]> {
  return db
    .select()
    .from(delegations)
    .where(and(eq(delegations.workspaceId, workspaceId), gt(delegations.expiresAt, now), isNull(delegations.revokedAt)))
    .orderBy(asc(delegations.expiresAt));
}
