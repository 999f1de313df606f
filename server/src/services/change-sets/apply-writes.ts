import type { ChangeSetRequest, Evidence } from '../../../../shared/agent-api.ts';
import {
  type CrmPort,
  type CrmRecordWrite,
  type CrmWriteOutcome,
  type StagedCrmWrite,
  stagedWrite,
} from '../../crm/port.ts';
import { AppError } from '../../errors.ts';
import type { AgentRow } from '../../store/agent-store.ts';
import { completeChangeSet, settleApplyingChanges } from '../../store/change-store.ts';
import type { Tx } from '../../store/database.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { keepChangeSetLease } from './change-set-lease.ts';
import {
  actorJson,
  type Actor,
  type ServiceDeps,
  provenanceValues,
  alongsideCrm,
  withAuditChain,
} from '../common/index.ts';
import type { NewAuditEvent } from '../../domain/audit-chain.ts';
import { describeSwitch, type EngagedSwitch } from '../../domain/kill-switch-scope.ts';
import { engagedSwitches, requestWideSwitch, switchesStoppingEntries } from '../governance/index.ts';

export interface PlannedWrite {
  recordId: string;
  property: string;
  before: string | null;
  value: string | null;
  evidence: Evidence;
}

interface RecordWrite {
  recordId: string;
  writes: PlannedWrite[];
}

interface ApplyInput {
  crm: CrmPort;
  workspace: WorkspaceRow;
  agent: AgentRow;
  actor: Actor;
  request: Pick<ChangeSetRequest, 'batchId' | 'objectType'>;
  changeSetId: string;
  policyVersion: number;
  planned: PlannedWrite[];
  /** Scoped switches the decision already applied (`switchKey`); only others are checked before each batch. */
  scopedDecided?: ReadonlySet<string>;
  /** The first write, staged while the decisions were stored (`stageFirstWrite`): committed, not sent again. */
  staged?: StagedFirstWrite | undefined;
}

/** The first write of a change set, sent to the CRM but not made (`CrmPort.stageWrite`). */
export interface StagedFirstWrite {
  recordIds: readonly string[];
  /** Rejects as the write would; heard at commit. */
  write: Promise<StagedCrmWrite>;
}

/** What recording an outcome needs: the change set and who wrote, not the CRM or the plan. */
type SettleInput = Omit<ApplyInput, 'crm' | 'planned'>;

/**
 * Writes the `auto` values one CRM write at a time (`writeLimit` records, else `batchLimit`),
 * each record's values and its provenance together. A kill switch engaged meanwhile stops the
 * writes before the next CRM write. Storing a write's outcomes overlaps the next CRM write (the
 * CRM's latency, not our database, should set the pace); the writes themselves stay one at a time
 * so the kill switch is checked right before each. The change set's lease is renewed meanwhile
 * and confirmed right before each CRM write (issue 17); if another server took the change set
 * over (this process stalled past its lease), no further batch is sent and the change set is left
 * to that server: `completed` is false.
 */
export async function applyAutoWrites(
  deps: ServiceDeps,
  input: ApplyInput,
): Promise<{ outcomes: Map<string, WriteOutcome>; completed: boolean }> {
  const lease = keepChangeSetLease(deps, input.changeSetId);
  let staged = input.staged;
  // The staged write is committed only as the write of exactly its records, and once.
  const takeStaged = (batch: readonly RecordWrite[]) => {
    if (!staged || staged.recordIds.length !== batch.length) return undefined;
    if (staged.recordIds.some((recordId, index) => recordId !== batch[index]!.recordId)) return undefined;
    const { write } = staged;
    staged = undefined;
    return write;
  };
  try {
    return await writeAndSettle(deps, input, () => lease.confirm(), takeStaged);
  } finally {
    lease.stop();
    // Not committed (the lease lost, a kill switch, a switch stopping some of its records, a failure): nothing of it may land.
    if (staged) await abortStagedWrite(staged);
  }
}

