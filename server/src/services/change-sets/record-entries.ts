import type { Evidence } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { Policy } from '../../../../shared/policy.ts';
import type { CrmPort } from '../../crm/port.ts';
import type { AgentHold } from '../../domain/agent-safety.ts';
import { entryRetryAt, RETRIED_REASONS } from '../../domain/held-entry.ts';
import { asJson, type JsonObject, type NewAuditEvent } from '../../domain/audit-chain.ts';
import type { FieldEvaluation } from '../../domain/policy-evaluation.ts';
import type { AgentRow } from '../../store/agent-store.ts';
import { completeChangeSet, deferChangeSet, insertChangeSet } from '../../store/change-store.ts';
import type { Tx } from '../../store/database.ts';
import { attachChangeSet } from '../../store/idempotency-store.ts';
import { addUsage } from '../../store/usage-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { type Actor, actorJson, type AuditAppender, newId, type ServiceDeps } from '../common/index.ts';
import { changeSetLeaseOf, keepChangeSetLease } from './change-set-lease.ts';
import type { ChangeSetHeader } from './change-set-view.ts';

/*
 * The steps record creations and record associations (issue 21) share: both decide their entries
 * under the workspace's chain lock, store them under a new change set, then apply the `auto` ones.
 */

/** What applying a change set's decided entries needs: the stored rows and who applies them, not the request. */
export interface ApplyEntriesInput<Row> {
  crm: CrmPort;
  workspace: WorkspaceRow;
  agent: AgentRow;
  actor: Actor;
  batchId: string;
  objectType: ObjectType;
  policyVersion: number;
  changeSetId: string;
  rows: Row[];
}

/** What of a change set's request its creations' or associations' steps read. */
interface EntriesRequest {
  batchId: string;
  objectType: ObjectType;
  changes: readonly { evidence: Evidence }[];
}

/** A submitted change set of creations or associations, and who submits it under which policy. */
export interface EntriesSubmission<Request extends EntriesRequest = EntriesRequest> {
  crm: CrmPort;
  agent: AgentRow;
  workspace: WorkspaceRow;
  request: Request;
  actor: Actor;
  policyVersion: number;
  policy: Policy;
  /** Why the agent's `auto` entries are held for a person now (safe mode, gates on change). */
  holds: readonly AgentHold[];
  key: { workspaceId: string; agentId: string; key: string } | undefined;
  delegationId: string | null;
}

/**
 * Refuses the entries a scoped kill switch stops (`stopped[i]` set), whatever the policy says;
 * an entry refused so takes nothing from the day's cap it was counted against.
 */
export function refuseStopped<E extends FieldEvaluation>(
  decided: { evaluations: E[]; added: number },
  stopped: readonly unknown[],
): { evaluations: E[]; added: number } {
  return {
    evaluations: decided.evaluations.map((evaluation, index) =>
      stopped[index]
        ? { ...evaluation, tier: 'deny' as const, reasons: [...evaluation.reasons, 'kill_switch_engaged' as const] }
        : evaluation,
    ),
    added: decided.added - decided.evaluations.filter((e, index) => stopped[index] && e.tier !== 'deny').length,
  };
}

/** A decided entry's first state: refused, applied now, or held for a person. */
export function entryDecision(tier: string): 'denied' | 'applying' | 'pending_approval' {
  return tier === 'deny' ? 'denied' : tier === 'auto' ? 'applying' : 'pending_approval';
}

/** When a held entry stops waiting for a person; null for one not held. */
export function approvalExpiry(tier: string, now: Date, policy: Policy): Date | null {
  return tier === 'approval' || tier === 'two_person'
    ? new Date(now.getTime() + policy.approvals.expiryHours * 3_600_000)
    : null;
}

/** Stores the change set that holds the entries, leased to this process, which applies them next. */
export async function insertEntriesChangeSet(
  deps: ServiceDeps,
  tx: Tx,
  input: EntriesSubmission,
  now: Date,
): Promise<ChangeSetHeader> {
  const lease = changeSetLeaseOf(deps);
  const header: ChangeSetHeader = {
    id: newId(),
    batchId: input.request.batchId,
    objectType: input.request.objectType,
    agentId: input.agent.id,
    policyVersion: input.policyVersion,
    status: 'applying',
    createdAt: now,
  };
  await insertChangeSet(tx, {
    ...header,
    workspaceId: input.workspace.id,
    delegationId: input.delegationId,
    leaseHolder: lease.holder,
    leaseExpiresAt: new Date(now.getTime() + lease.leaseMs),
  });
  return header;
}

