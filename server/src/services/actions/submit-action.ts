import { createHash } from 'node:crypto';
import type { ActionRequest, ActionView } from '../../../../shared/action-api.ts';
import type { Policy, Tier } from '../../../../shared/policy.ts';
import type { ReasonCode } from '../../../../shared/reason-codes.ts';
import type { ContactFields } from '../../../../shared/crm-names.ts';
import { refuseUnconnectedObjectType } from '../../crm/connections.ts';
import type { CrmRecordValues } from '../../crm/port.ts';
import { normalisedEmail, stopRuleProperties } from '../../domain/action-drafts.ts';
import { holdForGates, type AgentHold } from '../../domain/agent-safety.ts';
import { asJson, canonicalJson } from '../../domain/audit-chain.ts';
import { describeFindings, evaluateContent, type ContentFinding } from '../../domain/content-rules.ts';
import { evaluateRecordAction, evaluateSend } from '../../domain/policy-evaluation.ts';
import { AppError } from '../../errors.ts';
import {
  findAction,
  findActionByIdempotencyKey,
  insertAction,
  type ActionRow,
  type NewActionRow,
} from '../../store/action-store.ts';
import type { AgentRow } from '../../store/agent-store.ts';
import type { Tx } from '../../store/database.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import {
  agentActor,
  assertNotKilled,
  activePolicy,
  gatesForSubmission,
  killSwitchError,
  switchStoppingDraft,
  switchView,
  withinAgentBudget,
} from '../governance/index.ts';
import { actionEvent } from './action-audit.ts';
import { assertDraftTextFits } from './draft-text.ts';
import { agentActionView, requireAction } from './action-view.ts';
import { actorJson, type ServiceDeps, newId, withAuditChain } from '../common/index.ts';
import { executeReleasedAction, releaseChange } from './release-action.ts';
import { countSend, readSendFrequency, recentTouchMessage, type SendCounts } from './send-frequency.ts';
import { currentStopReason, stopReleasedEmailIfBarred } from './stop-rules.ts';

export interface SubmitActionInput {
  agent: AgentRow;
  workspace: WorkspaceRow;
  request: ActionRequest;
  idempotencyKey?: string | undefined;
}

interface Decision {
  tier: Tier | null;
  reasons: ReasonCode[];
  /** What the policy's content rules matched (issue 21), named in the action's message and its audit events. */
  findings?: ContentFinding[];
  /** The counts (recipient domain, contact, account) this email takes one from. */
  counts?: SendCounts;
  /** Why it was refused, in a sentence, when the reason code alone does not say whose email came first. */
  message?: string;
}

/**
 * The agent's story for one action: refuse if killed; check the delegation; read the record
 * (owner, and for an email the stop-rule properties); under the workspace's chain lock apply
 * the stop rules, then the policy, and store and audit the result. An `auto` action is released
 * at once (a task or a note is then created in the CRM); a held one waits for people.
 */
export async function submitAction(
  deps: ServiceDeps,
  input: SubmitActionInput,
): Promise<{ view: ActionView; replayed: boolean }> {
  const { agent, workspace, request } = input;
  // Bad input like a schema's refusal: nothing is stored, audited or counted against the budget.
  refuseUnconnectedObjectType(deps.crmFor(workspace), request.objectType, 'The action');
  assertDraftTextFits(deps.crmFor(workspace).forObject(request.objectType), request.kind, {
    subject: 'subject' in request ? request.subject : undefined,
    body: request.body,
  });
  await assertNotKilled(deps.db, { workspaceId: workspace.id, agentId: agent.id, action: request.kind });
  const stopped = await switchStoppingDraft(deps, workspace, {
    agentId: agent.id,
    action: request.kind,
    objectType: request.objectType,
    recordId: request.recordId,
    recipientEmail: request.kind === 'send_email' ? request.to : null,
    template: request.template,
    evidenceSource: request.evidence.source,
  });
  if (stopped) throw killSwitchError(switchView(stopped));
  const key = input.idempotencyKey && { workspaceId: workspace.id, agentId: agent.id, key: input.idempotencyKey };
  const budgeted = {
    workspaceId: workspace.id,
    agent,
    costs: request.evidence.cost ? [{ ...request.evidence.cost, path: 'evidence.cost' }] : [],
    replays: async () => Boolean(key && (await findActionByIdempotencyKey(deps.db, key))),
  };
  return withinAgentBudget(deps, { ...budgeted, counted: (result) => !result.replayed }, () =>
    submitWithinBudget(deps, input),
  );
}