/**
 * Stages the first write of `planned` (as `applyAutoWrites` would send it) while the caller
 * stores the decisions: the CRM holds it unmade until `applyAutoWrites` commits it after its lease
 * and kill-switch checks, so the decisions are still stored before anything is written. Undefined
 * when nothing is to be written.
 */
export function stageFirstWrite(deps: ServiceDeps, input: Omit<ApplyInput, 'staged'>): StagedFirstWrite | undefined {
  const settings = input.crm.forObject(input.request.objectType);
  const batch = groupByRecord(input.planned).slice(0, settings.writeLimit ?? settings.batchLimit);
  if (batch.length === 0) return undefined;
  const write = stagedWrite(input.crm, {
    objectType: input.request.objectType,
    writes: crmWrites(input, batch, deps.clock()),
  });
  write.catch(() => undefined); // a failure to stage is the write's failure, heard when it is committed
  return { recordIds: batch.map((record) => record.recordId), write };
}

/** Drops a staged write not committed: nothing of it is written. */
export async function abortStagedWrite(staged: StagedFirstWrite): Promise<void> {
  await staged.write.then(
    (write) => write.abort(),
    () => undefined,
  );
}

async function writeAndSettle(
  deps: ServiceDeps,
  input: ApplyInput,
  leaseHeld: () => Promise<boolean>,
  takeStaged: (batch: readonly RecordWrite[]) => Promise<StagedCrmWrite> | undefined,
): Promise<{ outcomes: Map<string, WriteOutcome>; completed: boolean }> {
  const byRecord = groupByRecord(input.planned);
  const outcomes = new Map<string, WriteOutcome>();
  let storing: Promise<void> = Promise.resolve();
  let storeFailure: unknown;
  const store = (results: { record: RecordWrite; outcome: WriteOutcome }[], completing = false) => {
    if (results.length === 0) return;
    for (const { record, outcome } of results) outcomes.set(record.recordId, outcome);
    storing = storing
      // The change set completes with its last outcomes, unless outcomes before them failed to be stored.
      .then(() => settle(deps, input, results, { complete: completing && storeFailure === undefined }))
      .catch((error: unknown) => {
        storeFailure ??= error;
      });
  };
  // A batch's outcomes are stored while the next batch's request is in flight.
  let written: { record: RecordWrite; outcome: WriteOutcome }[] = [];
  let completed = true;
  // One write is the CRM's batch, or more where the adapter spreads a write (Salesforce: 2,000).
  const settings = input.crm.forObject(input.request.objectType);
  const perWrite = settings.writeLimit ?? settings.batchLimit;
  for (let i = 0; i < byRecord.length && storeFailure === undefined; i += perWrite) {
    const batch = byRecord.slice(i, i + perWrite);
    // Read right before each CRM write, the first included: a switch engaged after the decisions stops it.
    const [held, engaged] = await Promise.all([leaseHeld(), engagedSwitches(deps.db, input.workspace.id)]);
    const killed = requestWideSwitch(engaged, { agentId: input.agent.id, action: 'field_write' });
    if (!held) {
      completed = false;
      break;
    }
    if (killed) {
      written.push(...byRecord.slice(i).map((record) => ({ record, outcome: halted(record.recordId, killed.reason) })));
      break;
    }
    const stopped = await stoppedSince(input, engaged, batch);
    const toWrite = batch.filter((record) => !stopped.has(record.recordId));
    const [outcomes] = await alongsideCrm(writeBatch(input, toWrite, deps.clock(), takeStaged(toWrite)), () =>
      store(written),
    );
    written = [
      ...toWrite.map((record, index) => ({
        record,
        outcome: outcomes[index] ?? unavailable(record.recordId, 'The CRM gave no outcome for this record.'),
      })),
      ...batch.flatMap((record) => {
        const engaged = stopped.get(record.recordId);
        return engaged ? [{ record, outcome: halted(record.recordId, engaged.reason, describeSwitch(engaged)) }] : [];
      }),
    ];
  }
  store(written, completed);
  await storing;
  // Writes that reached the CRM but whose outcome could not be stored stay `applying`: visible, not lost.
  if (storeFailure !== undefined) throw storeFailure;
  if (completed && written.length === 0) await deps.db.transaction((tx) => completeChangeSet(tx, input.changeSetId));
  return { outcomes, completed };
}

