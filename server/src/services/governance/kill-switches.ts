import type { KillSwitchView } from '../../../../shared/admin-api.ts';
import { ACTION_KINDS, type ActionKind } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import { findAgent } from '../../store/agent-store.ts';
import type { Db, Tx } from '../../store/database.ts';
import {
  findKillSwitch,
  listEngagedKillSwitches,
  listKillSwitches,
  upsertKillSwitch,
  type KillSwitchRow,
  type KillSwitchScope,
} from '../../store/kill-switch-store.ts';
import { LIST_SEGMENT_PREFIX, RECORD_SEGMENT_PREFIX, type SegmentCondition } from '../../../../shared/kill-switch.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { CrmPort } from '../../crm/port.ts';
import { canonicalJson } from '../../domain/audit-chain.ts';
import {
  engagedSwitchOf,
  LIST_TARGET,
  normalisedTarget,
  notUnderstoodSentence,
  segmentList,
  segmentProperties,
  switchStopping,
  type EngagedSwitch,
  type StopSubject,
} from '../../domain/kill-switch-scope.ts';
import { recipientDomain } from '../../domain/policy-evaluation.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { startQuarantine } from './quarantine.ts';
import { requireWorkspace } from './workspaces.ts';
import { killSwitchReleaseReasons } from '../../domain/dual-control.ts';
import { actorJson, type Actor, type ServiceDeps, isUuid, withAuditChain } from '../common/index.ts';
import { updateAgentSafety } from '../../store/agent-safety-store.ts';
import { requireSecondAdmin } from './governance-requests.ts';
import { checkAgentRelease } from './safe-release.ts';
import { policyInForce } from './policies.ts';

/** A row as stored; one this server does not understand is listed as it is, saying so, its condition left out if it does not parse. */
function view(row: KillSwitchRow): KillSwitchView {
  const notUnderstood = notUnderstoodSentence(row);
  return {
    scope: row.scope,
    target: row.target || null,
    ...(row.condition && notUnderstood === null ? { condition: row.condition as SegmentCondition } : {}),
    engaged: row.engaged,
    reason: row.reason,
    changedBy: row.changedBy,
    changedAt: row.changedAt.toISOString(),
    ...(notUnderstood ? { notUnderstood } : {}),
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
    condition?: SegmentCondition | undefined;
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
  if (input.engaged && input.scope === 'segment' && input.target?.startsWith(LIST_SEGMENT_PREFIX)) {
    if (!deps.crmFor(await requireWorkspace(deps, workspaceId)).listMembers)
      throw new AppError(
        'VALIDATION_FAILED',
        'This workspace’s CRM has no lists a switch can name: give the segment as a record condition.',
      );
  }
  const release =
    input.scope === 'agent' && !input.engaged ? await checkAgentRelease(deps, workspaceId, input, actor) : undefined;
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const { target, condition } = await resolveTarget(tx, workspaceId, input);
    const before = await findKillSwitch(tx, { workspaceId, scope: input.scope, target });
    if (release)
      await updateAgentSafety(tx, { workspaceId, agentId: target }, { safeModeUntil: release.safeModeUntil });
    const row: KillSwitchRow = {
      workspaceId,
      scope: input.scope,
      target,
      condition: condition ?? before?.condition ?? null,
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
    if (input.scope === 'agent' && input.engaged && !before?.engaged)
      await startQuarantine(tx, audit, { workspaceId, agentId: target, reason: input.reason, now: row.changedAt });
    return view(row);
  });
}

async function resolveTarget(
  tx: Tx,
  workspaceId: string,
  input: { scope: KillSwitchScope; target?: string | undefined; condition?: SegmentCondition | undefined },
): Promise<{ target: string; condition?: SegmentCondition }> {
  const { scope, target } = input;
  if (input.condition && scope !== 'segment')
    throw new AppError('VALIDATION_FAILED', 'Only a segment kill switch takes a condition.');
  switch (scope) {
    case 'workspace':
      if (target) throw new AppError('VALIDATION_FAILED', 'A workspace kill switch takes no target.');
      return { target: '' };
    case 'agent':
      if (!target || !isUuid(target) || !(await findAgent(tx, workspaceId, target))) {
        throw new AppError('NOT_FOUND', `Agent ${target ?? '(none given)'} does not exist in this workspace.`);
      }
      return { target };
    case 'action':
      if (!target || !(ACTION_KINDS as readonly string[]).includes(target)) {
        throw new AppError(
          'VALIDATION_FAILED',
          `An action kill switch needs one of ${ACTION_KINDS.join(', ')} as its target.`,
        );
      }
      return { target };
    case 'segment':
      return segmentTarget(target, input.condition);
    case 'recipient_domain':
      if (!target || !DOMAIN.test(target.trim()))
        throw new AppError('VALIDATION_FAILED', 'A recipient_domain kill switch needs a domain such as acme.com.');
      return { target: normalisedTarget(scope, target) };
    case 'template':
    case 'evidence_source':
      if (!target?.trim())
        throw new AppError(
          'VALIDATION_FAILED',
          `A ${scope} kill switch needs the ${scope === 'template' ? 'template family' : 'evidence source'} as its target.`,
        );
      return { target: normalisedTarget(scope, target) };
  }
}

