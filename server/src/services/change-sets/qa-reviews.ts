import type { AgentErrorRate, QaReviewView, QaVerdictRequest } from '../../../../shared/qa-api.ts';
import type { Policy } from '../../../../shared/policy.ts';
import { errorRate, isSampled, sampleRate, type ReviewCounts } from '../../domain/qa-sampling.ts';
import { AppError } from '../../errors.ts';
import { listAgents, type AgentRow } from '../../store/agent-store.ts';
import type { ChangeRow } from '../../store/change-store.ts';
import { findPerson } from '../../store/people-store.ts';
import {
  insertQaReviews,
  listQaReviews,
  lockQaReview,
  recordVerdict,
  reviewCounts,
  type QaReviewRow,
} from '../../store/qa-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { actorJson, type Actor, type ServiceDeps, newId, withAuditChain } from '../common/index.ts';
import { startRollback } from '../rollbacks/index.ts';

const REVIEWER_ROLES = new Set(['owner', 'revops_admin', 'approver']);

/**
 * Puts the sampled share of a change set's applied `auto` writes in the review queue. Costs
 * nothing when the agent's role is not sampled; otherwise one insert and one audit event.
 */
export async function sampleAppliedWrites(
  deps: ServiceDeps,
  input: { workspaceId: string; agent: AgentRow; policy: Policy; objectType: string; rows: readonly ChangeRow[] },
): Promise<void> {
  const now = deps.clock();
  const rate = sampleRate(input.policy.qa, { role: input.agent.role, agentCreatedAt: input.agent.createdAt, now });
  if (rate === 0) return;
  const sampled = input.rows.filter(
    (row) => row.tier === 'auto' && row.decision === 'applied' && isSampled(row.id, rate),
  );
  if (sampled.length === 0) return;
  await withAuditChain(deps.db, input.workspaceId, deps.clock, async (tx, audit) => {
    await insertQaReviews(
      tx,
      sampled.map((row) => ({
        id: newId(),
        workspaceId: input.workspaceId,
        changeId: row.id,
        changeSetId: row.changeSetId,
        agentId: input.agent.id,
        objectType: input.objectType,
        recordId: row.recordId,
        property: row.property,
        beforeValue: row.beforeValue,
        appliedValue: row.proposedValue,
        status: 'open',
        sampledAt: now,
      })),
    );
    audit.append({
      type: 'qa.sampled',
      actor: { type: 'system', name: 'qa-sampling' },
      agentId: input.agent.id,
      changeSetId: sampled[0]?.changeSetId ?? null,
      data: { rate, changeIds: sampled.map((row) => row.id) },
    });
  });
}

export async function findQaReviews(
  deps: ServiceDeps,
  workspaceId: string,
  filter: Parameters<typeof listQaReviews>[2],
): Promise<QaReviewView[]> {
  return (await listQaReviews(deps.db, workspaceId, filter)).map(qaView);
}

/**
 * A person's verdict on a sampled write, once. `wrong` reverts the value through a rollback of
 * that one change (the normal write path: re-read first, a later edit by someone else is kept).
 */
export async function reviewQa(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  id: string,
  request: QaVerdictRequest,
): Promise<QaReviewView> {
  const reviewed = await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const row = await lockQaReview(tx, workspace.id, id);
    if (!row) throw new AppError('NOT_FOUND', `There is no QA review ${id} in this workspace.`);
    const person = await findPerson(tx, workspace.id, request.actingUserId);
    if (!person || !REVIEWER_ROLES.has(person.role)) {
      throw new AppError(
        'APPROVAL_DECISION_FORBIDDEN',
        `CRM user ${request.actingUserId} may not review agents' writes; owners, RevOps admins and approvers may.`,
        { details: { refusal: person ? 'role_cannot_decide' : 'person_unknown' } },
      );
    }
    if (row.status !== 'open')
      throw new AppError('APPROVAL_NOT_DECIDABLE', `This write was already reviewed as ${row.status}.`, {
        details: { refusal: 'already_reviewed' },
      });
    const at = deps.clock();
    await recordVerdict(tx, row.id, {
      status: request.verdict,
      reviewedBy: request.actingUserId,
      reviewedAt: at,
      note: request.note ?? null,
      rollbackId: null,
    });
    audit.append({
      type: 'qa.reviewed',
      actor: actorJson(reviewerActor(request.actingUserId, person.role)),
      agentId: row.agentId,
      changeSetId: row.changeSetId,
      objectType: row.objectType,
      recordId: row.recordId,
      property: row.property,
      before: { [row.property]: row.beforeValue },
      after: { [row.property]: row.appliedValue },
      data: {
        reviewId: row.id,
        changeId: row.changeId,
        verdict: request.verdict,
        ...(request.note ? { note: request.note } : {}),
      },
    });
    return {
      ...row,
      status: request.verdict,
      reviewedBy: request.actingUserId,
      reviewedAt: at,
      note: request.note ?? null,
      role: person.role,
    };
  });
  if (reviewed.status !== 'wrong') return qaView(reviewed);
  const rollback = await startRollback(
    deps,
    workspace.id,
    { selector: { changeIds: [reviewed.changeId] }, dryRun: false, force: false },
    reviewerActor(request.actingUserId, reviewed.role),
  );
  await withAuditChain(deps.db, workspace.id, deps.clock, async (tx) => {
    await recordVerdict(tx, reviewed.id, {
      status: 'wrong',
      reviewedBy: request.actingUserId,
      reviewedAt: reviewed.reviewedAt,
      note: reviewed.note,
      rollbackId: rollback.id,
    });
  });
  return qaView({ ...reviewed, rollbackId: rollback.id });
}

/** Each agent's measured error rate from the reviews so far. */
export async function qaErrorRates(deps: ServiceDeps, workspaceId: string): Promise<AgentErrorRate[]> {
  const names = new Map((await listAgents(deps.db, workspaceId)).map((agent) => [agent.id, agent.name]));
  const counts = new Map<string, ReviewCounts>();
  for (const { agentId, status, n } of await reviewCounts(deps.db, workspaceId)) {
    const entry = counts.get(agentId) ?? { agentId, open: 0, correct: 0, wrong: 0 };
    entry[status] = n;
    counts.set(agentId, entry);
  }
  return [...counts.values()].map((entry) => ({
    ...entry,
    agentName: names.get(entry.agentId) ?? entry.agentId,
    errorRate: errorRate(entry),
  }));
}

function reviewerActor(crmUserId: string, role: string): Actor {
  return { type: 'person', name: `crm-user:${crmUserId}`, crmUserId, role, via: 'admin_api' };
}

function qaView(row: QaReviewRow): QaReviewView {
  return {
    id: row.id,
    changeId: row.changeId,
    changeSetId: row.changeSetId,
    agentId: row.agentId,
    objectType: row.objectType,
    recordId: row.recordId,
    property: row.property,
    before: row.beforeValue,
    applied: row.appliedValue,
    status: row.status,
    sampledAt: row.sampledAt.toISOString(),
    reviewedBy: row.reviewedBy,
    reviewedAt: row.reviewedAt?.toISOString() ?? null,
    note: row.note,
    rollbackId: row.rollbackId,
  };
}
