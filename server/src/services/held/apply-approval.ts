import pMap from 'p-map';
import { evidenceSchema } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { CrmPort, CrmRecordValues, CrmRecordWrite } from '../../crm/port.ts';
import { checkStale, valuesToApply } from '../../domain/approval-lifecycle.ts';
import type { ApprovedValue } from '../../domain/approved-in-trail.ts';
import { describeSwitch } from '../../domain/kill-switch-scope.ts';
import { AppError } from '../../errors.ts';
import { agentNames, evidenceFor } from '../../store/approval-mirror-store.ts';
import { claimApplies, damagedChanges, markChangesApplied, settleApplies } from '../../store/approval-apply-store.ts';
import { toDomainApproval, type StoredApproval } from '../../store/approval-store.ts';
import { type ApplyClaim, keepApplyClaim } from './apply-claim.ts';
import { approvedInAudit } from '../../store/approval-trail-store.ts';
import { readAuditHead } from '../../store/audit-store.ts';
import { damagedChangeSetMessage } from '../../domain/stored-decisions.ts';
import { unsettledValues } from '../../store/unsettled-values-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { type ServiceDeps, provenanceValues, withAuditChain } from '../common/index.ts';
import { engagedKillSwitch, engagedSwitches, switchesStoppingEntries } from '../governance/index.ts';

/** A claim on an approval's write older than this belongs to a process that died mid-write. */
export const ABANDONED_APPLY_MS = 5 * 60_000;
/** Failed writes are tried again after 30 s, doubling up to an hour. */
const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 60 * 60_000;

const SYSTEM = { type: 'system', name: 'approvals' } as const;
const CHUNK_CONCURRENCY = 8;

type ApplyResult =
  | { status: 'applied'; event: 'approval.applied'; message: null }
  | { status: 'stale'; event: 'approval.stale'; message: string; current?: CrmRecordValues }
  | { status: 'approved'; event: 'approval.apply_failed'; message: string };

/**
 * Writes approved approvals to the CRM, each once: claims them (another caller or a retry job
 * holding one skips it), then per object type and batch of 100 records re-reads the values,
 * marks `stale` those a person changed since the agent proposed (nothing is overwritten), and
 * writes the rest with provenance in one call. A CRM failure or an engaged kill switch leaves
 * an approval `approved`, retried later by the approval job with backoff.
 */
export async function applyApprovals(
  deps: ServiceDeps,
  input: { workspace: WorkspaceRow; approvalIds: readonly string[] },
): Promise<void> {
  const now = deps.clock();
  const claimMs = deps.approvalApplyClaimMs ?? ABANDONED_APPLY_MS;
  const claimed = await claimApplies(
    deps.db,
    input.workspace.id,
    input.approvalIds,
    now,
    new Date(now.getTime() - claimMs),
  );
  if (claimed.length === 0) return;
  const crm = deps.crmFor(input.workspace);
  const claimedIds = claimed.map((approval) => approval.id);
  const claim = keepApplyClaim(deps, { workspaceId: input.workspace.id, ids: claimedIds, claimedAt: now, claimMs });
  const run: ApplyRun = { written: new Map(), claimedIds, claim };
  try {
    await applyRounds(deps, crm, input.workspace, claimed, now, run);
  } finally {
    claim.stop();
  }
}

async function applyRounds(
  deps: ServiceDeps,
  crm: CrmPort,
  workspace: WorkspaceRow,
  claimed: StoredApproval[],
  now: Date,
  run: ApplyRun,
): Promise<void> {
  for (const round of rounds(claimed)) {
    const chunks = [...Map.groupBy(round, (approval) => approval.objectType)].flatMap(([objectType, approvals]) => {
      const slices: { objectType: ObjectType; chunk: StoredApproval[] }[] = [];
      const { batchLimit } = crm.forObject(objectType as ObjectType);
      for (let i = 0; i < approvals.length; i += batchLimit)
        slices.push({ objectType: objectType as ObjectType, chunk: approvals.slice(i, i + batchLimit) });
      return slices;
    });
    // A round names each record once, so its chunks are in flight together; the adapter keeps the rate limit.
    await pMap(
      chunks,
      async ({ objectType, chunk }) => {
        const results = await writeChunk(deps, crm, workspace, objectType, chunk, now, run);
        // What another writer took meanwhile is its to settle.
        const held = await run.claim.confirm(chunk.map((approval) => approval.id));
        await settle(
          deps,
          workspace,
          chunk.filter((approval) => held.has(approval.id)),
          results,
          now,
        );
      },
      { concurrency: CHUNK_CONCURRENCY },
    );
  }
}

