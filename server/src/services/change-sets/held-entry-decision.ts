import type { ChangeSetResponse, CreationDecision } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { mayDecide, type PersonRole } from '../../domain/approval-lifecycle.ts';
import { AppError } from '../../errors.ts';
import { findAgent, findDelegation } from '../../store/agent-store.ts';
import { claimChangeSetForApproved, findChangeSet } from '../../store/change-store.ts';
import type { Db, Tx } from '../../store/database.ts';
import { findPerson } from '../../store/people-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { type Actor, actorJson, type AuditAppender, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { changeSetLeaseOf, keepChangeSetLease } from './change-set-lease.ts';
import type { ApplyEntriesInput } from './record-entries.ts';
import type { DecidingPerson } from '../held/index.ts';

/** What a held creation or association carries that a person's decision on it reads. */
interface HeldEntry {
  decision: string;
  tier: string | null;
  expiresAt: Date | null;
  approvedBy: string[];
  delegationId: string | null;
  message: string | null;
}

/** A held entry's state after a person's decision. */
interface HeldEntryNext {
  decision: 'applying' | 'pending_approval' | 'denied';
  approvedBy: string[];
  message: string | null;
  /** Set once the entry stops waiting: approved enough, or rejected. */
  decidedAt: Date | null;
}

/** A stored creation or association, as the decision on it reads, audits and applies it. */
export type StoredHeldEntry = Omit<HeldEntry, 'delegationId'> & {
  decidedAt: Date | null;
  id: string;
  changeSetId: string;
  objectType: string;
  recordId: string | null;
};

/** What a stored entry's lock also reads from its change set. */
type LockedHeldEntry = { batchId: string; agentId: string; delegationId: string | null };

/** What deciding a held creation and a held association differ in: where it is stored, its events, how it is applied. */
export interface HeldEntryKind<Row extends StoredHeldEntry> {
  /** The entry's noun in messages. */
  what: 'creation' | 'association';
  /** Those of `ids` that are entries of this kind in the workspace, locked in id order. */
  lock(tx: Tx, workspaceId: string, ids: readonly string[]): Promise<(Row & LockedHeldEntry)[]>;
  update(tx: Tx, id: string, next: HeldEntryNext): Promise<void>;
  events: { approved: string; rejected: string };
  apply(deps: ServiceDeps, input: ApplyEntriesInput<Row>, leaseHeld: () => Promise<boolean>): Promise<boolean>;
  /** The entry alone, read back after its decision: never the rest of its change set, which may hold thousands. */
  find(db: Db, query: { workspaceId: string; changeSetId: string; id: string }): Promise<Row | undefined>;
  result(row: Row): EntryResult;
}

type EntryResult = ChangeSetResponse['results'][number];

/** A person's decision on a held entry, and where they made it. */
export interface HeldEntryDecision {
  request: CreationDecision;
  /** The admin API names the person; the HubSpot app's signed request or a console session proves them. */
  via?: 'admin_api' | 'hubspot_app' | 'console';
  /** The person as the HubSpot app or the console already resolved them (their own role, or their team's); otherwise looked up in `people`. */
  person?: DecidingPerson | undefined;
}

/** A locked entry a person decided, as it now stands, and whether it is approved enough to be applied. */
export interface DecidedEntry<Row extends StoredHeldEntry> {
  row: Row & LockedHeldEntry;
  actor: Actor;
  ready: boolean;
}

/**
 * A person's decision on a held creation or association (issue 21), audited whatever it is. Once
 * approved enough, the entry is applied as an `auto` one would be (kill switch checked first);
 * a rejection refuses it for good. Returns the entry as its change set's view shows it now.
 */
