import { randomUUID } from 'node:crypto';
import type { AgentView, CreatedAgent } from '../../../../shared/admin-api.ts';
import type { AgentRole, AgentStatus } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import { hashToken, newToken } from '../../secrets.ts';
import {
  findAgent,
  findAgentByName,
  findAgentByTokenHash,
  insertAgent,
  listAgents,
  updateAgentStatus,
  type AgentRow,
} from '../../store/agent-store.ts';
import { listEngagedKillSwitches } from '../../store/kill-switch-store.ts';
import { engagedSwitchOf } from '../../domain/kill-switch-scope.ts';
import { findWorkspace, findWorkspaceByAdminTokenHash, type WorkspaceRow } from '../../store/workspace-store.ts';
import { actorJson, type Actor, isUuid, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { requireDelegation } from './delegations.ts';

function view(agent: AgentRow): AgentView {
  return {
    id: agent.id,
    name: agent.name,
    role: agent.role,
    status: agent.status,
    createdAt: agent.createdAt.toISOString(),
  };
}

/**
 * The agent a workspace's rollbacks write as, found by this name (see rollbacks/rollback-agent.ts):
 * no one may make another under it, or its token would act as the rollback.
 */
export const ROLLBACK_AGENT_NAME = 'agent-governance-rollback';

/** The bearer token is returned once, here; only its hash is stored. */
export async function createAgent(
  deps: ServiceDeps,
  workspaceId: string,
  input: { name: string; role: AgentRole },
  actor: Actor,
): Promise<CreatedAgent> {
  const id = randomUUID();
  const token = newToken('agt');
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    if (input.name === ROLLBACK_AGENT_NAME)
      throw new AppError('CONFLICT', `"${input.name}" is the name rollbacks write as; give this agent another name.`);
    if (await findAgentByName(tx, workspaceId, input.name))
      throw new AppError('CONFLICT', `An agent named "${input.name}" already exists in this workspace.`);
    await insertAgent(tx, { id, workspaceId, name: input.name, role: input.role, tokenHash: hashToken(token) });
    audit.append({
      type: 'agent.created',
      actor: actorJson(actor),
      agentId: id,
      after: { name: input.name, role: input.role, status: 'active' },
    });
  });
  return { id, name: input.name, role: input.role, status: 'active', createdAt: deps.clock().toISOString(), token };
}

export async function listWorkspaceAgents(deps: ServiceDeps, workspaceId: string): Promise<AgentView[]> {
  return (await listAgents(deps.db, workspaceId)).map(view);
}

/** Pause and resume are reversible; revoke is final, because a leaked token must never work again. */
export async function setAgentStatus(
  deps: ServiceDeps,
  workspaceId: string,
  agentId: string,
  status: AgentStatus,
  actor: Actor,
): Promise<AgentView> {
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const agent = isUuid(agentId) ? await findAgent(tx, workspaceId, agentId) : undefined;
    if (!agent) throw new AppError('NOT_FOUND', `Agent ${agentId} does not exist in this workspace.`);
    if (agent.status === 'revoked' && status !== 'revoked')
      throw new AppError('CONFLICT', `Agent ${agent.name} is revoked; create a new agent instead.`);
    if (agent.status !== status) {
      await updateAgentStatus(tx, workspaceId, agentId, status);
      audit.append({
        type: `agent.${verbFor(status)}`,
        actor: actorJson(actor),
        agentId,
        before: { status: agent.status },
        after: { status },
      });
    }
    return view({ ...agent, status });
  });
}

function verbFor(status: AgentStatus): string {
  switch (status) {
    case 'active':
      return 'resumed';
    case 'paused':
      return 'paused';
    case 'revoked':
      return 'revoked';
  }
}

export interface AuthenticatedAgent {
  agent: AgentRow;
  workspace: WorkspaceRow;
}

export async function authenticateAgent(deps: ServiceDeps, token: string): Promise<AuthenticatedAgent> {
  const tokenHash = hashToken(token);
  const agent = await findAgentByTokenHash(deps.db, tokenHash);
  const workspace = agent ? await findWorkspace(deps.db, agent.workspaceId) : undefined;
  if (!agent || !workspace) {
    // The two kinds of token look alike in a shell history; say which one was sent (issue 18).
    if (await findWorkspaceByAdminTokenHash(deps.db, tokenHash)) {
      throw new AppError(
        'UNAUTHENTICATED',
        'The bearer token is an admin token; the agent API takes an agent token (create one with agents create, or POST /v1/admin/agents).',
        { details: { tokenKind: 'admin' } },
      );
    }
    throw new AppError('UNAUTHENTICATED', 'The bearer token is not a valid agent token.');
  }
  if (agent.status !== 'active')
    throw new AppError('AGENT_NOT_ACTIVE', `Agent ${agent.name} is ${agent.status} and cannot act.`, {
      details: { status: agent.status },
    });
  await refuseWhileSuspended(deps, workspace.id);
  return { agent, workspace };
}

/**
 * The workspace kill switch suspends every agent token until it is released (issue 21): reads,
 * MCP tools and read-backs are refused as writes are, with the code agents already stop on. A
 * stored switch this server does not understand suspends them too: it reads as the workspace's.
 */
async function refuseWhileSuspended(deps: ServiceDeps, workspaceId: string): Promise<void> {
  const stop = (await listEngagedKillSwitches(deps.db, workspaceId))
    .map(engagedSwitchOf)
    .find((engaged) => engaged.scope === 'workspace');
  if (!stop) return;
  // The reason is what a person typed, often without a full stop; the next sentence must not run into it.
  const reason = /[.!?]$/.test(stop.reason) ? stop.reason : `${stop.reason}.`;
  throw new AppError(
    'KILL_SWITCH_ENGAGED',
    `A workspace kill switch is engaged: ${reason} Agent tokens are suspended until it is released.`,
    {
      details: {
        scope: 'workspace',
        target: null,
        reason: stop.reason,
        engagedAt: stop.changedAt.toISOString(),
        tokensSuspended: true,
      },
    },
  );
}

/** An agent as the audit names it. */
export type AgentActor = Extract<Actor, { type: 'agent' }>;

/**
 * The agent as the audit records it, acting for a person only through an unexpired delegation
 * from them (DELEGATION_INVALID otherwise).
 */
export async function agentActor(
  deps: ServiceDeps,
  input: { workspaceId: string; agent: AgentRow; onBehalfOf?: { crmUserId: string } | undefined },
): Promise<AgentActor> {
  const { agent, onBehalfOf } = input;
  const delegation = onBehalfOf
    ? await requireDelegation(deps, {
        workspaceId: input.workspaceId,
        agentId: agent.id,
        crmUserId: onBehalfOf.crmUserId,
      })
    : undefined;
  return {
    type: 'agent',
    agentId: agent.id,
    name: agent.name,
    role: agent.role,
    ...(onBehalfOf && delegation
      ? { onBehalfOf: { crmUserId: onBehalfOf.crmUserId, delegationId: delegation.delegationId } }
      : {}),
  };
}