/** What this run wrote, per object type and record: a later approval on the record builds on it. */
type WrittenValues = Map<string, Record<string, string | null>>;

interface ApplyRun {
  written: WrittenValues;
  /** Every approval this run claimed: its own later rounds are not another write overtaking it. */
  claimedIds: readonly string[];
  claim: ApplyClaim;
}

const recordKey = (approval: StoredApproval) => `${approval.objectType}:${approval.recordId}`;

/**
 * Approvals in rounds that name each record once, oldest first: HubSpot refuses a batch naming a
 * record twice, and two approvals of one record written at once would race, the later proposal
 * landing first or going stale over our own write depending on timing. In order, the later
 * one is written over the earlier, as the person approving both expects.
 */
function rounds(approvals: StoredApproval[]): StoredApproval[][] {
  const ordered = [...approvals].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id),
  );
  const seen = new Map<string, number>();
  const result: StoredApproval[][] = [];
  for (const approval of ordered) {
    const round = seen.get(recordKey(approval)) ?? 0;
    seen.set(recordKey(approval), round + 1);
    result[round] ??= [];
    result[round]!.push(approval);
  }
  return result;
}

async function writeChunk(
  deps: ServiceDeps,
  crm: CrmPort,
  workspace: WorkspaceRow,
  objectType: ObjectType,
  chunk: StoredApproval[],
  now: Date,
  run: ApplyRun,
): Promise<Map<string, ApplyResult>> {
  const { written } = run;
  const results = new Map<string, ApplyResult>();
  const writable: StoredApproval[] = [];
  const killSwitches = new Map<string, Awaited<ReturnType<typeof engagedKillSwitch>>>();
  for (const agentId of new Set(chunk.map((approval) => approval.agentId))) {
    killSwitches.set(
      agentId,
      await engagedKillSwitch(deps.db, { workspaceId: workspace.id, agentId, action: 'field_write' }),
    );
  }
  const approvedInTrail = await approvedInAudit(deps.db, workspace.id, chunk);
  const damaged = await damagedChanges(
    deps.db,
    workspace.id,
    chunk.flatMap((approval) => approval.items.map((item) => item.changeId)),
  );
  for (const approval of chunk) {
    const killed = killSwitches.get(approval.agentId);
    const undecided = withoutDecision(approval, approvedInTrail.get(approval.id));
    // A change whose decision was typed into the database is not written by a guess: retried, so written once the row is fixed.
    const broken = approval.items.find((item) => damaged.has(item.changeId));
    if (undecided) results.set(approval.id, undecided);
    else if (broken)
      results.set(
        approval.id,
        failed(
          `Not written yet: ${damagedChangeSetMessage({ changeId: broken.changeId, ...damaged.get(broken.changeId)! })}`,
        ),
      );
    else if (killed) results.set(approval.id, failed(killedMessage(killed.reason)));
    else writable.push(approval);
  }
  if (writable.length === 0) return results;

  let current: Map<string, CrmRecordValues>;
  const recordIds = writable.map((approval) => approval.recordId);
  // Our writes that settle after this point may land after the read (issue 17).
  const readFromSeq = (await readAuditHead(deps.db, workspace.id)).seq;
  try {
    const properties = [...new Set(writable.flatMap((approval) => approval.items.map((item) => item.property)))];
    current = await crm.readBatch({ objectType, recordIds, properties });
  } catch (error) {
    for (const approval of writable) results.set(approval.id, failed(crmMessage(error)));
    return results;
  }
  // Writes decided before our claim and not yet visible in the read; those decided after it saw the claim.
  const unsettled = await unsettledValues(deps.db, {
    workspaceId: workspace.id,
    objectType,
    recordIds,
    sinceSeq: readFromSeq,
    excludeApprovalIds: run.claimedIds,
  });

  const names = await agentNames(deps.db, workspace.id, [...new Set(writable.map((approval) => approval.agentId))]);
  const evidence = await evidenceFor(deps.db, workspace.id, writable);
  // Each write with its approval and the evidence source the agent cited (the switches check it again below).
  const writing: { approval: StoredApproval; write: CrmRecordWrite; evidenceSource: string }[] = [];
  for (const approval of writable) {
    if (alreadyHolds(approval, current.get(approval.recordId))) {
      // Written by an attempt whose process died before storing the outcome (issue 17): writing
      // again would record the value twice, and the stale check would take our own write for a person's.
      results.set(approval.id, { status: 'applied', event: 'approval.applied', message: null });
      written.set(recordKey(approval), {
        ...written.get(recordKey(approval)),
        ...valuesToApply(toDomainApproval(approval)),
      });
      continue;
    }
    const stale = staleness(
      approval,
      current.get(approval.recordId),
      written.get(recordKey(approval)) ?? {},
      unsettled.get(approval.recordId) ?? {},
    );
    if (stale) {
      results.set(approval.id, stale);
      continue;
    }
    // The provenance written with the value cites the agent's evidence: without it (its row deleted or
    // edited in the database) this approval waits, retried until the row is fixed; the others go on.
    const cited = evidenceSchema.safeParse(evidence.get(`${approval.changeSetId}:${approval.recordId}`));
    if (!cited.success) {
      results.set(approval.id, failed(missingEvidenceMessage(approval)));
      continue;
    }
    const recordEvidence = cited.data;
    const values = valuesToApply(toDomainApproval(approval));
    const properties: Record<string, string> = {};
    for (const [property, value] of Object.entries(values)) properties[property] = value ?? '';
    Object.assign(
      properties,
      provenanceValues({
        changeSetId: approval.changeSetId,
        agentName: names.get(approval.agentId) ?? approval.agentId,
        evidence: recordEvidence,
        properties: Object.keys(values),
        at: now,
        policyVersion: approval.policyVersion,
      }),
    );
    writing.push({
      approval,
      write: { recordId: approval.recordId, properties },
      evidenceSource: recordEvidence.source,
    });
  }
  if (writing.length === 0) return results;
  // Again right before the write: a switch engaged while the read waited (a 429's Retry-After) stops it too,
  // and so does a segment or evidence-source switch engaged since the agent proposed.
  const stopped = await switchesStopping(deps, crm, workspace, objectType, writing);
  for (const [approvalId, message] of stopped) results.set(approvalId, failed(message));
  // Still ours: a claim that lapsed while the read waited may have been taken, and written, by another writer.
  const held = await run.claim.confirm(writing.map(({ approval }) => approval.id));
  const sending = writing.filter(({ approval }) => !stopped.has(approval.id) && held.has(approval.id));
  if (sending.length === 0) return results;
  try {
    const outcomes = await crm.writeBatch({ objectType, writes: sending.map((s) => s.write) });
    sending.forEach(({ approval }, index) => {
      const outcome = outcomes[index];
      if (!outcome?.ok) {
        results.set(approval.id, failed(outcome ? outcome.message : 'The CRM gave no outcome for this record.'));
        return;
      }
      results.set(approval.id, { status: 'applied', event: 'approval.applied', message: null });
      written.set(recordKey(approval), {
        ...written.get(recordKey(approval)),
        ...valuesToApply(toDomainApproval(approval)),
      });
    });
  } catch (error) {
    for (const { approval } of sending) results.set(approval.id, failed(crmMessage(error)));
  }
  return results;
}