export async function decideHeldRecordEntry<Row extends StoredHeldEntry, Result extends EntryResult>(
  deps: ServiceDeps,
  kind: HeldEntryKind<Row>,
  input: { workspace: WorkspaceRow; id: string } & HeldEntryDecision,
): Promise<Result> {
  const { workspace, id } = input;
  const { decided, claimed } = await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const [row] = await kind.lock(tx, workspace.id, [id]);
    if (!row) throw new AppError('NOT_FOUND', `There is no ${kind.what} ${id} in this workspace.`);
    const decided = await decideLockedEntry(tx, audit, kind, {
      workspaceId: workspace.id,
      row,
      decision: input,
      now: deps.clock(),
    });
    return { decided, claimed: await claimForApply(deps, tx, decided.ready ? [row.changeSetId] : []) };
  });
  await applyDecidedEntries(deps, kind, { workspace, decided: [decided], claimed });
  const { row } = decided;
  const stored = await kind.find(deps.db, { workspaceId: workspace.id, changeSetId: row.changeSetId, id: row.id });
  if (!stored) throw new AppError('NOT_FOUND', `There is no ${kind.what} ${id} in this workspace.`);
  return kind.result(stored) as Result;
}

/**
 * Decides one locked entry by the approvals' rules (decideHeldEntry), stores and audits the
 * decision; a refusal is thrown as the single route answers it. `batchDecisionId` names the batch
 * decision it is part of.
 */
export async function decideLockedEntry<Row extends StoredHeldEntry>(
  tx: Tx,
  audit: AuditAppender,
  kind: HeldEntryKind<Row>,
  input: {
    workspaceId: string;
    row: Row & LockedHeldEntry;
    decision: HeldEntryDecision;
    now: Date;
    batchDecisionId?: string;
  },
): Promise<DecidedEntry<Row>> {
  const { row, decision } = input;
  const { request } = decision;
  const { actor, ready, next } = await decideHeldEntry(tx, {
    workspaceId: input.workspaceId,
    entry: row,
    what: kind.what,
    request,
    via: decision.via ?? 'admin_api',
    person: decision.person,
    now: input.now,
  });
  await kind.update(tx, row.id, next);
  audit.append({
    type: request.kind === 'approve' ? kind.events.approved : kind.events.rejected,
    actor: actorJson(actor),
    agentId: row.agentId,
    batchId: row.batchId,
    changeSetId: row.changeSetId,
    objectType: row.objectType,
    // Null for a held creation: it has no record yet.
    recordId: row.recordId,
    data: {
      changeId: row.id,
      approvedBy: next.approvedBy,
      ...(request.kind === 'reject' ? { reason: request.reason } : { complete: ready }),
      ...(input.batchDecisionId ? { batchDecisionId: input.batchDecisionId } : {}),
    },
  });
  return { row: { ...row, ...next }, actor, ready };
}

/**
 * In the decision's transaction, takes the lease of each change set whose entries were just
 * approved enough, so they are applied by this process or, should it die first, by recovery
 * once the lease lapses: an approved entry is never left behind. Gives the change sets taken; one
 * another holder is writing is left to it (its completion leaves these to recovery).
 */
export async function claimForApply(deps: ServiceDeps, tx: Tx, changeSetIds: readonly string[]): Promise<Set<string>> {
  const { holder, leaseMs } = changeSetLeaseOf(deps);
  const now = deps.clock();
  const claimed = new Set<string>();
  for (const id of new Set(changeSetIds))
    if (await claimChangeSetForApproved(tx, { id, holder, now, until: new Date(now.getTime() + leaseMs) }))
      claimed.add(id);
  return claimed;
}

/**
 * Applies the entries approved enough, a change set at a time, under the lease claimForApply
 * took. Should the CRM fail for now, they wait to be tried again (entryFailure); should the run
 * itself fail, the lease lapses and recovery tries them again, so the decision still stands.
 */
