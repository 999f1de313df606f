import { randomUUID } from 'node:crypto';
import type { DelegationView } from '../../../../shared/admin-api.ts';
import { AppError } from '../../errors.ts';
import {
  type DelegationRow,
  findActiveDelegation,
  findAgent,
  findDelegation,
  insertDelegation,
  listLiveDelegations as liveDelegations,
  revokeDelegation,
} from '../../store/agent-store.ts';
import { actorJson, type Actor, isUuid, type ServiceDeps, withAuditChain } from '../common/index.ts';

/**
 * Delegations: a person lets an agent act for them (`onBehalfOf`) until a date, or until someone
 * who manages agents ends it early, as when the person leaves or withdraws their consent.
 */

function view(row: DelegationRow): DelegationView {
  return {
    id: row.id,
    agentId: row.agentId,
    crmUserId: row.crmUserId,
    expiresAt: row.expiresAt.toISOString(),
    ...(row.revokedAt === null ? {} : { revokedAt: row.revokedAt.toISOString() }),
  };
}

/** A person lets an agent act for them until `expiresAt`; the audit names both. */
export async function createDelegation(
  deps: ServiceDeps,
  workspaceId: string,
  input: { agentId: string; crmUserId: string; expiresAt: Date },
  actor: Actor,
): Promise<DelegationView> {
  if (input.expiresAt <= deps.clock())
    throw new AppError('VALIDATION_FAILED', 'A delegation must expire in the future.');
  const id = randomUUID();
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const agent = isUuid(input.agentId) ? await findAgent(tx, workspaceId, input.agentId) : undefined;
    if (!agent) throw new AppError('NOT_FOUND', `Agent ${input.agentId} does not exist in this workspace.`);
    await insertDelegation(tx, {
      id,
      workspaceId,
      agentId: agent.id,
      crmUserId: input.crmUserId,
      expiresAt: input.expiresAt,
    });
    audit.append({
      type: 'delegation.created',
      actor: actorJson(actor),
      agentId: agent.id,
      after: { delegationId: id, crmUserId: input.crmUserId, expiresAt: input.expiresAt.toISOString() },
    });
  });
  return { id, agentId: input.agentId, crmUserId: input.crmUserId, expiresAt: input.expiresAt.toISOString() };
}

/** Who each agent may act for now: the delegations not expired or revoked. */
export async function listLiveDelegations(deps: ServiceDeps, workspaceId: string): Promise<DelegationView[]> {
  return (await liveDelegations(deps.db, workspaceId, deps.clock())).map(view);
}

/**
 * Ends a delegation now: from then on the agent may not act for the person, and emails it drafted
 * for them are no longer vouched for to a sending service. Ending one already revoked answers it as
 * it is (a retried request records one end: the audit chain's lock orders two at once); one that
 * has expired is a conflict, as there is nothing left to end.
 */
export async function endDelegation(
  deps: ServiceDeps,
  workspaceId: string,
  delegationId: string,
  actor: Actor,
): Promise<DelegationView> {
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const row = isUuid(delegationId) ? await findDelegation(tx, workspaceId, delegationId) : undefined;
    if (!row) throw new AppError('NOT_FOUND', `Delegation ${delegationId} does not exist in this workspace.`);
    if (row.revokedAt !== null) return view(row);
    const now = deps.clock();
    if (row.expiresAt <= now)
      throw new AppError(
        'CONFLICT',
        `Delegation ${delegationId} already expired at ${row.expiresAt.toISOString()}; there is nothing left to end.`,
      );
    await revokeDelegation(tx, workspaceId, row.id, now);
    audit.append({
      type: 'delegation.revoked',
      actor: actorJson(actor),
      agentId: row.agentId,
      before: { delegationId: row.id, crmUserId: row.crmUserId, expiresAt: row.expiresAt.toISOString() },
      after: { delegationId: row.id, crmUserId: row.crmUserId, revokedAt: now.toISOString() },
    });
    return view({ ...row, revokedAt: now });
  });
}

export async function requireDelegation(
  deps: ServiceDeps,
  query: { workspaceId: string; agentId: string; crmUserId: string },
): Promise<{ delegationId: string }> {
  const delegation = await findActiveDelegation(deps.db, { ...query, now: deps.clock() });
  if (!delegation) {
    throw new AppError(
      'DELEGATION_INVALID',
      `This agent holds no unexpired delegation from CRM user ${query.crmUserId}, so it cannot act on their behalf.`,
    );
  }
  return { delegationId: delegation.id };
}
