import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { Policy } from '../../../../shared/policy.ts';
import type { CrmPort } from '../../crm/port.ts';
import type { FieldEvaluation } from '../../domain/policy-evaluation.ts';
import type { AgentRow } from '../../store/agent-store.ts';
import { insertChangeSet } from '../../store/change-store.ts';
import type { Tx } from '../../store/database.ts';
import { addUsage } from '../../store/usage-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { type Actor, newId, type ServiceDeps } from '../common/index.ts';
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
  input: {
    workspaceId: string;
    agentId: string;
    batchId: string;
    objectType: string;
    policyVersion: number;
    delegationId: string | null;
    now: Date;
  },
): Promise<ChangeSetHeader> {
  const { now } = input;
  const lease = changeSetLeaseOf(deps);
  const header: ChangeSetHeader = {
    id: newId(),
    batchId: input.batchId,
    objectType: input.objectType,
    agentId: input.agentId,
    policyVersion: input.policyVersion,
    status: 'applying',
    createdAt: now,
  };
  await insertChangeSet(tx, {
    ...header,
    workspaceId: input.workspaceId,
    delegationId: input.delegationId,
    leaseHolder: lease.holder,
    leaseExpiresAt: new Date(now.getTime() + lease.leaseMs),
  });
  return header;
}

/** Adds the entries an agent's change set counts against its daily cap of `scope`. */
export async function countAgainstDailyCap(
  tx: Tx,
  input: {
    workspaceId: string;
    scope: 'agent_creates' | 'agent_associations';
    day: string;
    agentId: string;
    added: number;
  },
): Promise<void> {
  if (input.added > 0)
    await addUsage(tx, {
      workspaceId: input.workspaceId,
      scope: input.scope,
      day: input.day,
      increments: new Map([[input.agentId, input.added]]),
    });
}

/**
 * Applies a just-stored change set's entries while renewing its lease, and gives its header with
 * the status it reached: `applying` when the lease was lost (recovery finishes it then).
 */
export async function applyUnderLease(
  deps: ServiceDeps,
  header: ChangeSetHeader,
  apply: (leaseHeld: () => Promise<boolean>) => Promise<boolean>,
): Promise<ChangeSetHeader> {
  const lease = keepChangeSetLease(deps, header.id);
  let completed: boolean;
  try {
    completed = await apply(() => lease.confirm());
  } finally {
    lease.stop();
  }
  return { ...header, status: completed ? 'completed' : 'applying' };
}