const DOMAIN = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/**
 * A segment is a CRM list (`list:<id>`) or a record condition; released by the same target, so a
 * condition's target is its canonical text.
 */
function segmentTarget(
  target: string | undefined,
  condition: SegmentCondition | undefined,
): { target: string; condition?: SegmentCondition } {
  if (condition && target && target !== conditionTarget(condition))
    throw new AppError('VALIDATION_FAILED', 'A segment kill switch takes a list target or a condition, not both.');
  if (condition) return { target: conditionTarget(condition), condition };
  if (target?.startsWith(RECORD_SEGMENT_PREFIX)) return { target };
  if (!target || !LIST_TARGET.test(target))
    throw new AppError(
      'VALIDATION_FAILED',
      `A segment kill switch needs a CRM list as its target (${LIST_SEGMENT_PREFIX}<list id>) or a record condition.`,
    );
  return { target };
}

function conditionTarget(condition: SegmentCondition): string {
  return `${RECORD_SEGMENT_PREFIX}${canonicalJson(condition)}`;
}

function actorName(actor: Actor): string {
  return actor.type === 'agent' ? `agent:${actor.agentId}` : `${actor.type}:${actor.name}`;
}

export async function listWorkspaceKillSwitches(deps: ServiceDeps, workspaceId: string): Promise<KillSwitchView[]> {
  return (await listKillSwitches(deps.db, workspaceId)).map(view);
}

/**
 * The engaged switch that stops this agent doing this action, if any (workspace first, then agent,
 * then action); a stored switch this server does not understand stops everything, as the workspace's.
 */
export async function engagedKillSwitch(
  db: Db | Tx,
  query: { workspaceId: string; agentId: string; action: ActionKind },
): Promise<KillSwitchView | undefined> {
  const rows = await listEngagedKillSwitches(db, query.workspaceId);
  const engaged = rows.map(engagedSwitchOf);
  const stopping = requestWideSwitch(engaged, query);
  if (!stopping) return undefined;
  return { ...switchView(stopping), engaged: true, changedBy: rows[engaged.indexOf(stopping)]!.changedBy };
}

export async function assertNotKilled(
  db: Db,
  query: { workspaceId: string; agentId: string; action: ActionKind },
): Promise<void> {
  const engaged = await engagedKillSwitch(db, query);
  if (engaged) throw killSwitchError(engaged);
}

/** The refusal an agent gets from a switch that stops what it asked: 423, naming the switch. */
export function killSwitchError(engaged: Pick<KillSwitchView, 'scope' | 'target' | 'reason' | 'changedAt'>): AppError {
  // The first three scopes keep the sentence agents already read; the scoped ones name their target.
  const named = ['workspace', 'agent', 'action'].includes(engaged.scope)
    ? `${engaged.scope} kill switch`
    : `${engaged.scope} kill switch (${engaged.target ?? ''})`;
  return new AppError('KILL_SWITCH_ENGAGED', `A ${named} is engaged: ${engaged.reason}`, {
    details: { scope: engaged.scope, target: engaged.target, reason: engaged.reason, engagedAt: engaged.changedAt },
  });
}

/**
 * Every engaged switch of the workspace, read once, after refusing the request (423) if one of them
 * stops this agent doing this action outright (workspace, agent or action scope): the same refusal
 * as `assertNotKilled`, and the rest for matching write by write.
 */