/**
 * The approvals a kill switch now stops, with the sentence saying which: the workspace's, the
 * agent's or `field_write` switch, or a segment or evidence-source switch covering the record or
 * the evidence the agent cited.
 */
async function switchesStopping(
  deps: ServiceDeps,
  crm: CrmPort,
  workspace: WorkspaceRow,
  objectType: ObjectType,
  writing: readonly { approval: StoredApproval; evidenceSource: string }[],
): Promise<Map<string, string>> {
  const stopped = new Map<string, string>();
  const scoped = await engagedSwitches(deps.db, workspace.id);
  for (const [agentId, ofAgent] of Map.groupBy(writing, ({ approval }) => approval.agentId)) {
    const killed = await engagedKillSwitch(deps.db, { workspaceId: workspace.id, agentId, action: 'field_write' });
    if (killed) {
      for (const { approval } of ofAgent) stopped.set(approval.id, killedMessage(killed.reason));
      continue;
    }
    const stopping = await switchesStoppingEntries(crm, scoped, {
      agentId,
      objectType,
      entries: ofAgent.map(({ approval, evidenceSource }) => ({ recordId: approval.recordId, evidenceSource })),
    });
    ofAgent.forEach(({ approval }, index) => {
      const engaged = stopping[index];
      if (engaged)
        stopped.set(
          approval.id,
          `Not written yet: the ${describeSwitch(engaged)} kill switch is engaged (${engaged.reason}).`,
        );
    });
  }
  return stopped;
}

