import type { AssociateChangeSetRequest, AssociationTarget, ChangeSetResponse } from '../../../../shared/agent-api.ts';
import type { CrmAssociations, CrmPort } from '../../crm/port.ts';
import { holdForGates } from '../../domain/agent-safety.ts';
import { asJson } from '../../domain/audit-chain.ts';
import { describeSwitch } from '../../domain/kill-switch-scope.ts';
import { dayKey } from '../../domain/policy-evaluation.ts';
import { evaluateAssociations } from '../../domain/record-association.ts';
import { AppError } from '../../errors.ts';
import {
  insertRecordAssociations,
  listRecordAssociations,
  recordLinksBefore,
  settleRecordAssociations,
  type AssociationOutcome,
  type RecordAssociationRow,
} from '../../store/record-association-store.ts';
import { readUsage } from '../../store/usage-store.ts';
import { actorJson, newId, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { engagedKillSwitch, engagedSwitches, switchesStoppingEntries } from '../governance/index.ts';
import { associationView, type ChangeSetHeader } from './change-set-view.ts';
import {
  type ApplyEntriesInput,
  type EntriesSubmission,
  applyUnderLease,
  approvalExpiry,
  entryFailure,
  finishEntries,
  recordDecidedEntries,
  entryDecision,
  insertEntriesChangeSet,
  refuseStopped,
} from './record-entries.ts';

/**
 * Associating records (issue 21), governed as creations are: under the workspace's chain lock
 * (so the daily cap holds under concurrency) each entry gets the object's `associate` tier for
 * the agent's role, the cap, the agent's holds and the segment and evidence-source kill switches, and is
 * stored with its audit event; then the `auto` ones are linked in CRM batches.
 */
export async function associateRecords(
  deps: ServiceDeps,
  input: EntriesSubmission<AssociateChangeSetRequest>,
): Promise<{ changeSetId: string; response: () => Promise<ChangeSetResponse> }> {
  associationsOf(input.crm);
  const decided = await decideAndStore(deps, input);
  const header = await applyUnderLease(deps, input, decided, associateApproved);
  return {
    changeSetId: header.id,
    response: async () => associationView(header, await listRecordAssociations(deps.db, input.workspace.id, header.id)),
  };
}

/** The CRM's associations, or a refusal where links are lookup fields set by an update. */
export function associationsOf(crm: CrmPort): CrmAssociations {
  if (!crm.associations)
    throw new AppError(
      'VALIDATION_FAILED',
      'This CRM links records through lookup fields, not associations; set the lookup field in an update instead.',
    );
  return crm.associations;
}

async function decideAndStore(
  deps: ServiceDeps,
  input: Parameters<typeof associateRecords>[1],
): Promise<{ header: ChangeSetHeader; rows: RecordAssociationRow[] }> {
  const { workspace, agent, request, policy } = input;
  const now = deps.clock();
  const day = dayKey(now, policy.timezone);
  // A segment or evidence-source switch over the record refuses its entry whatever the policy says.
  const stopped = await switchesStoppingEntries(input.crm, await engagedSwitches(deps.db, workspace.id), {
    agentId: agent.id,
    objectType: request.objectType,
    entries: request.changes.map((change) => ({ recordId: change.recordId, evidenceSource: change.evidence.source })),
  });
  return withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const usage = await readUsage(tx, {
      workspaceId: workspace.id,
      scope: 'agent_associations',
      day,
      subjects: [agent.id],
    });
    const decided = evaluateAssociations({
      policy,
      agentRole: agent.role,
      objectType: request.objectType,
      count: request.changes.length,
      associationsToday: usage.get(agent.id) ?? 0,
    });
    // Refused before the gates, which leave a refusal as it is: a stopped entry carries no gate's reason.
    const refused = refuseStopped(decided, stopped);
    const evaluations = refused.evaluations.map((evaluation) => holdForGates(evaluation, input.holds));
    const header = await insertEntriesChangeSet(deps, tx, input, now);
    const rows = evaluations.map((evaluation, ordinal): RecordAssociationRow => {
      const change = request.changes[ordinal]!;
      const switched = stopped[ordinal];
      return {
        id: newId(),
        workspaceId: workspace.id,
        changeSetId: header.id,
        ordinal,
        objectType: request.objectType,
        recordId: change.recordId,
        toObjectType: change.toObjectType,
        toRecordId: change.toRecordId,
        evidence: change.evidence,
        tier: evaluation.tier,
        decision: entryDecision(evaluation.tier),
        reasons: evaluation.reasons,
        message: switched
          ? `Not associated: the ${describeSwitch(switched)} kill switch is engaged (${switched.reason}).`
          : null,
        alreadyLinked: null,
        approvedBy: [],
        expiresAt: approvalExpiry(evaluation.tier, now, policy),
        decidedAt: null,
        rolledBackBy: null,
        rollbackOutcome: null,
        rollbackMessage: null,
      };
    });
    await insertRecordAssociations(tx, rows);
    await recordDecidedEntries(
      tx,
      audit,
      input,
      { header, rows },
      { scope: 'agent_associations', day, added: refused.added },
      {
        type: 'record.associate_decided',
        describe: (row) => ({
          recordId: row.recordId,
          after: asJson({ toObjectType: row.toObjectType, toRecordId: row.toRecordId }),
        }),
      },
    );
    return { header, rows };
  });
}

type AssociateInput = ApplyEntriesInput<RecordAssociationRow>;

