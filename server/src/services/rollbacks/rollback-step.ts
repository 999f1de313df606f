import type { ObjectType } from '../../../../shared/crm-names.ts';
import {
  type CrmPort,
  type CrmRecordWrite,
  type CrmWriteOutcome,
  type StagedCrmWrite,
  stagedWrite,
} from '../../crm/port.ts';
import type { JsonObject } from '../../domain/audit-chain.ts';
import { decideItem } from '../../domain/rollback-plan.ts';
import { AppError } from '../../errors.ts';
import {
  changesBefore,
  insertChanges,
  insertChangeSet,
  settleApplyingChanges,
  type NewChangeRow,
} from '../../store/change-store.ts';
import { auditedBeforeValues } from '../../store/audited-before-store.ts';
import { findLatestPolicyVersion } from '../../store/policy-store.ts';
import {
  lockRollback,
  settleAttemptedChanges,
  updateItems,
  updateRollback,
  type ItemUpdate,
  type RollbackRow,
  type StepItem,
} from '../../store/rollback-store.ts';
import {
  type ServiceDeps,
  provenanceValues,
  newId,
  alongsideCrm,
  lockAuditChain,
  withAuditChain,
} from '../common/index.ts';
import { clearReviewsByRollback } from '../governance/index.ts';
import { ROLLBACK_AGENT_NAME } from './rollback-agent.ts';
import { currentOf, explainFromCrmHistory, fieldKey, othersByField, readCurrent } from './rollback-facts.ts';
import { type Decided, recordEvent, recoveredRecords, refusedRecords } from './rollback-step-events.ts';
import { storedConflict } from './rollback-view.ts';

/** A 207's failed item (or a whole batch the CRM refused) is tried this many times, then reported failed. */
export const MAX_WRITE_ATTEMPTS = 3;

export type { Decided } from './rollback-step-events.ts';

/**
 * A rollback step is as many records of one object type as one CRM read and one write take.
 * First it re-reads them from the CRM (a person may have edited since the plan) with what our records say changed since, and
 * decides each item again; an item with a write attempted before (perhaps landed before a
 * crash) is re-read, never blindly rewritten. What our records say waits until the CRM read has left.
 */
export async function readStep(
  deps: ServiceDeps,
  input: { rollback: RollbackRow; crm: CrmPort; items: StepItem[] },
): Promise<Decided[]> {
  const { rollback, items } = input;
  const objectType = items[0]!.objectType as ObjectType;
  const [current, [others, audited]] = await alongsideCrm(readCurrent(input.crm, objectType, items), () =>
    Promise.all([
      othersByField(deps.db, {
        workspaceId: rollback.workspaceId,
        objectType,
        fields: items.map((item) => ({ recordId: item.recordId, property: item.property, from: item.selectedFrom })),
        exclude: items.flatMap((item) => [...item.changeIds, ...(item.revertChangeId ? [item.revertChangeId] : [])]),
      }),
      // The stored restore value is checked against the trail, not taken on trust: rows can be edited by hand.
      auditedBeforeValues(deps.db, {
        workspaceId: rollback.workspaceId,
        fields: items.map((item) => ({
          changeId: item.changeIds[0]!,
          recordId: item.recordId,
          property: item.property,
        })),
      }),
    ]),
  );
  const decided = items.map((item) => {
    const now = currentOf(current, item.recordId, item.property);
    const facts = {
      // The stored bounds stand for the selected changes: the same restore value, expected value and start.
      selected: [
        { changeId: item.changeIds[0]!, before: item.restoreValue, written: item.expectedValue, at: item.selectedFrom },
      ],
      others: others.get(fieldKey(item.recordId, item.property)) ?? [],
      current: now,
      audited,
    };
    return {
      item,
      decision: decideItem(facts, { force: rollback.force, inFlight: item.revertChangeId !== null }),
      valueFound: now.found ? now.value : null,
    };
  });
  const conflicts = decided.flatMap((d) =>
    d.decision.plan.conflict
      ? [{ recordId: d.item.recordId, property: d.item.property, conflict: d.decision.plan.conflict }]
      : [],
  );
  const explained = await explainFromCrmHistory(input.crm, objectType, conflicts);
  return decided.map((d) => {
    const conflict = explained.get(fieldKey(d.item.recordId, d.item.property));
    return conflict ? { ...d, decision: { ...d.decision, plan: { ...d.decision.plan, conflict } } } : d;
  });
}

