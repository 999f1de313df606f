import type { KillSwitchView } from '../../../../shared/admin-api.ts';
import { ACTION_KINDS, type ActionKind } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import { findAgent } from '../../store/agent-store.ts';
import type { Db, Tx } from '../../store/database.ts';
import {
  findEngagedKillSwitches,
  findKillSwitch,
  listKillSwitches,
  upsertKillSwitch,
  type KillSwitchRow,
  type KillSwitchScope,
} from '../../store/kill-switch-store.ts';
import { killSwitchReleaseReasons } from '../../domain/dual-control.ts';
import { actorJson, type Actor, type ServiceDeps, isUuid, withAuditChain } from '../common/index.ts';
import { updateAgentSafety } from '../../store/agent-safety-store.ts';
import { requireSecondAdmin } from './governance-requests.ts';
import { checkAgentRelease } from './safe-release.ts';
import { policyInForce } from './policies.ts';

function view(row: KillSwitchRow): KillSwitchView {
  return {
    scope: row.scope,
    target: row.target || null,
    engaged: row.engaged,
    reason: row.reason,
    changedBy: row.changedBy,
    changedAt: row.changedAt.toISOString(),
  };
}

/**
 * Engages or releases one switch. Takes effect for the next submission and the next CRM call.
 * An agent a kill trigger stopped is released only past its regression set, into safe mode.
 * Releasing the workspace switch waits for a second admin when the policy asks for dual control
 * (`confirmed` is set only by that confirmation).
 */
export async function setKillSwitch(
  deps: ServiceDeps,
  workspaceId: string,
  input: {
    scope: KillSwitchScope;
    target?: string | undefined;
    engaged: boolean;
    reason: string;
    force?: boolean | undefined;
  },
  actor: Actor,
  options: { confirmed?: boolean } = {},
): Promise<KillSwitchView> {
  if (!options.confirmed && !input.engaged && input.scope === 'workspace') {
    const current = await findKillSwitch(deps.db, { workspaceId, scope: 'workspace', target: '' });
    const reasons = killSwitchReleaseReasons((await policyInForce(deps.db, workspaceId))?.dualControl, {
      scope: input.scope,
      engaged: input.engaged,
      wasEngaged: current?.engaged ?? false,
    });
    if (reasons.length > 0)
      await requireSecondAdmin(deps, workspaceId, {
        kind: 'kill_switch_release',
        payload: { scope: input.scope, reason: input.reason },
        reasons,
        actor,
      });
  }
  const release =
    input.scope === 'agent' && !input.engaged ? await checkAgentRelease(deps, workspaceId, input, actor) : undefined;
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const target = await resolveTarget(tx, workspaceId, input.scope, input.target);
    const before = await findKillSwitch(tx, { workspaceId, scope: input.scope, target });
    if (release)
      await updateAgentSafety(tx, { workspaceId, agentId: target }, { safeModeUntil: release.safeModeUntil });
    const row: KillSwitchRow = {
      workspaceId,
      scope: input.scope,
      target,
      engaged: input.engaged,
      reason: input.reason,
      changedBy: actorName(actor),
      changedAt: deps.clock(),
    };
    await upsertKillSwitch(tx, row);
    audit.append({
      type: input.engaged ? 'kill_switch.engaged' : 'kill_switch.released',
      actor: actorJson(actor),
      agentId: input.scope === 'agent' ? target : null,
      before: before ? { engaged: before.engaged, reason: before.reason } : { engaged: false },
      after: { engaged: input.engaged, reason: input.reason },
      data: {
        scope: input.scope,
        target: target || null,
        ...(release
          ? {
              regression: release.regression,
              forced: release.forced,
              safeModeUntil: release.safeModeUntil.toISOString(),
            }
          : {}),
      },
    });
    return view(row);
  });
}

async function resolveTarget(
  tx: Tx,
  workspaceId: string,
  scope: KillSwitchScope,
  target: string | undefined,
): Promise<string> {
  switch (scope) {
    case 'workspace':
      if (target) throw new AppError('VALIDATION_FAILED', 'A workspace kill switch takes no target.');
      return '';
    case 'agent':
      if (!target || !isUuid(target) || !(await findAgent(tx, workspaceId, target))) {
        throw new AppError('NOT_FOUND', `Agent ${target ?? '(none given)'} does not exist in this workspace.`);
      }
      return target;
    case 'action':
      if (!target || !(ACTION_KINDS as readonly string[]).includes(target)) {
        throw new AppError(
          'VALIDATION_FAILED',
          `An action kill switch needs one of ${ACTION_KINDS.join(', ')} as its target.`,
        );
      }
      return target;
  }
}

function actorName(actor: Actor): string {
  return actor.type === 'agent' ? `agent:${actor.agentId}` : `${actor.type}:${actor.name}`;
}

export async function listWorkspaceKillSwitches(deps: ServiceDeps, workspaceId: string): Promise<KillSwitchView[]> {
  return (await listKillSwitches(deps.db, workspaceId)).map(view);
}

/** The engaged switch that stops this agent doing this action, if any (workspace first, then agent, then action). */
export async function engagedKillSwitch(
  db: Db | Tx,
  query: { workspaceId: string; agentId: string; action: ActionKind },
): Promise<KillSwitchView | undefined> {
  const rows = await findEngagedKillSwitches(db, query);
  const order: KillSwitchScope[] = ['workspace', 'agent', 'action'];
  const first = rows.sort((a, b) => order.indexOf(a.scope) - order.indexOf(b.scope))[0];
  return first ? view(first) : undefined;
}

export async function assertNotKilled(
  db: Db,
  query: { workspaceId: string; agentId: string; action: ActionKind },
): Promise<void> {
  const engaged = await engagedKillSwitch(db, query);
  if (engaged) {
    throw new AppError('KILL_SWITCH_ENGAGED', `A ${engaged.scope} kill switch is engaged: ${engaged.reason}`, {
      details: { scope: engaged.scope, target: engaged.target, reason: engaged.reason, engagedAt: engaged.changedAt },
    });
  }
}
