import { evidenceSchema } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { CrmPort, CrmValueChange } from '../../crm/port.ts';
import { damagedChangeSetMessage } from '../../domain/stored-decisions.ts';
import { writeLanded } from '../../domain/write-landed.ts';
import { AppError } from '../../errors.ts';
import { findAgent, findDelegation, type AgentRow } from '../../store/agent-store.ts';
import {
  changeRecordEvidence,
  claimLapsedChangeSet,
  findDamagedDecision,
  listApplyingChanges,
  type ChangeSetRow,
} from '../../store/change-store.ts';
import { findWorkspace } from '../../store/workspace-store.ts';
import type { AgentActor } from '../governance/index.ts';
import { resumeAssociations } from './associate-records.ts';
import { resumeCreations } from './create-records.ts';
import { applyAutoWrites, recordLandedWrites, type PlannedWrite } from './apply-writes.ts';
import { changeSetLeaseOf, keepChangeSetLease } from './change-set-lease.ts';
import { type ServiceDeps, PROVENANCE_PROPERTIES, withAuditChain } from '../common/index.ts';

const CHANGE_ID_PROPERTY = PROVENANCE_PROPERTIES[0]!.name; // ag_last_change_id

export type RecoveryResult = 'none' | 'completed' | 'lost';

/**
 * Issue 17: takes over one change set whose writer died mid-write (its lease lapsed) and finishes
 * it. Its still-`applying` writes are checked against the CRM a batch of records at a time: those
 * that landed are recorded `applied`, with the events the first attempt would have written; the
 * rest are sent through the same path as a first attempt (kill switch checked before each batch,
 * so a switch engaged meanwhile fails them `kill_switch_engaged`). Then the change set is
 * `completed`. Any server may run this; the lease gives each change set to one of them.
 */
export async function recoverInterruptedChangeSet(deps: ServiceDeps): Promise<RecoveryResult> {
  const claimed = await claimInterruptedChangeSet(deps);
  return claimed ? claimed.recover() : 'none';
}

/**
 * Claims as recoverInterruptedChangeSet does and hands back the recovery without starting it, so the
 * recovery job can run each workspace's in its own lane (issue 23). `except` leaves out workspaces
 * whose recovery runs here already.
 */
export async function claimInterruptedChangeSet(
  deps: ServiceDeps,
  except: readonly string[] = [],
): Promise<{ workspaceId: string; recover(): Promise<Exclude<RecoveryResult, 'none'>> } | undefined> {
  const { holder, leaseMs } = changeSetLeaseOf(deps);
  const now = deps.clock();
  const claimed = await claimLapsedChangeSet(deps.db, {
    holder,
    now,
    until: new Date(now.getTime() + leaseMs),
    except,
  });
  if (!claimed) return undefined;
  return {
    workspaceId: claimed.changeSet.workspaceId,
    async recover() {
      const lease = keepChangeSetLease(deps, claimed.changeSet.id);
      try {
        return await recover(deps, claimed, () => lease.lost());
      } finally {
        lease.stop();
      }
    },
  };
}