/** A step whose writes are marked as started, with the rollback's change set of its object type. */
export interface MarkedStep {
  objectType: ObjectType;
  changeSetId: string;
  writes: PreparedWrite[];
}

/**
 * Then it marks the writes as started (`markStep`), writes them in one CRM call with provenance
 * naming the rollback and hands back the recording of each outcome, not yet started
 * (`writeStep`), so the caller can put it where it delays no CRM call. `markStep` gives
 * undefined if the rollback stopped (paused, or taken over). A change set it creates takes
 * `newChangeSetId`, the one the step's staged write names.
 */
export async function markStep(
  deps: ServiceDeps,
  input: { rollback: RollbackRow; holder: string; newChangeSetId: string },
  decided: Decided[],
): Promise<MarkedStep | undefined> {
  const objectType = decided[0]!.item.objectType as ObjectType;
  const prepared = await prepare(deps, input, objectType, decided);
  return prepared && { objectType, ...prepared };
}

/**
 * `staged`, if given, is this step's write staged by `stageStep` (its records, its change set):
 * committed instead of sent anew.
 */
export async function writeStep(
  deps: ServiceDeps,
  input: { rollback: RollbackRow; crm: CrmPort },
  marked: MarkedStep,
  staged?: StagedStep,
): Promise<() => Promise<void>> {
  const { rollback, crm } = input;
  const { objectType, changeSetId, writes } = marked;
  if (writes.length === 0) return () => Promise.resolve();
  const items = writes.map((w) => w.item);
  const outcomes = await write(items, async () =>
    staged
      ? (await staged.write).commit()
      : crm.writeBatch({ objectType, writes: crmWrites(rollback, changeSetId, items, deps.clock()) }),
  );
  return () => settle(deps, rollback, changeSetId, objectType, writes, outcomes);
}

/** A step's write sent to the CRM before the step is marked (`CrmPort.stageWrite`): nothing of it is written until committed. */
export interface StagedStep {
  changeSetId: string;
  /** The items it writes, in order: it stands for the marked step's write only if they are the same. */
  seqs: readonly number[];
  /** Rejects as the write would; heard at commit. */
  write: Promise<StagedCrmWrite>;
}

/**
 * Stages the write a step's decisions make (what `markStep` will mark as `writes`, with the
 * provenance of `changeSetId`), so the CRM has it (a Salesforce Bulk job opened and uploaded)
 * while the step is marked and the step before written. Undefined when nothing is to be written.
 */
export function stageStep(
  deps: ServiceDeps,
  input: { rollback: RollbackRow; crm: CrmPort },
  decided: Decided[],
  changeSetId: string,
): StagedStep | undefined {
  const items = decided.filter((d) => d.decision.action !== 'settle').map((d) => d.item);
  if (items.length === 0) return undefined;
  const objectType = items[0]!.objectType as ObjectType;
  const write = stagedWrite(input.crm, {
    objectType,
    writes: crmWrites(input.rollback, changeSetId, items, deps.clock()),
  });
  write.catch(() => undefined); // a failure to stage is the write's failure, heard when it is committed
  return { changeSetId, seqs: items.map((item) => item.seq), write };
}

/** Whether `staged` is the write of `marked`: the same items, with the same change set's provenance. */
export function isStagedWriteOf(staged: StagedStep, marked: MarkedStep): boolean {
  return (
    staged.changeSetId === marked.changeSetId &&
    staged.seqs.length === marked.writes.length &&
    marked.writes.every((w, i) => w.item.seq === staged.seqs[i])
  );
}

/** Drops a staged write not committed: nothing of it is written. */
export async function abortStagedStep(staged: StagedStep): Promise<void> {
  await staged.write.then(
    (write) => write.abort(),
    () => undefined,
  );
}

interface PreparedWrite {
  item: StepItem;
  decided: Decided;
  revertChangeId: string;
}