export async function engagedSwitchesUnlessKilled(
  db: Db,
  query: { workspaceId: string; agentId: string; action: ActionKind },
): Promise<EngagedSwitch[]> {
  const engaged = await engagedSwitches(db, query.workspaceId);
  const stopping = requestWideSwitch(engaged, query);
  if (stopping) throw killSwitchError(switchView(stopping));
  return engaged;
}

/**
 * Of switches already read, the one that stops this agent doing this action whatever the record
 * (workspace first, then agent, then action), as `engagedKillSwitch` reads it from the database.
 */
export function requestWideSwitch(
  engaged: readonly EngagedSwitch[],
  query: { agentId: string; action: ActionKind },
): EngagedSwitch | undefined {
  return switchStopping(
    engaged.filter((candidate) => REQUEST_WIDE_SCOPES.includes(candidate.scope)),
    { agentId: query.agentId, action: query.action },
  );
}

const REQUEST_WIDE_SCOPES: readonly KillSwitchScope[] = ['workspace', 'agent', 'action'];

/**
 * Every engaged switch of the workspace, for matching write by write and draft by draft; one this
 * server does not understand reads as the workspace switch (`engagedSwitchOf`).
 */
export async function engagedSwitches(db: Db | Tx, workspaceId: string): Promise<EngagedSwitch[]> {
  return (await listEngagedKillSwitches(db, workspaceId)).map(engagedSwitchOf);
}

/** The switch as an agent's refusal or a write's failure names it. */
export function switchView(engaged: EngagedSwitch): Pick<KillSwitchView, 'scope' | 'target' | 'reason' | 'changedAt'> {
  return {
    scope: engaged.scope,
    target: engaged.target || null,
    reason: engaged.reason,
    changedAt: engaged.changedAt.toISOString(),
  };
}

/**
 * For each record, the engaged list segments it is in: one CRM call per engaged list switch, none
 * when no list switch is engaged. A CRM without lists matches none (engaging one is refused there).
 */
export async function listsOfRecords(
  crm: CrmPort,
  engaged: readonly EngagedSwitch[],
  recordIds: readonly string[],
): Promise<Map<string, Set<string>>> {
  const lists = new Map<string, Set<string>>();
  const listIds = [...new Set(engaged.map(segmentList).filter((id): id is string => id !== null))];
  if (listIds.length === 0 || recordIds.length === 0 || !crm.listMembers) return lists;
  for (const listId of listIds) {
    for (const recordId of await crm.listMembers({ listId, recordIds })) {
      const of = lists.get(recordId) ?? new Set<string>();
      of.add(listId);
      lists.set(recordId, of);
    }
  }
  return lists;
}

/**
 * The engaged switch that stops one draft (issue 21): the agent, its kind or the workspace, and
 * the record's segments, the recipient's domain, the template family and the evidence source.
 * Reads the record only when a condition segment is engaged, and the lists only when a list one is.
 */
export async function switchStoppingDraft(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  draft: {
    agentId: string;
    action: ActionKind;
    objectType: ObjectType;
    recordId: string;
    recipientEmail?: string | null | undefined;
    template?: string | null | undefined;
    evidenceSource?: string | undefined;
  },
): Promise<EngagedSwitch | undefined> {
  const engaged = await engagedSwitches(deps.db, workspace.id);
  if (engaged.length === 0) return undefined;
  const subject: StopSubject = {
    agentId: draft.agentId,
    action: draft.action,
    objectType: draft.objectType,
    recordId: draft.recordId,
    ...(draft.recipientEmail ? { recipientDomain: recipientDomain(draft.recipientEmail) } : {}),
    ...(draft.template ? { template: draft.template } : {}),
    ...(draft.evidenceSource ? { evidenceSource: draft.evidenceSource } : {}),
  };
  const early = switchStopping(
    engaged.filter((candidate) => candidate.scope !== 'segment'),
    subject,
  );
  if (early) return early;
  const segments = engaged.filter((candidate) => candidate.scope === 'segment');
  if (segments.length === 0) return undefined;
  const crm = deps.crmFor(workspace);
  const properties = segmentProperties(segments, draft.objectType);
  const record =
    properties.length > 0
      ? (await crm.readBatch({ objectType: draft.objectType, recordIds: [draft.recordId], properties })).get(
          draft.recordId,
        )
      : undefined;
  const lists = (await listsOfRecords(crm, segments, [draft.recordId])).get(draft.recordId);
  return switchStopping(segments, {
    ...subject,
    ...(record ? { record } : {}),
    ...(lists ? { lists } : {}),
  });
}