/**
 * Links the `applying` entries a CRM batch at a time, checking kill switches and the lease right
 * before each call. The CRM is read first: a link it already has is `applied` with
 * `value_unchanged` and is never removed by a rollback, since we did not make it. Recovery (issue
 * 17) runs this again on what a dead server left `applying` (linking twice is harmless).
 */
export async function associateApproved(
  deps: ServiceDeps,
  input: AssociateInput,
  leaseHeld: () => Promise<boolean>,
): Promise<boolean> {
  const { crm, workspace, agent } = input;
  const toLink = input.rows.filter((row) => row.decision === 'applying');
  const batches: RecordAssociationRow[][] = [];
  for (const rows of Map.groupBy(toLink, (row) => row.toObjectType).values())
    for (let start = 0; start < rows.length; start += crm.batchLimit)
      batches.push(rows.slice(start, start + crm.batchLimit));
  const retries: Date[] = [];
  for (const [index, batch] of batches.entries()) {
    const [held, killed] = await Promise.all([
      leaseHeld(),
      engagedKillSwitch(deps.db, { workspaceId: workspace.id, agentId: agent.id, action: 'field_write' }),
    ]);
    if (!held) return false;
    if (killed) {
      const message = `Not associated: a kill switch was engaged (${killed.reason}).`;
      const rest = batches.slice(index).flat();
      const now = deps.clock();
      retries.push(
        ...(await settle(
          deps,
          input,
          rest.map((row) => entryFailure(row, 'kill_switch_engaged', message, now)),
        )),
      );
      break;
    }
    retries.push(...(await settle(deps, input, await linkBatch(deps, input, batch))));
  }
  await finishEntries(deps, input.changeSetId, retries);
  return true;
}

/**
 * Links one batch (one target type) and says what became of each entry. What the CRM had before is
 * stored first, once per entry: a link found later where there was none (a server that died after
 * sending it) is then known to be ours, and one there before is never taken for ours.
 */
async function linkBatch(
  deps: ServiceDeps,
  input: Omit<AssociateInput, 'rows'>,
  batch: readonly RecordAssociationRow[],
): Promise<AssociationOutcome[]> {
  const associations = associationsOf(input.crm);
  const toObjectType = batch[0]!.toObjectType as AssociationTarget;
  const linked = await associations.read({
    fromObjectType: input.objectType,
    toObjectType,
    fromIds: [...new Set(batch.map((row) => row.recordId))],
  });
  const linkedNow = (row: RecordAssociationRow) => linked.get(row.recordId)?.has(row.toRecordId) ?? false;
  const unread = batch.filter((row) => row.alreadyLinked === null);
  await deps.db.transaction((tx) =>
    recordLinksBefore(
      tx,
      input.changeSetId,
      unread.map((row) => ({ id: row.id, alreadyLinked: linkedNow(row) })),
    ),
  );
  const before = (row: RecordAssociationRow) => row.alreadyLinked ?? linkedNow(row);
  const toSend = batch.filter((row) => !before(row) && !linkedNow(row));
  const answered = await associations.associate({
    fromObjectType: input.objectType,
    toObjectType,
    pairs: toSend.map((row) => ({ fromId: row.recordId, toId: row.toRecordId })),
  });
  const answers = new Map(toSend.map((row, index) => [row.id, answered[index]!]));
  const now = deps.clock();
  return batch.map((row): AssociationOutcome => {
    const answer = answers.get(row.id);
    if (!answer || answer.ok) return { id: row.id, alreadyLinked: before(row) };
    return entryFailure(row, answer.reason, answer.message, now);
  });
}

/** Finishes the associations of a change set whose server died mid-write (issue 17's recovery). */
export async function resumeAssociations(
  deps: ServiceDeps,
  input: Omit<AssociateInput, 'rows'>,
  leaseHeld: () => Promise<boolean>,
): Promise<boolean> {
  const rows = await listRecordAssociations(deps.db, input.workspace.id, input.changeSetId);
  if (!rows.some((row) => row.decision === 'applying')) return true;
  return associateApproved(deps, { ...input, rows }, leaseHeld);
}

/** Stores the outcomes, each with its event, and gives when those to be tried again are due. */
async function settle(
  deps: ServiceDeps,
  input: Omit<AssociateInput, 'rows'>,
  outcomes: AssociationOutcome[],
): Promise<Date[]> {
  if (outcomes.length === 0) return [];
  const byId = new Map(outcomes.map((outcome) => [outcome.id, outcome]));
  return withAuditChain(deps.db, input.workspace.id, deps.clock, async (tx, audit) => {
    const retries: Date[] = [];
    for (const row of await settleRecordAssociations(tx, input.changeSetId, outcomes)) {
      const outcome = byId.get(row.id)!;
      const applied = 'alreadyLinked' in outcome;
      const retryAt = applied ? undefined : outcome.retryAt;
      if (retryAt) retries.push(retryAt);
      audit.append({
        type: applied ? 'record.associated' : retryAt ? 'record.associate_deferred' : 'record.associate_failed',
        actor: actorJson(input.actor),
        agentId: input.agent.id,
        batchId: input.batchId,
        changeSetId: input.changeSetId,
        objectType: input.objectType,
        recordId: row.recordId,
        before: null,
        after: asJson({ toObjectType: row.toObjectType, toRecordId: row.toRecordId }),
        reasons: row.reasons,
        policyVersion: input.policyVersion,
        data: applied
          ? { changeId: row.id, alreadyLinked: outcome.alreadyLinked }
          : {
              changeId: row.id,
              message: outcome.message,
              ...(retryAt ? { reason: outcome.reason, retryAt: retryAt.toISOString() } : {}),
            },
      });
    }
    return retries;
  });
}