/** Marks the writes as started (with the rollback's own change rows) and settles what needs no write, in one transaction. */
async function prepare(
  deps: ServiceDeps,
  input: { rollback: RollbackRow; holder: string; newChangeSetId: string },
  objectType: ObjectType,
  decided: Decided[],
) {
  const { rollback } = input;
  const now = deps.clock();
  const refused = refusedRecords(rollback, objectType, decided);
  const recovered = decided.filter((d) => d.decision.action === 'settle' && d.decision.state === 'reverted');
  return deps.db.transaction(async (tx) => {
    // The chain before the rollback, in the order every other holder of both takes them; only when there is something to audit.
    const audit =
      refused.length > 0 || recovered.length > 0
        ? await lockAuditChain(tx, rollback.workspaceId, deps.clock)
        : undefined;
    const locked = await lockRollback(tx, rollback.workspaceId, rollback.id);
    if (locked?.status !== 'running' || locked.leaseHolder !== input.holder) return undefined;
    // Created with the rollback's first write of this object type, so a rollback that writes nothing leaves no empty change set.
    const changeSetIds = { ...(locked.changeSetIds as Record<string, string>) };
    let changeSetId = changeSetIds[objectType] ?? '';
    if (!changeSetId && decided.some((d) => d.decision.action === 'write')) {
      changeSetId = input.newChangeSetId;
      const policy = await findLatestPolicyVersion(tx, rollback.workspaceId);
      await insertChangeSet(tx, {
        id: changeSetId,
        workspaceId: rollback.workspaceId,
        agentId: rollback.agentId,
        batchId: rollback.id,
        objectType,
        policyVersion: policy?.version ?? 0,
        status: 'applying',
        createdAt: now,
      });
      changeSetIds[objectType] = changeSetId;
      await updateRollback(tx, rollback.id, { changeSetIds });
    }
    const writes: PreparedWrite[] = [];
    const updates: ItemUpdate[] = [];
    const newChanges: NewChangeRow[] = [];
    const attempted = { applied: [] as string[], notWritten: [] as string[] };
    for (const entry of decided) {
      const { item, decision } = entry;
      const conflict = storedConflict(decision.plan.conflict);
      if (decision.action === 'settle') {
        updates.push({
          seq: item.seq,
          state: decision.state,
          valueFound: entry.valueFound,
          revertChangeId: item.revertChangeId,
          forced: false,
          conflict,
          message: null,
          attempts: item.attempts,
          settled: true,
        });
        if (item.revertChangeId)
          (decision.state === 'reverted' ? attempted.applied : attempted.notWritten).push(item.revertChangeId);
        continue;
      }
      const revertChangeId = item.revertChangeId ?? newId();
      if (!item.revertChangeId) {
        newChanges.push({
          id: revertChangeId,
          workspaceId: rollback.workspaceId,
          changeSetId,
          ordinal: item.seq,
          recordId: item.recordId,
          property: item.property,
          beforeValue: entry.valueFound,
          proposedValue: item.restoreValue,
          tier: null,
          decision: 'applying',
          reasons: [],
          message: null,
        });
      }
      updates.push({
        seq: item.seq,
        state: 'writing',
        valueFound: entry.valueFound,
        revertChangeId,
        forced: decision.plan.forced,
        conflict,
        message: null,
        attempts: item.attempts,
        settled: false,
      });
      writes.push({ item, decided: entry, revertChangeId });
    }
    await insertChanges(tx, newChanges);
    await updateItems(tx, rollback.id, updates, now);
    await settleAttemptedChanges(tx, attempted);
    if (audit) {
      for (const event of refused) audit.append(event);
      const written = await changesBefore(
        tx,
        rollback.workspaceId,
        recovered.map((d) => d.item.revertChangeId!),
      );
      for (const event of recoveredRecords(rollback, changeSetId, objectType, recovered, written)) audit.append(event);
      await audit.flush();
    }
    return { changeSetId, writes };
  });
}