export async function applyDecidedEntries<Row extends StoredHeldEntry>(
  deps: ServiceDeps,
  kind: HeldEntryKind<Row>,
  input: { workspace: WorkspaceRow; decided: readonly DecidedEntry<Row>[]; claimed: ReadonlySet<string> },
): Promise<void> {
  const { workspace } = input;
  const ready = input.decided.filter((decided) => decided.ready && input.claimed.has(decided.row.changeSetId));
  for (const [changeSetId, entries] of Map.groupBy(ready, (decided) => decided.row.changeSetId)) {
    const first = entries[0]!;
    const lease = keepChangeSetLease(deps, changeSetId);
    try {
      const [changeSet, agent] = await Promise.all([
        findChangeSet(deps.db, workspace.id, changeSetId),
        findAgent(deps.db, workspace.id, first.row.agentId),
      ]);
      if (!changeSet || !agent) throw new AppError('INTERNAL', `Change set ${changeSetId} or its agent is gone.`);
      await kind.apply(
        deps,
        {
          crm: deps.crmFor(workspace),
          workspace,
          agent,
          actor: first.actor,
          batchId: first.row.batchId,
          objectType: first.row.objectType as ObjectType,
          policyVersion: changeSet.policyVersion,
          changeSetId,
          rows: entries.map((decided) => decided.row),
        },
        () => lease.confirm(),
      );
    } catch {
      // The decision is stored and the lease is no longer renewed: recovery takes the change set
      // over once it lapses and applies these then. The person's answer shows them approved.
    } finally {
      lease.stop();
    }
  }
}

/**
 * A person's decision on a held creation or association (issue 21), by the approvals' rules: an
 * auditor cannot decide, a rep cannot (the entry has no owner to match), the person the agent
 * acted for cannot approve, nobody approves twice, and `two_person` needs two different people.
 * Returns who decided and the entry's next state: `applying` once approved enough, `denied` when rejected.
 */
async function decideHeldEntry(
  tx: Tx,
  input: {
    workspaceId: string;
    entry: HeldEntry;
    what: string;
    request: CreationDecision;
    via: NonNullable<HeldEntryDecision['via']>;
    person: DecidingPerson | undefined;
    now: Date;
  },
): Promise<{ actor: Actor; ready: boolean; next: HeldEntryNext }> {
  const { entry, request, what } = input;
  const person = input.person ?? (await findPerson(tx, input.workspaceId, request.actingUserId));
  const refuse = (code: string, message: string, state = false): never => {
    throw new AppError(state ? 'APPROVAL_NOT_DECIDABLE' : 'APPROVAL_DECISION_FORBIDDEN', message, {
      details: { refusal: code },
    });
  };
  if (!person)
    return refuse(
      'person_unknown',
      `CRM user ${request.actingUserId} has no role in this workspace; an admin gives one with PUT /v1/admin/people/:crmUserId.`,
    );
  if (entry.decision !== 'pending_approval')
    refuse('approval_not_pending', `This ${what} is not waiting for a person.`, true);
  if (entry.expiresAt && entry.expiresAt.getTime() <= input.now.getTime())
    refuse(
      'approval_expired',
      `This ${what} waited past the policy’s approval expiry; the agent may propose it again.`,
      true,
    );
  const allowed = mayDecide(
    { recordOwnerId: null },
    { userId: person.crmUserId, role: person.role as PersonRole, ownerId: person.crmOwnerId },
  );
  if (!allowed.ok) refuse(allowed.code, allowed.message);
  if (request.kind === 'approve') {
    const delegation = entry.delegationId ? await findDelegation(tx, input.workspaceId, entry.delegationId) : undefined;
    if (delegation?.crmUserId === request.actingUserId)
      refuse('delegated_user_cannot_approve', 'The person the agent acted for cannot approve its proposal.');
    if (entry.approvedBy.includes(request.actingUserId))
      refuse('already_approved_by_this_person', 'This person already approved it; a second person must.');
  }
  const actor: Actor = {
    type: 'person',
    name: `crm-user:${request.actingUserId}`,
    crmUserId: request.actingUserId,
    role: person.role,
    via: input.via,
  };
  const approvedBy = request.kind === 'approve' ? [...entry.approvedBy, request.actingUserId] : entry.approvedBy;
  const ready = request.kind === 'approve' && approvedBy.length >= (entry.tier === 'two_person' ? 2 : 1);
  return {
    actor,
    ready,
    next: {
      decision: request.kind === 'reject' ? 'denied' : ready ? 'applying' : 'pending_approval',
      approvedBy,
      message:
        request.kind === 'reject' ? `Rejected by CRM user ${request.actingUserId}: ${request.reason}` : entry.message,
      decidedAt: request.kind === 'reject' || ready ? input.now : null,
    },
  };
}