/**
 * Records writes found landed in the CRM after the process that sent them died (issue 17) as
 * `applied`, with the same `change.applied` events a first attempt records.
 */
export async function recordLandedWrites(deps: ServiceDeps, input: SettleInput, landed: PlannedWrite[]): Promise<void> {
  if (landed.length === 0) return;
  await settle(
    deps,
    input,
    groupByRecord(landed).map((record) => ({ record, outcome: { recordId: record.recordId, ok: true } })),
    { complete: false },
  );
}

/** How a scoped switch is told apart from the same switch engaged again later. */
export function switchKey(engaged: EngagedSwitch): string {
  return `${engaged.scope}\u0000${engaged.target}\u0000${engaged.changedAt.getTime()}`;
}

/**
 * The records of this batch a segment or evidence-source switch engaged since the decision
 * covers. Reads the lists, and the properties of condition segments, only while such a switch
 * is engaged.
 */
async function stoppedSince(
  input: ApplyInput,
  engaged: readonly EngagedSwitch[],
  batch: readonly RecordWrite[],
): Promise<Map<string, EngagedSwitch>> {
  const stopped = new Map<string, EngagedSwitch>();
  const scoped = engaged.filter(
    (candidate) =>
      (candidate.scope === 'segment' || candidate.scope === 'evidence_source') &&
      !input.scopedDecided?.has(switchKey(candidate)),
  );
  if (scoped.length === 0 || batch.length === 0) return stopped;
  const stopping = await switchesStoppingEntries(input.crm, scoped, {
    agentId: input.agent.id,
    objectType: input.request.objectType,
    entries: batch.map((record) => ({ recordId: record.recordId, evidenceSource: record.writes[0]!.evidence.source })),
  });
  batch.forEach((record, index) => {
    if (stopping[index]) stopped.set(record.recordId, stopping[index]);
  });
  return stopped;
}

function groupByRecord(planned: PlannedWrite[]): RecordWrite[] {
  return [...Map.groupBy(planned, (write) => write.recordId)].map(([recordId, writes]) => ({ recordId, writes }));
}

async function writeBatch(
  input: ApplyInput,
  batch: RecordWrite[],
  at: Date,
  staged: Promise<StagedCrmWrite> | undefined,
): Promise<WriteOutcome[]> {
  if (batch.length === 0) return [];
  try {
    if (staged) return await (await staged).commit();
    return await input.crm.writeBatch({ objectType: input.request.objectType, writes: crmWrites(input, batch, at) });
  } catch (error) {
    // Retries are exhausted or the CRM refused us outright: every record of this batch failed, none is lost.
    const message = error instanceof AppError ? error.message : 'The CRM could not be reached.';
    // Refused credentials are told apart: nothing will land until someone reconnects (an alert rule watches for it).
    if (error instanceof AppError && error.code === 'CRM_AUTH_FAILED')
      return batch.map((record) => ({ recordId: record.recordId, ok: false, reason: 'crm_auth_failed', message }));
    return batch.map((record) => unavailable(record.recordId, message));
  }
}

/** Each record's values with its provenance, as one CRM write sends them. */
function crmWrites(input: Omit<ApplyInput, 'staged'>, batch: readonly RecordWrite[], at: Date): CrmRecordWrite[] {
  return batch.map((record) => {
    const properties: Record<string, string> = {};
    for (const write of record.writes) properties[write.property] = write.value ?? '';
    const evidence = record.writes[0]!.evidence; // one evidence per record change in the request
    Object.assign(
      properties,
      provenanceValues({
        changeSetId: input.changeSetId,
        agentName: input.agent.name,
        evidence,
        properties: record.writes.map((w) => w.property),
        at,
        policyVersion: input.policyVersion,
      }),
    );
    return { recordId: record.recordId, properties };
  });
}

