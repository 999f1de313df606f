import type { ApprovalDecisionRequest, ApprovalView } from '../../../../shared/approval-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { decide, expire, type DecisionCommand, type RefusalCode } from '../../domain/approval-lifecycle.ts';
import { AppError } from '../../errors.ts';
import {
  lockApproval,
  saveTransitions,
  toDomainApproval,
  type StoredApproval,
  type TransitionWrite,
} from '../../store/approval-store.ts';
import { findPerson, type PersonRow } from '../../store/people-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { applyApprovals } from './apply-approval.ts';
import { approvalView, requireApproval } from './approval-view.ts';
import {
  actorJson,
  type Actor,
  type AnswerWhen,
  type ServiceDeps,
  toCrmValue,
  withAuditChain,
  type AuditAppender,
  writeNowOrBehind,
} from '../common/index.ts';
import { checkRejectionRate } from '../governance/index.ts';

/** The state machine's refusals, plus one only the service can see: the person is not registered. */
export type DecisionRefusal = RefusalCode | 'person_unknown';

/** Who may decide (403) versus what state the approval is in (409). */
export const STATE_REFUSALS: ReadonlySet<DecisionRefusal> = new Set([
  'approval_not_pending',
  'approval_expired',
  'unknown_property',
]);

export interface DecideApprovalInput {
  workspace: WorkspaceRow;
  approvalId: string;
  request: ApprovalDecisionRequest;
  /** Where the person decided: the admin API names them, the HubSpot app's signed request or a console session proves them. */
  via?: 'admin_api' | 'hubspot_app' | 'console';
  /** The person as the HubSpot app already resolved them (their own role, or their HubSpot team's); otherwise looked up in `people`. */
  person?: DecidingPerson;
  /**
   * `decided`: answer once the decision is stored and write the approved values behind the answer
   * (the console's decisions, where a person waits for the row to leave the inbox); `applied` (the
   * default): answer with the CRM write's outcome, as the admin API's callers and the HubSpot card
   * (which refreshes the record's properties next) rely on.
   */
  answer?: AnswerWhen;
}

export type DecidingPerson = Pick<PersonRow, 'crmUserId' | 'role' | 'crmOwnerId'>;

export type Outcome = { ok: true; approved: boolean } | { ok: false; code: DecisionRefusal; message: string };

/**
 * A person's decision on one approval: check edited values against the CRM's types; then, under
 * the workspace's chain lock and the approval's row lock, look up the person's role, let the
 * state machine decide, and store and audit the result (a refusal is audited too). An approval
 * that became `approved` is then written to the CRM (see apply-approval.ts), before answering or,
 * when the caller asks for `answer: 'decided'`, behind the answer.
 */
export async function decideApproval(deps: ServiceDeps, input: DecideApprovalInput): Promise<ApprovalView> {
  const { workspace, approvalId, request } = input;
  const found = await requireApproval(deps, workspace.id, approvalId);
  const edits =
    request.kind === 'approve' && request.edits
      ? await validatedEdits(deps, workspace, found, request.edits)
      : undefined;

  const outcome = await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit): Promise<Outcome> => {
    const stored = await lockApproval(tx, workspace.id, approvalId);
    if (!stored) throw new AppError('NOT_FOUND', `There is no approval ${approvalId} in this workspace.`);
    const person = input.person ?? (await findPerson(tx, workspace.id, request.actingUserId));
    const writes: TransitionWrite[] = [];
    const decided = decideLocked(audit, {
      stored,
      person,
      request,
      edits,
      via: input.via ?? 'admin_api',
      now: deps.clock(),
      writes,
    });
    await saveTransitions(tx, writes);
    return decided;
  });

  if (!outcome.ok) {
    const code = STATE_REFUSALS.has(outcome.code) ? 'APPROVAL_NOT_DECIDABLE' : 'APPROVAL_DECISION_FORBIDDEN';
    throw new AppError(code, outcome.message, { details: { refusal: outcome.code } });
  }
  const view = async () => approvalView(await requireApproval(deps, workspace.id, approvalId));
  // The approval is stored `approved`, the apply queue's row: if this process dies first, the approval job writes it.
  if (outcome.approved)
    return writeNowOrBehind(
      deps.behindAnswers,
      input.answer,
      () => applyApprovals(deps, { workspace, approvalIds: [approvalId] }),
      view,
    );
  if (request.kind === 'reject')
    await checkRejectionRate(deps, workspace.id, [{ agentId: found.agentId, batchId: found.batchId }]);
  return view();
}

export interface LockedDecision {
  stored: StoredApproval;
  person: DecidingPerson | undefined;
  request: ApprovalDecisionRequest;
  edits?: Record<string, string | null> | undefined;
  via: 'admin_api' | 'hubspot_app' | 'console';
  now: Date;
  /** Set when the decision is one of a batch: the manifest event names it. */
  batchDecisionId?: string;
  /** Where the transition goes; the caller stores them all with saveTransitions before committing. */
  writes: TransitionWrite[];
}

/**
 * One person's decision on one approval the caller holds locked, under the workspace's chain
 * lock: the state machine decides, the transition is queued in `writes` and audited (a refusal
 * too). Shared by single and batch decisions so both follow the same rules.
 */