/** The CRM writes of a step's items: each record's restored values with the rollback's provenance. */
function crmWrites(rollback: RollbackRow, changeSetId: string, items: readonly StepItem[], at: Date): CrmRecordWrite[] {
  return [...Map.groupBy(items, (item) => item.recordId)].map(([recordId, fields]) => {
    const properties: Record<string, string> = {};
    for (const field of fields) properties[field.property] = field.restoreValue ?? '';
    const evidence = {
      source: 'rollback',
      reason: `Rollback ${rollback.id} restored the values from before the rolled-back changes.`,
    };
    Object.assign(
      properties,
      provenanceValues({
        changeSetId,
        agentName: ROLLBACK_AGENT_NAME,
        evidence,
        properties: fields.map((f) => f.property),
        at,
      }),
    );
    return { recordId, properties };
  });
}

async function write(
  items: readonly StepItem[],
  send: () => Promise<CrmWriteOutcome[]>,
): Promise<Map<string, CrmWriteOutcome>> {
  let outcomes: CrmWriteOutcome[];
  try {
    outcomes = await send();
  } catch (error) {
    // Retries inside the adapter are spent (or the CRM refused us): the whole batch failed this attempt.
    const message = error instanceof AppError ? error.message : 'The CRM could not be reached.';
    const recordIds = new Set(items.map((item) => item.recordId));
    outcomes = [...recordIds].map((recordId) => ({ recordId, ok: false, reason: 'crm_unavailable', message }));
  }
  return new Map(outcomes.map((outcome) => [outcome.recordId, outcome]));
}

/** Records each write's outcome: reverted, tried again later, or failed for good; audited per record. */
async function settle(
  deps: ServiceDeps,
  rollback: RollbackRow,
  changeSetId: string,
  objectType: ObjectType,
  writes: PreparedWrite[],
  outcomes: Map<string, CrmWriteOutcome>,
): Promise<void> {
  await withAuditChain(deps.db, rollback.workspaceId, deps.clock, async (tx, audit) => {
    const updates: ItemUpdate[] = [];
    const applied: string[] = [];
    const failed = new Map<
      string,
      { reason: 'crm_rejected' | 'crm_unavailable'; message: string; recordIds: string[] }
    >();
    for (const [recordId, fields] of Map.groupBy(writes, (w) => w.item.recordId)) {
      const outcome = outcomes.get(recordId) ?? {
        recordId,
        ok: false as const,
        reason: 'crm_unavailable' as const,
        message: 'The CRM gave no outcome for this record.',
      };
      const attempts = fields[0]!.item.attempts + 1;
      const final = outcome.ok || attempts >= MAX_WRITE_ATTEMPTS;
      for (const { item, decided, revertChangeId } of fields) {
        const conflict = storedConflict(decided.decision.plan.conflict);
        const state = outcome.ok ? 'reverted' : final ? 'failed' : 'pending';
        updates.push({
          seq: item.seq,
          state,
          valueFound: decided.valueFound,
          revertChangeId,
          forced: decided.decision.plan.forced,
          conflict,
          message: outcome.ok ? null : outcome.message,
          attempts: outcome.ok ? item.attempts : attempts,
          settled: final,
        });
      }
      if (outcome.ok) applied.push(recordId);
      else if (final) {
        const group = failed.get(outcome.reason) ?? { reason: outcome.reason, message: outcome.message, recordIds: [] };
        group.recordIds.push(recordId);
        failed.set(outcome.reason, group);
      }
      if (final) {
        const reverted = fields.map(({ item, decided }) => ({
          property: item.property,
          before: decided.valueFound,
          restored: item.restoreValue,
          forced: decided.decision.plan.forced,
        }));
        audit.append(recordEvent(rollback, changeSetId, objectType, recordId, reverted, outcome));
      }
    }
    await updateItems(tx, rollback.id, updates, deps.clock());
    await settleApplyingChanges(tx, { changeSetId, recordIds: applied, decision: 'applied', message: null });
    // A record the rollback put back needs no review any more (issue 21's quarantine).
    await clearReviewsByRollback(tx, audit, {
      workspaceId: rollback.workspaceId,
      objectType,
      recordIds: applied,
      rollbackId: rollback.id,
      at: deps.clock(),
    });
    for (const group of failed.values())
      await settleApplyingChanges(tx, {
        changeSetId,
        recordIds: group.recordIds,
        decision: 'failed',
        addReason: group.reason,
        message: group.message,
      });
  });
}