export type WriteOutcome =
  | CrmWriteOutcome
  | { recordId: string; ok: false; reason: 'kill_switch_engaged' | 'crm_auth_failed'; message: string };

function halted(recordId: string, reason: string, named?: string): WriteOutcome {
  return {
    recordId,
    ok: false,
    reason: 'kill_switch_engaged',
    message: named
      ? `Not written: the ${named} kill switch was engaged (${reason}).`
      : `Not written: a kill switch was engaged (${reason}).`,
  };
}

function unavailable(recordId: string, message: string): WriteOutcome {
  return { recordId, ok: false, reason: 'crm_unavailable', message };
}

/**
 * Stores the outcomes of one batch and audits one event per record, in one transaction, with the
 * change set's completion when `complete`. Only writes still `applying` are settled and audited:
 * a writer that stalled past its lease may wake after recovery settled the same writes, and must
 * not record them twice.
 */
async function settle(
  deps: ServiceDeps,
  input: SettleInput,
  results: { record: RecordWrite; outcome: WriteOutcome }[],
  options: { complete: boolean },
): Promise<void> {
  await withAuditChain(deps.db, input.workspace.id, deps.clock, async (tx, audit) => {
    const applied = results.filter((r) => r.outcome.ok).map((r) => r.record.recordId);
    const settled = new Set(
      await settleApplyingChanges(tx, {
        changeSetId: input.changeSetId,
        recordIds: applied,
        decision: 'applied',
        message: null,
      }),
    );
    for (const recordId of await settleFailures(tx, input.changeSetId, results)) settled.add(recordId);
    // Hashed in slices, each slice's insert sent while the next is hashed.
    await audit.appendAll(
      results.flatMap(({ record, outcome }) =>
        settled.has(record.recordId) ? [outcomeEvent(input, record, outcome)] : [],
      ),
    );
    if (options.complete) await completeChangeSet(tx, input.changeSetId);
  });
}

async function settleFailures(
  tx: Tx,
  changeSetId: string,
  results: { record: RecordWrite; outcome: WriteOutcome }[],
): Promise<string[]> {
  const groups = new Map<
    string,
    {
      reason: 'crm_rejected' | 'crm_unavailable' | 'crm_auth_failed' | 'kill_switch_engaged';
      message: string;
      recordIds: string[];
    }
  >();
  for (const { record, outcome } of results) {
    if (outcome.ok) continue;
    const groupKey = `${outcome.reason}\u0000${outcome.message}`;
    const group = groups.get(groupKey) ?? { reason: outcome.reason, message: outcome.message, recordIds: [] };
    group.recordIds.push(record.recordId);
    groups.set(groupKey, group);
  }
  const settled: string[] = [];
  for (const group of groups.values()) {
    const recordIds = await settleApplyingChanges(tx, {
      changeSetId,
      recordIds: group.recordIds,
      decision: 'failed',
      addReason: group.reason,
      message: group.message,
    });
    settled.push(...recordIds);
  }
  return settled;
}

function outcomeEvent(input: SettleInput, record: RecordWrite, outcome: WriteOutcome): NewAuditEvent {
  const before: Record<string, string | null> = {};
  const after: Record<string, string | null> = {};
  for (const write of record.writes) {
    before[write.property] = write.before;
    after[write.property] = write.value;
  }
  return {
    type: outcome.ok ? 'change.applied' : 'change.failed',
    actor: actorJson(input.actor),
    agentId: input.agent.id,
    batchId: input.request.batchId,
    changeSetId: input.changeSetId,
    objectType: input.request.objectType,
    recordId: record.recordId,
    before,
    after: outcome.ok ? after : null,
    reasons: outcome.ok ? ['tier_auto'] : ['tier_auto', outcome.reason],
    policyVersion: input.policyVersion,
    data: outcome.ok
      ? { properties: Object.keys(after) }
      : { properties: Object.keys(after), message: outcome.message },
  };
}