async function recover(
  deps: ServiceDeps,
  { changeSet, previousHolder }: { changeSet: ChangeSetRow; previousHolder: string | null },
  leaseLost: () => boolean,
): Promise<Exclude<RecoveryResult, 'none'>> {
  const workspace = await findWorkspace(deps.db, changeSet.workspaceId);
  const agent = await findAgent(deps.db, changeSet.workspaceId, changeSet.agentId);
  if (!workspace || !agent)
    throw new AppError('INTERNAL', `Change set ${changeSet.id} names a workspace or agent that does not exist.`);
  // Nothing of a change set holding a decision typed into the database is written by a guess: the job logs this and tries again once the row is fixed.
  const damaged = await findDamagedDecision(deps.db, changeSet.id);
  if (damaged) throw new AppError('INTERNAL', damagedChangeSetMessage({ changeSetId: changeSet.id, ...damaged }));
  const crm = deps.crmFor(workspace);
  const objectType = changeSet.objectType as ObjectType;
  const input = {
    workspace,
    agent,
    actor: await actorOf(deps, changeSet, agent),
    request: { batchId: changeSet.batchId, objectType },
    changeSetId: changeSet.id,
    policyVersion: changeSet.policyVersion,
  };
  const planned = await plannedWrites(deps, changeSet.id);
  const byRecord = Map.groupBy(planned, (write) => write.recordId);
  const recordIds = [...byRecord.keys()];
  const unsent: PlannedWrite[] = [];
  let landed = 0;
  for (let i = 0; i < recordIds.length; i += crm.batchLimit) {
    if (leaseLost()) return 'lost';
    const batch = recordIds.slice(i, i + crm.batchLimit);
    const properties = [...new Set(batch.flatMap((id) => byRecord.get(id)!.map((write) => write.property)))];
    const histories = await readHistories(crm, {
      objectType,
      recordIds: batch,
      properties: [CHANGE_ID_PROPERTY, ...properties],
    });
    const found: PlannedWrite[] = [];
    for (const recordId of batch) {
      const writes = byRecord.get(recordId)!;
      const history = histories.get(recordId);
      // A record the CRM no longer has was not written; resending it records the CRM's refusal.
      const isLanded =
        history !== undefined &&
        writeLanded({
          changeSetId: changeSet.id,
          changeIdRevisions: history[CHANGE_ID_PROPERTY] ?? [],
          writes: writes.map((write) => ({ value: write.value, revisions: history[write.property] ?? [] })),
        });
      (isLanded ? found : unsent).push(...writes);
    }
    await recordLandedWrites(deps, input, found);
    landed += new Set(found.map((write) => write.recordId)).size;
  }
  await withAuditChain(deps.db, workspace.id, deps.clock, async (_tx, audit) => {
    audit.append({
      type: 'change_set.recovered',
      actor: { type: 'system', name: 'change-set-recovery' },
      agentId: agent.id,
      batchId: changeSet.batchId,
      changeSetId: changeSet.id,
      objectType,
      data: { previousHolder, landed, resent: new Set(unsent.map((write) => write.recordId)).size },
    });
  });
  if (leaseLost()) return 'lost';
  // A change set that creates or associates records (issue 21) has those, not writes, to finish.
  const entries = { ...input, crm, batchId: changeSet.batchId, objectType };
  const resumed =
    (await resumeCreations(deps, entries, async () => !leaseLost())) &&
    (await resumeAssociations(deps, entries, async () => !leaseLost()));
  if (!resumed) return 'lost';
  const { completed } = await applyAutoWrites(deps, { ...input, crm, planned: unsent });
  return completed ? 'completed' : 'lost';
}

async function plannedWrites(deps: ServiceDeps, changeSetId: string): Promise<PlannedWrite[]> {
  const applying = await listApplyingChanges(deps.db, changeSetId);
  const evidence = await changeRecordEvidence(deps.db, changeSetId, [
    ...new Set(applying.map((change) => change.recordId)),
  ]);
  return applying.map((change) => ({
    recordId: change.recordId,
    property: change.property,
    before: change.beforeValue,
    value: change.proposedValue,
    evidence: evidenceSchema.parse(evidence.get(change.recordId)),
  }));
}

/** The agent as the change set's events named it, acting for the person its delegation names. */
async function actorOf(deps: ServiceDeps, changeSet: ChangeSetRow, agent: AgentRow): Promise<AgentActor> {
  const delegation = changeSet.delegationId
    ? await findDelegation(deps.db, changeSet.workspaceId, changeSet.delegationId)
    : undefined;
  const actor: AgentActor = { type: 'agent', agentId: agent.id, name: agent.name, role: agent.role };
  if (delegation) actor.onBehalfOf = { crmUserId: delegation.crmUserId, delegationId: delegation.id };
  return actor;
}

/**
 * Property histories, or, from a CRM that keeps none, the current values as one-revision
 * histories whose times never match: only "still holds our values" can then prove a write landed.
 */
async function readHistories(
  crm: CrmPort,
  query: { objectType: ObjectType; recordIds: string[]; properties: string[] },
): Promise<Map<string, Record<string, Pick<CrmValueChange, 'value' | 'at'>[]>>> {
  if (crm.readPropertyHistory) return crm.readPropertyHistory(query);
  const current = await crm.readBatch(query);
  const at = (name: string) => new Date(name === CHANGE_ID_PROPERTY ? 0 : 1);
  return new Map(
    [...current].map(([recordId, values]) => [
      recordId,
      Object.fromEntries(Object.entries(values).map(([name, value]) => [name, [{ value, at: at(name) }]])),
    ]),
  );
}
