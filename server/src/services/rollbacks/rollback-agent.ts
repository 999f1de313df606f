import { randomUUID } from 'node:crypto';
import { hashToken, newToken } from '../../secrets.ts';
import { findAgentByName, insertAgent, type AgentRow } from '../../store/agent-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { ROLLBACK_AGENT_NAME } from '../governance/index.ts';

export { ROLLBACK_AGENT_NAME };

/**
 * A rollback's writes are a change set like any other (so a rollback can itself be rolled back,
 * issue 7), and a change set belongs to an agent: each workspace gets this one, created on its
 * first rollback. Its token is never shown, so nothing can act as it; its kill switch stops
 * rollbacks. Who ran a rollback is on the rollback and in every audit event, as the actor.
 */
export async function ensureRollbackAgent(deps: ServiceDeps, workspaceId: string, actor: Actor): Promise<AgentRow> {
  const existing = await findAgentByName(deps.db, workspaceId, ROLLBACK_AGENT_NAME);
  if (existing) return existing;
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    // Under the chain lock: two first rollbacks at once create it once.
    const raced = await findAgentByName(tx, workspaceId, ROLLBACK_AGENT_NAME);
    if (raced) return raced;
    const id = randomUUID();
    await insertAgent(tx, {
      id,
      workspaceId,
      name: ROLLBACK_AGENT_NAME,
      role: 'admin',
      tokenHash: hashToken(newToken('agt')),
    });
    audit.append({
      type: 'agent.created',
      actor: actorJson(actor),
      agentId: id,
      after: { name: ROLLBACK_AGENT_NAME, role: 'admin', status: 'active' },
      data: { purpose: 'rollback' },
    });
    const created = await findAgentByName(tx, workspaceId, ROLLBACK_AGENT_NAME);
    if (!created) throw new Error('the rollback agent was not stored');
    return created;
  });
}