export function decideLocked(audit: AuditAppender, input: LockedDecision): Outcome {
  const { stored, person, request, edits, via, now } = input;
  const actor: Actor = {
    type: 'person',
    name: `crm-user:${request.actingUserId}`,
    crmUserId: request.actingUserId,
    role: person?.role ?? null,
    via,
  };
  if (!person) {
    const refusal = {
      ok: false,
      code: 'person_unknown',
      message: `CRM user ${request.actingUserId} has no role in this workspace; an admin gives one with PUT /v1/admin/people/:crmUserId.`,
    } as const;
    auditRefusal(audit, stored, actor, request.kind, refusal);
    return refusal;
  }
  const command: DecisionCommand =
    request.kind === 'approve'
      ? {
          kind: 'approve',
          by: { userId: person.crmUserId, role: person.role, ownerId: person.crmOwnerId },
          ...(request.properties ? { properties: request.properties } : {}),
          ...(edits ? { edits } : {}),
        }
      : {
          kind: 'reject',
          by: { userId: person.crmUserId, role: person.role, ownerId: person.crmOwnerId },
          ...(request.properties ? { properties: request.properties } : {}),
          reason: request.reason,
        };
  const approval = toDomainApproval(stored);
  const transition = decide(approval, command, now);
  if (!transition.ok) {
    auditRefusal(audit, stored, actor, request.kind, transition);
    if (transition.code === 'approval_expired') {
      // The sweep would expire it anyway; doing it now keeps what the caller reads next true.
      input.writes.push({
        stored,
        next: expire(approval, now),
        change: { decidedAt: now, message: 'Nobody decided before the approval expired.' },
      });
      audit.append({
        ...subject(stored),
        type: 'approval.expired',
        actor: actorJson(actor),
        data: { approvalId: stored.id },
      });
    }
    return transition;
  }
  const next = transition.approval;
  const settled = next.status !== 'pending';
  const decidedBy = [...new Set([...next.items.flatMap((item) => item.approvedBy), person.crmUserId])];
  input.writes.push({
    stored,
    next,
    change: {
      ...(settled ? { decidedAt: now, decidedBy } : {}),
      ...(request.kind === 'reject' && next.status === 'rejected' ? { message: request.reason } : {}),
    },
  });
  const targets = new Set(
    request.properties ?? stored.items.filter((item) => item.status === 'pending').map((item) => item.property),
  );
  const decided = next.items.filter((item) => targets.has(item.property));
  audit.append({
    ...subject(stored),
    type: 'approval.decided',
    actor: actorJson(actor),
    before: Object.fromEntries(
      stored.items.filter((item) => targets.has(item.property)).map((item) => [item.property, item.beforeValue]),
    ),
    // What this person agreed to write: an edited value, else the agent's proposal.
    after:
      request.kind === 'approve'
        ? Object.fromEntries(
            decided.map((item) => [
              item.property,
              item.editedValue !== undefined ? item.editedValue : item.proposedValue,
            ]),
          )
        : null,
    data: {
      approvalId: stored.id,
      ...(input.batchDecisionId ? { batchDecisionId: input.batchDecisionId } : {}),
      kind: request.kind,
      properties: [...targets],
      status: next.status,
      ...(edits
        ? {
            edits: Object.fromEntries(
              Object.entries(edits).map(([property, value]) => [
                property,
                {
                  proposed: stored.items.find((item) => item.property === property)?.proposedValue ?? null,
                  edited: value,
                },
              ]),
            ),
          }
        : {}),
      ...(request.kind === 'reject' ? { reason: request.reason } : {}),
    },
  });
  return { ok: true, approved: next.status === 'approved' };
}

function subject(stored: StoredApproval) {
  return {
    agentId: stored.agentId,
    batchId: stored.batchId,
    changeSetId: stored.changeSetId,
    objectType: stored.objectType,
    recordId: stored.recordId,
    policyVersion: stored.policyVersion,
  };
}

function auditRefusal(
  audit: AuditAppender,
  stored: StoredApproval,
  actor: Actor,
  kind: string,
  refusal: { code: DecisionRefusal; message: string },
): void {
  audit.append({
    ...subject(stored),
    type: 'approval.refused',
    actor: actorJson(actor),
    reasons: [refusal.code],
    data: { approvalId: stored.id, kind, refusal: refusal.code, message: refusal.message },
  });
}

/** Edited values must name a held property and fit its CRM type, as an agent's proposal had to. */
async function validatedEdits(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  stored: StoredApproval,
  edits: Record<string, string | number | boolean | null>,
): Promise<Record<string, string | null>> {
  const stray = Object.keys(edits).filter((property) => !stored.items.some((item) => item.property === property));
  if (stray.length > 0)
    throw new AppError('VALIDATION_FAILED', `The edits name ${stray.join(', ')}, which this approval does not hold.`, {
      details: { properties: stray },
    });
  const definitions = await deps.crmFor(workspace).describeProperties(stored.objectType as ObjectType);
  const converted: Record<string, string | null> = {};
  for (const [property, value] of Object.entries(edits)) {
    const definition = definitions.get(property);
    if (!definition)
      throw new AppError(
        'UNKNOWN_PROPERTY',
        `${stored.objectType} have no property named ${property} in the CRM any more.`,
      );
    const result = toCrmValue(definition, value);
    if (!result.ok)
      throw new AppError('INVALID_PROPERTY_VALUE', `The edited value does not fit: ${result.message}.`, {
        details: { property },
      });
    converted[property] = result.value;
  }
  return converted;
}
