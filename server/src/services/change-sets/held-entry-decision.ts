import type { ChangeSetResponse, CreationDecision } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { mayDecide, type PersonRole } from '../../domain/approval-lifecycle.ts';
import { AppError } from '../../errors.ts';
import { findAgent, findDelegation } from '../../store/agent-store.ts';
import { findChangeSet } from '../../store/change-store.ts';
import type { Db, Tx } from '../../store/database.ts';
import { findPerson } from '../../store/people-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { type Actor, actorJson, type ServiceDeps, withAuditChain } from '../common/index.ts';
import type { ChangeSetHeader } from './change-set-view.ts';
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
type StoredHeldEntry = Omit<HeldEntry, 'delegationId'> & {
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
  lock(tx: Tx, workspaceId: string, id: string): Promise<(Row & LockedHeldEntry) | undefined>;
  update(tx: Tx, id: string, next: HeldEntryNext): Promise<void>;
  events: { approved: string; rejected: string };
  apply(deps: ServiceDeps, input: ApplyEntriesInput<Row>, leaseHeld: () => Promise<boolean>): Promise<boolean>;
  list(db: Db, workspaceId: string, changeSetId: string): Promise<Row[]>;
  view(changeSet: ChangeSetHeader, rows: Row[]): ChangeSetResponse;
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
  const { workspace, id, request } = input;
  const decided = await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const row = await kind.lock(tx, workspace.id, id);
    if (!row) throw new AppError('NOT_FOUND', `There is no ${kind.what} ${id} in this workspace.`);
    const { actor, ready, next } = await decideHeldEntry(tx, {
      workspaceId: workspace.id,
      entry: row,
      what: kind.what,
      request,
      via: input.via ?? 'admin_api',
      person: input.person,
      now: deps.clock(),
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
      },
    });
    return { row: { ...row, ...next }, actor, ready };
  });

  const { row } = decided;
  if (decided.ready) {
    const [changeSet, agent] = await Promise.all([
      findChangeSet(deps.db, workspace.id, row.changeSetId),
      findAgent(deps.db, workspace.id, row.agentId),
    ]);
    if (!changeSet || !agent)
      throw new AppError('INTERNAL', `${capitalised(kind.what)} ${row.id} names a change set or agent that is gone.`);
    await kind.apply(
      deps,
      {
        crm: deps.crmFor(workspace),
        workspace,
        agent,
        actor: decided.actor,
        batchId: row.batchId,
        objectType: row.objectType as ObjectType,
        policyVersion: changeSet.policyVersion,
        changeSetId: row.changeSetId,
        rows: [row],
      },
      async () => true,
    );
  }
  const changeSet = (await findChangeSet(deps.db, workspace.id, row.changeSetId))!;
  const rows = await kind.list(deps.db, workspace.id, row.changeSetId);
  return kind.view(
    changeSet,
    rows.filter((stored) => stored.id === row.id),
  ).results[0] as Result;
}

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
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