function missingEvidenceMessage(approval: StoredApproval): string {
  return (
    `Not written yet: the evidence the agent gave for record ${approval.recordId} in change set ${approval.changeSetId} ` +
    'is missing or damaged in the database, and a write carries it as provenance; it is retried once the row is fixed.'
  );
}

function killedMessage(reason: string): string {
  return `Not written yet: a kill switch is engaged (${reason}).`;
}

/**
 * Not written, for good, when the audit log does not show a person approving what the approval
 * would write (property and value, and the value before that the stale check relies on): its row was
 * changed outside this app (a database owner marking it approved by hand, or editing a value), or the
 * approved value's personal data is gone from the log.
 */
function withoutDecision(approval: StoredApproval, approvedInTrail: ReadonlyMap<string, ApprovedValue> | undefined) {
  const values = Object.entries(valuesToApply(toDomainApproval(approval)));
  const items = new Map(approval.items.map((item) => [item.property, item]));
  const named = (check: (approved: ApprovedValue | undefined, value: string | null, property: string) => boolean) =>
    values
      .filter(([property, value]) => check(approvedInTrail?.get(property), value, property))
      .map(([property]) => property);
  const unapproved = named((approved) => approved === undefined);
  const differing = named((approved, value) => typeof approved === 'object' && approved.value !== value);
  // The stale check compares the CRM with the stored value before: an edited one could let a person's change be overwritten.
  const movedBefore = named(
    (approved, _value, property) =>
      typeof approved === 'object' && approved.before !== items.get(property)?.beforeValue,
  );
  const unreadable = named((approved) => approved === 'unreadable');
  const outside = (what: string) => `${what}, so its row was changed outside this app`;
  let message: string;
  if (values.length === 0) message = outside('it is marked approved yet approves no property');
  else if (unapproved.length > 0) message = outside(`the audit log shows no person approving ${unapproved.join(', ')}`);
  else if (differing.length > 0)
    message = outside(`the value stored for ${differing.join(', ')} differs from the one the audit log shows approved`);
  else if (movedBefore.length > 0)
    message = outside(
      `the value before the proposal stored for ${movedBefore.join(', ')} differs from the one the audit log recorded`,
    );
  else if (unreadable.length > 0)
    message = `the value approved for ${unreadable.join(', ')} can no longer be read from the audit log (its personal values were erased or outlived their retention)`;
  else return undefined;
  return { status: 'stale', event: 'approval.stale', message: `Not written: ${message}.` } satisfies ApplyResult;
}

/** True when the record already holds every value the approval would write (and so a write would change nothing). */
function alreadyHolds(approval: StoredApproval, record: CrmRecordValues | undefined): boolean {
  if (!record) return false;
  return Object.entries(valuesToApply(toDomainApproval(approval))).every(
    ([property, value]) => (record[property] ?? '') === (value ?? ''),
  );
}