async function submitWithinBudget(
  deps: ServiceDeps,
  input: SubmitActionInput,
): Promise<{ view: ActionView; replayed: boolean }> {
  const { agent, workspace, request } = input;
  const actor = await agentActor(deps, { workspaceId: workspace.id, agent, onBehalfOf: request.onBehalfOf });
  const key = input.idempotencyKey
    ? { workspaceId: workspace.id, agentId: agent.id, key: input.idempotencyKey }
    : undefined;
  const requestHash = createHash('sha256').update(canonicalJson(request)).digest('hex');
  const earlier = key ? await findActionByIdempotencyKey(deps.db, key) : undefined;
  if (earlier) return { view: await replay(deps, earlier, requestHash), replayed: true };

  const { version, policy: policyInForce } = await activePolicy(deps.db, workspace.id);
  // Safe mode lowers the agent's caps; it, a new prompt hash or a jump in volume hold its `auto` drafts.
  const { policy, holds } = await gatesForSubmission(deps, {
    workspaceId: workspace.id,
    agent,
    policy: policyInForce,
    promptHashes: request.evidence.promptHash ? [request.evidence.promptHash] : [],
    writes: 0,
  });
  // The record's own CRM: its owner property and contact fields, in a workspace of both CRMs too.
  const crm = deps.crmFor(workspace).forObject(request.objectType);
  const { account } = crm.contactFields;
  const properties =
    request.kind === 'send_email'
      ? [crm.ownerProperty, ...stopRuleProperties(crm.contactFields), ...(account ? [account] : [])]
      : [crm.ownerProperty];
  const read = await crm.readBatch({ objectType: request.objectType, recordIds: [request.recordId], properties });
  const record = read.get(request.recordId);

  const stored = await withAuditChain(
    deps.db,
    workspace.id,
    deps.clock,
    async (tx, audit): Promise<{ row: ActionRow; replayed: boolean }> => {
      // Submissions of one workspace take this lock one at a time, so a concurrent retry with the same key finds the first here.
      const concurrent = key ? await findActionByIdempotencyKey(tx, key) : undefined;
      if (concurrent) return { row: concurrent, replayed: true };
      const now = deps.clock();
      const decision = heldByGates(
        await decide(tx, { workspace, agent, request, policy, record, contactFields: crm.contactFields, now }),
        holds,
      );
      const row = newRow({
        workspace,
        agent,
        request,
        version,
        policy,
        recordOwnerId: record?.[crm.ownerProperty] || null,
        decision,
        delegatedUserId: request.onBehalfOf?.crmUserId ?? null,
        key: input.idempotencyKey,
        requestHash,
        now,
      });
      await insertAction(tx, row.status === 'released' ? { ...row, ...releaseChange(deps.secrets, row, now) } : row);
      const saved = await requireStored(tx, row);
      if (decision.counts) await countSend(tx, { workspaceId: workspace.id, policy, now, counts: decision.counts });

      const base = { actor: actorJson(actor), reasons: decision.reasons };
      audit.append(
        actionEvent(saved, {
          ...base,
          type: 'action.submitted',
          after: asJson(request),
          evidence: asJson(request.evidence),
          data: { tier: decision.tier, ...(decision.findings ? { contentFindings: asJson(decision.findings) } : {}) },
        }),
      );
      if (saved.status === 'refused')
        audit.append(
          actionEvent(saved, {
            ...base,
            type: 'action.refused',
            data: { tier: decision.tier, ...(decision.message ? { message: decision.message } : {}) },
          }),
        );
      if (saved.status === 'pending')
        audit.append(
          actionEvent(saved, {
            ...base,
            type: 'action.held',
            data: { tier: decision.tier, expiresAt: saved.expiresAt?.toISOString() ?? null },
          }),
        );
      if (saved.status === 'released')
        audit.append(
          actionEvent(saved, {
            ...base,
            type: 'action.released',
            data: { tier: decision.tier, approvedBy: [], contentHash: saved.contentHash ?? null },
          }),
        );
      return { row: saved, replayed: false };
    },
  );
  if (stored.replayed) return { view: await replay(deps, stored.row, requestHash), replayed: true };
  if (stored.row.status === 'released') await executeReleasedAction(deps, workspace, stored.row.id);
  return {
    view: await agentActionView(deps, await requireAction(deps.db, workspace.id, stored.row.id)),
    replayed: false,
  };
}

async function requireStored(tx: Tx, row: NewActionRow): Promise<ActionRow> {
  const stored = await findAction(tx, row.workspaceId, row.id);
  if (!stored) throw new AppError('INTERNAL', `Action ${row.id} was not stored.`);
  return stored;
}

async function replay(deps: ServiceDeps, row: ActionRow, requestHash: string): Promise<ActionView> {
  if (row.requestHash !== requestHash) {
    throw new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used for a different action; use a new key for a new submission.',
    );
  }
  // A replay hands out a released email as the agent's read does, so a stop noted since release stops it first.
  return agentActionView(deps, await stopReleasedEmailIfBarred(deps, row));
}