/** A stored entry as the audit event of its decision tells it. */
interface DecidedEntry {
  id: string;
  ordinal: number;
  tier: string | null;
  decision: string;
  reasons: string[];
}

/**
 * What follows storing a change set's decided entries, in its transaction: the idempotency key
 * names the change set, the entries count against the agent's daily cap of `cap.scope`, and each
 * decision is audited as a `decided.type` event, with what `decided.describe` says of its entry.
 */
export async function recordDecidedEntries<Row extends DecidedEntry>(
  tx: Tx,
  audit: AuditAppender,
  input: EntriesSubmission,
  stored: { header: ChangeSetHeader; rows: readonly Row[] },
  cap: { scope: 'agent_creates' | 'agent_associations'; day: string; added: number },
  decided: {
    type: string;
    describe: (row: Row) => { recordId: string | null; after: JsonObject; data?: JsonObject };
  },
): Promise<void> {
  const { workspace, agent, request } = input;
  if (input.key) await attachChangeSet(tx, input.key, stored.header.id);
  if (cap.added > 0)
    await addUsage(tx, {
      workspaceId: workspace.id,
      scope: cap.scope,
      day: cap.day,
      increments: new Map([[agent.id, cap.added]]),
    });
  await audit.appendAll(
    stored.rows.map((row): NewAuditEvent => {
      const described = decided.describe(row);
      return {
        type: decided.type,
        actor: actorJson(input.actor),
        agentId: agent.id,
        batchId: request.batchId,
        changeSetId: stored.header.id,
        objectType: request.objectType,
        recordId: described.recordId,
        before: null,
        after: described.after,
        evidence: asJson(request.changes[row.ordinal]!.evidence),
        reasons: row.reasons,
        policyVersion: input.policyVersion,
        data: { changeId: row.id, ordinal: row.ordinal, tier: row.tier, decision: row.decision, ...described.data },
      };
    }),
  );
}

/**
 * Applies a just-stored change set's entries while renewing its lease, and gives its header with
 * the status it reached: `applying` when the lease was lost (recovery finishes it then).
 */
export async function applyUnderLease<Row>(
  deps: ServiceDeps,
  input: EntriesSubmission,
  stored: { header: ChangeSetHeader; rows: Row[] },
  apply: (deps: ServiceDeps, input: ApplyEntriesInput<Row>, leaseHeld: () => Promise<boolean>) => Promise<boolean>,
): Promise<ChangeSetHeader> {
  const { header } = stored;
  const lease = keepChangeSetLease(deps, header.id);
  let completed: boolean;
  try {
    completed = await apply(
      deps,
      {
        crm: input.crm,
        workspace: input.workspace,
        agent: input.agent,
        actor: input.actor,
        batchId: input.request.batchId,
        objectType: input.request.objectType,
        policyVersion: input.policyVersion,
        changeSetId: header.id,
        rows: stored.rows,
      },
      () => lease.confirm(),
    );
  } finally {
    lease.stop();
  }
  return { ...header, status: completed ? 'completed' : 'applying' };
}

type FailureReason = 'crm_rejected' | 'crm_unavailable' | 'kill_switch_engaged';

/**
 * What became of an entry the CRM did not take: one a person approved that failed for now (the CRM
 * unanswered, a kill switch engaged) stays `applying` and is tried again at `retryAt`, as an
 * approved field change is; any other fails for good (an agent's `auto` entry: the agent is told).
 */
export function entryFailure<Reason extends FailureReason>(
  row: { id: string; approvedBy: readonly string[]; decidedAt: Date | null },
  reason: Reason,
  message: string,
  now: Date,
): { id: string; reason: Reason; message: string; retryAt?: Date } {
  const retried = row.approvedBy.length > 0 && (RETRIED_REASONS as readonly string[]).includes(reason);
  return retried
    ? { id: row.id, reason, message, retryAt: entryRetryAt(row.decidedAt ?? now, now) }
    : { id: row.id, reason, message };
}

/**
 * Ends a run over a change set's entries: completed (unless entries of it are still `applying`),
 * or, when some wait to be tried again, left to recovery at the earliest of their retries.
 */
export async function finishEntries(deps: ServiceDeps, changeSetId: string, retries: readonly Date[]): Promise<void> {
  const retryAt = retries.reduce<Date | undefined>((first, at) => (first && first <= at ? first : at), undefined);
  await deps.db.transaction((tx) =>
    retryAt ? deferChangeSet(tx, changeSetId, retryAt) : completeChangeSet(tx, changeSetId),
  );
}