/**
 * Stale when a held property no longer holds its value from before the proposal, or what this run
 * just wrote there, or when another of our writes still unsettled is putting something else there.
 */
function staleness(
  approval: StoredApproval,
  record: CrmRecordValues | undefined,
  writtenHere: Readonly<Record<string, string | null>>,
  unsettled: Readonly<Record<string, string | null>>,
): ApplyResult | undefined {
  if (!record)
    return {
      status: 'stale',
      event: 'approval.stale',
      message: `Record ${approval.recordId} no longer exists in the CRM; nothing was written.`,
    };
  const held = approval.items.filter((item) => item.status !== 'rejected');
  const current = Object.fromEntries(held.map((item) => [item.property, record[item.property] ?? null]));
  const before = Object.fromEntries(
    approval.items.map((item) => [
      item.property,
      item.property in writtenHere ? (writtenHere[item.property] ?? null) : item.beforeValue,
    ]),
  );
  const overtaken = held
    .filter((item) => item.property in unsettled && (unsettled[item.property] ?? null) !== before[item.property])
    .map((item) => item.property);
  if (overtaken.length > 0) {
    return {
      status: 'stale',
      event: 'approval.stale',
      current,
      message: `Another write is changing ${overtaken.join(', ')} in the CRM; nothing was overwritten.`,
    };
  }
  if (checkStale(toDomainApproval(approval), before, current).status !== 'stale') return undefined;
  const changed = held
    .filter((item) => (current[item.property] ?? null) !== before[item.property])
    .map((item) => item.property);
  return {
    status: 'stale',
    event: 'approval.stale',
    current,
    message: `Someone changed ${changed.join(', ')} in the CRM after the agent proposed; nothing was overwritten.`,
  };
}

async function settle(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  chunk: StoredApproval[],
  results: Map<string, ApplyResult>,
  now: Date,
): Promise<void> {
  await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const outcomes = chunk.map((approval) => {
      const result = results.get(approval.id) ?? failed('The CRM gave no outcome for this record.');
      const retryAt =
        result.status === 'approved'
          ? new Date(now.getTime() + Math.min(RETRY_BASE_MS * 2 ** approval.applyAttempts, RETRY_MAX_MS))
          : undefined;
      return { approval, result, retryAt };
    });
    await settleApplies(
      tx,
      outcomes.map(({ approval, result, retryAt }) => ({
        id: approval.id,
        status: result.status,
        message: result.message,
        ...(retryAt ? { retryAt } : {}),
      })),
    );
    const applied = outcomes.filter(({ result }) => result.status === 'applied');
    await markChangesApplied(
      tx,
      workspace.id,
      applied.flatMap(({ approval }) => approvedItems(approval).map((item) => item.changeId)),
    );
    for (const { approval, result, retryAt } of outcomes) {
      audit.append({
        type: result.event,
        actor: SYSTEM,
        agentId: approval.agentId,
        batchId: approval.batchId,
        changeSetId: approval.changeSetId,
        objectType: approval.objectType,
        recordId: approval.recordId,
        before: Object.fromEntries(approvedItems(approval).map((item) => [item.property, item.beforeValue])),
        after: result.status === 'applied' ? valuesToApply(toDomainApproval(approval)) : null,
        policyVersion: approval.policyVersion,
        data: {
          approvalId: approval.id,
          status: result.status,
          message: result.message,
          ...(retryAt ? { retryAt: retryAt.toISOString(), attempt: approval.applyAttempts + 1 } : {}),
          ...(result.status === 'stale' && result.current ? { current: result.current } : {}),
        },
      });
    }
  });
}

function approvedItems(approval: StoredApproval) {
  return approval.items.filter((item) => item.status === 'approved');
}

function failed(message: string): ApplyResult {
  return { status: 'approved', event: 'approval.apply_failed', message };
}

function crmMessage(error: unknown): string {
  return error instanceof AppError ? error.message : 'The CRM could not be reached.';
}