interface DecideInput {
  workspace: WorkspaceRow;
  agent: AgentRow;
  request: ActionRequest;
  policy: Policy;
  record: CrmRecordValues | undefined;
  contactFields: ContactFields;
  now: Date;
}

/** Stop rules first (compliance, whatever the policy says), then the policy (deny by default), then its content rules. */
async function decide(tx: Tx, input: DecideInput): Promise<Decision> {
  const decision = await decideByPolicy(tx, input);
  if (decision.tier === null || decision.tier === 'deny') return decision;
  const { request } = input;
  const content = evaluateContent({
    policy: input.policy,
    agentRole: input.agent.role,
    action: request.kind,
    tier: decision.tier,
    texts: { subject: 'subject' in request ? request.subject : undefined, body: request.body },
  });
  if (content.findings.length === 0) return decision;
  const { counts, ...rest } = decision;
  return {
    ...rest,
    tier: content.tier,
    reasons: [...decision.reasons, ...content.reasons],
    findings: content.findings,
    // A draft the content rules refuse is not sent, so it takes nothing from the daily counts.
    ...(counts && content.tier !== 'deny' ? { counts } : {}),
  };
}

function heldByGates(decision: Decision, holds: readonly AgentHold[]): Decision {
  const { tier } = decision;
  return tier === null ? decision : { ...decision, ...holdForGates({ tier, reasons: decision.reasons }, holds) };
}

async function decideByPolicy(tx: Tx, input: DecideInput): Promise<Decision> {
  const { request, policy, agent, record, now } = input;
  if (!record) return { tier: null, reasons: ['record_not_found'] };
  if (request.kind !== 'send_email') {
    const evaluation = evaluateRecordAction({ policy, agentRole: agent.role, action: request.kind, now });
    return { tier: evaluation.tier, reasons: evaluation.reasons };
  }
  const stopped = await currentStopReason(tx, {
    workspaceId: input.workspace.id,
    objectType: request.objectType,
    contactId: request.recordId,
    to: request.to,
    contact: record,
    fields: input.contactFields,
  });
  if (stopped) return { tier: null, reasons: [stopped] };
  const frequency = await readSendFrequency(tx, {
    workspaceId: input.workspace.id,
    agentId: agent.id,
    contactId: request.recordId,
    to: request.to,
    policy,
    record,
    fields: input.contactFields,
    now,
  });
  const evaluation = evaluateSend({
    policy,
    agentRole: agent.role,
    recipientEmail: request.to,
    usage: frequency.usage,
    lastTouchByAnotherAgent: frequency.lastTouchByAnotherAgent,
    now,
  });
  const touched = evaluation.reasons.includes('contact_recently_touched') && frequency.lastTouch;
  return {
    tier: evaluation.tier,
    reasons: evaluation.reasons,
    ...(evaluation.countsTowardCap ? { counts: frequency.counts } : {}),
    ...(touched ? { message: await recentTouchMessage(tx, policy, touched) } : {}),
  };
}

interface NewRowInput {
  workspace: WorkspaceRow;
  agent: AgentRow;
  request: ActionRequest;
  version: number;
  policy: Policy;
  /** Who owns the record in the CRM: a rep decides only on records they own. */
  recordOwnerId: string | null;
  decision: Decision;
  delegatedUserId: string | null;
  key: string | undefined;
  requestHash: string;
  now: Date;
}

function newRow(input: NewRowInput): NewActionRow {
  const { request, decision, now } = input;
  const { kind, objectType, recordId, onBehalfOf: _onBehalfOf, evidence, template, ...content } = request;
  const held = decision.tier === 'approval' || decision.tier === 'two_person';
  return {
    id: newId(),
    workspaceId: input.workspace.id,
    agentId: input.agent.id,
    kind,
    objectType,
    recordId,
    policyVersion: input.version,
    tier: decision.tier,
    status: decision.tier === null || decision.tier === 'deny' ? 'refused' : held ? 'pending' : 'released',
    reasons: decision.reasons,
    content,
    evidence,
    template: template ?? null,
    recipientEmail: request.kind === 'send_email' ? normalisedEmail(request.to) : null,
    recordOwnerId: input.recordOwnerId,
    delegatedUserId: input.delegatedUserId,
    approvedBy: [],
    expiresAt: held ? new Date(now.getTime() + input.policy.approvals.expiryHours * 3_600_000) : null,
    message: decision.message ?? (decision.findings ? describeFindings(decision.findings) : null),
    // A held draft is one of the record's approvals: the mirror job writes it to the CRM's approval object.
    mirrorSeq: held ? 1 : 0,
    idempotencyKey: input.key ?? null,
    requestHash: input.requestHash,
    createdAt: now,
  };
}
