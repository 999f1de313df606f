import { createHash } from 'node:crypto';
import pMap from 'p-map';
import {
  isAssociate,
  isCreate,
  type AssociateChangeSetRequest,
  type ChangeSetRequest,
  type ChangeSetResponse,
  type CreateChangeSetRequest,
  type RecordChange,
  type Evidence,
  type UpdateChangeSetRequest,
} from '../../../../shared/agent-api.ts';
import type { ActivePolicy } from '../../../../shared/admin-api.ts';
import type { Policy } from '../../../../shared/policy.ts';
import type { ReasonCode } from '../../../../shared/reason-codes.ts';
import { refuseUnconnectedObjectType } from '../../crm/connections.ts';
import type { CrmPort, CrmPropertyDefinition, CrmRecordValues } from '../../crm/port.ts';
import { holdForGates, type AgentHold } from '../../domain/agent-safety.ts';
import { canonicalJson } from '../../domain/audit-chain.ts';
import { applyCaps, dayKey, evaluateFields, type FieldWrite } from '../../domain/policy-evaluation.ts';
import { reconsiderForUnsettled } from '../../domain/unsettled-writes.ts';
import { AppError } from '../../errors.ts';
import type { AgentRow } from '../../store/agent-store.ts';
import { insertApprovals } from '../../store/approval-store.ts';
import { readAuditHead } from '../../store/audit-store.ts';
import { InFlight } from '../../store/in-flight.ts';
import { insertChangeRecords, insertChanges, insertChangeSet, type ChangeRow } from '../../store/change-store.ts';
import {
  findIdempotencyKey,
  attachChangeSet,
  claimIdempotencyKey,
  releaseAbandonedClaim,
  releaseIdempotencyKey,
  renewIdempotencyClaim,
} from '../../store/idempotency-store.ts';
import { unsettledValues } from '../../store/unsettled-values-store.ts';
import { addUsages, readUsages } from '../../store/usage-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import {
  describeSwitch,
  segmentProperties,
  switchStopping,
  type EngagedSwitch,
} from '../../domain/kill-switch-scope.ts';
import {
  agentActor,
  engagedSwitchesUnlessKilled,
  gatesForSubmission,
  listsOfRecords,
  withinAgentBudget,
} from '../governance/index.ts';
import {
  abortStagedWrite,
  applyAutoWrites,
  type PlannedWrite,
  type StagedFirstWrite,
  stageFirstWrite,
  switchKey,
  type WriteOutcome,
} from './apply-writes.ts';
import { changeSetLeaseOf } from './change-set-lease.ts';
import { asAgentSees, changeSetView, loadChangeSetView } from './change-set-view.ts';
import { decisionEvents } from './decision-events.ts';
import {
  type Actor,
  type HeldLease,
  keepRenewing,
  type ServiceDeps,
  toCrmValue,
  APP_PROPERTY_GROUP,
  PROVENANCE_PROPERTIES,
  newId,
  withAuditChain,
} from '../common/index.ts';
import { planApprovals } from '../held/index.ts';
import { sampleAppliedWrites } from './qa-reviews.ts';
import { associateRecords } from './associate-records.ts';
import { createRecords } from './create-records.ts';

export interface SubmitChangeSetInput {
  agent: AgentRow;
  workspace: WorkspaceRow;
  request: ChangeSetRequest;
  idempotencyKey?: string | undefined;
}

const READ_CONCURRENCY = 8;

/**
 * Change rows are built and sent this many at a time, so Postgres stores the first while the
 * rest are built rather than waiting for all 10,000 of a large change set.
 */
const ROWS_PER_SLICE = 2_000;

/** A row as settleApplyingChanges leaves it in the database once its record's write came back. */
function settledRow(row: ChangeRow, outcome: WriteOutcome | undefined): ChangeRow {
  if (row.decision !== 'applying' || !outcome) return row;
  if (outcome.ok) return { ...row, decision: 'applied' };
  return { ...row, decision: 'failed', reasons: [...row.reasons, outcome.reason], message: outcome.message };
}

/** Milliseconds spent in each phase, reported as a Server-Timing header so operators see where time goes. */
export type PhaseTimings = Partial<Record<'validate' | 'read' | 'decide' | 'write' | 'view', number>>;

interface Submitted {
  response: ChangeSetResponse;
  replayed: boolean;
  timings: PhaseTimings;
}

/**
 * The agent's story: refuse if killed; check the delegation; validate against the CRM's schema;
 * read current values; decide every field under the policy in force; store decisions and audit
 * events in one transaction; then apply the `auto` writes with provenance.
 */
export async function submitChangeSet(
  deps: ServiceDeps,
  input: SubmitChangeSetInput,
): Promise<{ response: ChangeSetResponse; replayed: boolean; timings: PhaseTimings }> {
  const { agent, workspace, request } = input;
  refuseUnconnectedObjectType(deps.crmFor(workspace), request.objectType, 'The change set');
  const killSwitch = { workspaceId: workspace.id, agentId: agent.id, action: 'field_write' } as const;
  // Read once for both uses: a switch stopping the agent refuses the request, a scoped one its records.
  const engagedOnArrival = await engagedSwitchesUnlessKilled(deps.db, killSwitch);
  // Its CRM calls and the costs its entries report count against the agent's budgets (issue 21).
  const costs = request.changes.flatMap(({ evidence: { cost } }, index) =>
    cost ? [{ ...cost, path: `changes.${index}.evidence.cost` }] : [],
  );
  const key = input.idempotencyKey && { workspaceId: workspace.id, agentId: agent.id, key: input.idempotencyKey };
  const submit = (engaged: readonly EngagedSwitch[]) =>
    withinAgentBudget<Submitted>(
      deps,
      {
        workspaceId: workspace.id,
        agent,
        costs,
        replays: async () => Boolean(key && (await findIdempotencyKey(deps.db, key))?.changeSetId),
        counted: (result) => !result.replayed,
      },
      async (policyNow) => {
        const submitted = await submitWithinBudget(deps, input, policyNow, engaged);
        // Shown under the read rules of the policy it was decided (or, a replay, answered) under.
        return { ...submitted, response: await asAgentSees(deps, input, policyNow, submitted.response) };
      },
    );
  if (!deps.changeSetTurns) return submit(engagedOnArrival);
  // A switch engaged while it waited behind another change set stops it too, before anything is read or stored.
  return deps.changeSetTurns.run(workspace.id, async (waited) =>
    submit(waited ? await engagedSwitchesUnlessKilled(deps.db, killSwitch) : engagedOnArrival),
  );
}

/**
 * `policyNow` is the policy the budgets were read from, the one in force as the request came: a
 * new submission is decided under it and its answer shown under it; a replay's stored answer is
 * shown under its read rules, so a rule tightened since withholds from it too.
 */
async function submitWithinBudget(
  deps: ServiceDeps,
  input: SubmitChangeSetInput,
  policyNow: ActivePolicy,
  engaged: readonly EngagedSwitch[],
): Promise<Submitted> {
  const { agent, workspace, request } = input;
  const actor = await agentActor(deps, { workspaceId: workspace.id, agent, onBehalfOf: request.onBehalfOf });

  const key = input.idempotencyKey
    ? { workspaceId: workspace.id, agentId: agent.id, key: input.idempotencyKey }
    : undefined;
  let claim: HeldLease | undefined;
  if (key) {
    const claimed = await claimOrReplay(deps, key, createHash('sha256').update(canonicalJson(request)).digest('hex'));
    if ('replay' in claimed) return { response: claimed.replay, replayed: true, timings: {} };
    claim = claimed.lease;
  }

  let changeSetId: string | undefined;
  const timings: PhaseTimings = {};
  let phaseStart = performance.now();
  const phase = (name: keyof PhaseTimings) => {
    const now = performance.now();
    timings[name] = now - phaseStart;
    phaseStart = now;
  };
  try {
    const crm = deps.crmFor(workspace);
    const { version, policy: policyInForce } = policyNow;
    if (request.changes.every(isAssociate)) {
      // An association sets no property: nothing to validate against the CRM's schema.
      const { policy, holds } = await gatesForSubmission(deps, {
        workspaceId: workspace.id,
        agent,
        policy: policyInForce,
        promptHashes: request.changes.flatMap((change) => change.evidence.promptHash ?? []),
        writes: request.changes.length,
      });
      phase('validate');
      const associated = await associateRecords(deps, {
        crm,
        agent,
        workspace,
        request: request as AssociateChangeSetRequest,
        actor,
        policyVersion: version,
        policy,
        holds,
        key,
        delegationId: actor.onBehalfOf?.delegationId ?? null,
      });
      changeSetId = associated.changeSetId;
      return { response: await associated.response(), replayed: false, timings };
    }
    const creates = request.changes.filter(isCreate);
    // Updates' records are read while the CRM describes their properties (a call of its own when not
    // cached): the read needs nothing validation decides. A request validation refuses drops what it read.
    const reading =
      creates.length === 0
        ? readRecords(deps, {
            crm,
            agent,
            workspace,
            request: request as UpdateChangeSetRequest,
            policy: policyInForce,
            engaged,
          })
        : undefined;
    reading?.catch(() => undefined);
    const definitions = await crm.describeProperties(request.objectType);
    const entries = request.changes as (UpdateChangeSetRequest['changes'][number] | (typeof creates)[number])[];
    // Entries named by their place in the request until they have a record id.
    const writes = validatedWrites(
      definitions,
      request.objectType,
      entries.map((change, index) => (isCreate(change) ? { ...change, recordId: `#${index + 1}` } : change)),
    );
    if (PROVENANCE_PROPERTIES.some((property) => !definitions.has(property.name))) {
      // An account nobody bootstrapped yet: create what provenance needs rather than fail every write.
      await crm.ensureProperties({
        objectType: request.objectType,
        group: APP_PROPERTY_GROUP,
        properties: PROVENANCE_PROPERTIES,
      });
    }
    // Safe mode lowers the agent's caps; it, a new prompt hash or a jump in volume hold its `auto` writes.
    const { policy, holds } = await gatesForSubmission(deps, {
      workspaceId: workspace.id,
      agent,
      policy: policyInForce,
      promptHashes: entries.flatMap((change) => change.evidence.promptHash ?? []),
      writes: writes.length,
    });
    phase('validate');
    if (creates.length > 0) {
      const created = await createRecords(deps, {
        crm,
        agent,
        workspace,
        request: { ...request, changes: creates } satisfies CreateChangeSetRequest,
        actor,
        policyVersion: version,
        policy,
        holds,
        key,
        delegationId: actor.onBehalfOf?.delegationId ?? null,
        entries: entriesOf(writes, creates.length),
      });
      changeSetId = created.changeSetId;
      return { response: await created.response(), replayed: false, timings };
    }
    const updates = request as UpdateChangeSetRequest;
    const { scoped, readFromSeq, records, stopped } = await reading!;
    phase('read');
    const decided = await decideAndStore(deps, {
      agent,
      workspace,
      request: updates,
      actor,
      policyVersion: version,
      policy,
      holds,
      writes,
      records,
      ownerProperty: crm.forObject(updates.objectType).ownerProperty,
      readFromSeq,
      delegationId: actor.onBehalfOf?.delegationId ?? null,
      key,
      stopped,
      stage: (id, planned) =>
        stageFirstWrite(deps, {
          crm,
          workspace,
          agent,
          actor,
          request,
          changeSetId: id,
          policyVersion: version,
          planned,
        }),
    });
    changeSetId = decided.changeSetId;
    phase('decide');
    const { outcomes, completed } = await applyAutoWrites(deps, {
      crm,
      workspace,
      agent,
      actor,
      request,
      changeSetId,
      policyVersion: version,
      planned: decided.planned,
      scopedDecided: new Set(scoped.map(switchKey)),
      staged: decided.staged,
    });
    phase('write');
    // Taken over by another server's recovery while this one stalled: what is stored is the answer so far.
    if (!completed)
      return {
        response: await loadChangeSetView(deps.db, { workspaceId: workspace.id, agentId: agent.id }, changeSetId),
        replayed: false,
        timings,
      };
    const header = {
      id: changeSetId,
      batchId: request.batchId,
      objectType: request.objectType,
      agentId: agent.id,
      policyVersion: version,
      status: 'completed' as const,
      createdAt: decided.createdAt,
    };
    // Built from the rows in hand rather than read back: the same rows the database now holds.
    const settled = decided.rows.map((row) => settledRow(row, outcomes.get(row.recordId)));
    await sampleAppliedWrites(deps, {
      workspaceId: workspace.id,
      agent,
      policy,
      objectType: request.objectType,
      rows: settled,
    });
    const response = changeSetView(header, settled);
    phase('view');
    return { response, replayed: false, timings };
  } catch (error) {
    if (key && !changeSetId) await releaseIdempotencyKey(deps.db, key);
    throw error;
  } finally {
    claim?.stop();
  }
}

/**
 * Claims the key, renewed like a change set's lease until the change set is stored with it (in one
 * transaction), or replays what the key already holds. A claim whose lease lapsed with no change
 * set belongs to a request whose server died before deciding: the agent's retry runs afresh.
 */
async function claimOrReplay(
  deps: ServiceDeps,
  key: { workspaceId: string; agentId: string; key: string },
  requestHash: string,
): Promise<{ replay: ChangeSetResponse } | { lease: HeldLease }> {
  const { leaseMs } = changeSetLeaseOf(deps);
  const claimedAt = deps.clock();
  const claim = await claimIdempotencyKey(deps.db, {
    ...key,
    requestHash,
    createdAt: claimedAt,
    leaseExpiresAt: new Date(claimedAt.getTime() + leaseMs),
  });
  if (claim.claimed)
    return {
      lease: keepRenewing(leaseMs, () =>
        renewIdempotencyClaim(deps.db, key, claimedAt, new Date(deps.clock().getTime() + leaseMs)),
      ),
    };
  const { existing } = claim;
  if (existing.requestHash !== requestHash) {
    throw new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used for a different request; use a new key for a new submission.',
    );
  }
  if (existing.changeSetId) return { replay: await loadChangeSetView(deps.db, key, existing.changeSetId) };
  if (existing.leaseExpiresAt.getTime() < deps.clock().getTime()) {
    // Whoever frees it claims it afresh; a concurrent retry that lost the race finds the new claim in progress.
    await releaseAbandonedClaim(deps.db, key, existing.createdAt);
    return claimOrReplay(deps, key, requestHash);
  }
  throw new AppError(
    'IDEMPOTENCY_IN_PROGRESS',
    'A submission with this Idempotency-Key is still being processed; retry in a few seconds.',
    { retryable: true },
  );
}

interface ValidatedWrite extends FieldWrite {
  evidence: Evidence;
}

/** Every property must exist in the CRM and every value must fit its type, or nothing is stored. */
function validatedWrites(
  definitions: Map<string, CrmPropertyDefinition>,
  objectType: ChangeSetRequest['objectType'],
  changes: readonly {
    recordId: string;
    properties: RecordChange['properties'];
    evidence: Evidence;
  }[],
): ValidatedWrite[] {
  const unknown = new Set<string>();
  const invalid: { recordId: string; property: string; message: string }[] = [];
  const writes: ValidatedWrite[] = [];
  for (const change of changes) {
    for (const [property, value] of Object.entries(change.properties)) {
      const definition = definitions.get(property);
      if (!definition) {
        unknown.add(property);
        continue;
      }
      const converted = toCrmValue(definition, value);
      if (converted.ok)
        writes.push({ recordId: change.recordId, property, proposedValue: converted.value, evidence: change.evidence });
      else invalid.push({ recordId: change.recordId, property, message: converted.message });
    }
  }
  if (unknown.size > 0) {
    const names = [...unknown].sort();
    throw new AppError(
      'UNKNOWN_PROPERTY',
      `${objectType} have no propert${names.length === 1 ? 'y' : 'ies'} named ${names.join(', ')} in the CRM.`,
      { details: { properties: names } },
    );
  }
  const first = invalid[0];
  if (first) {
    throw new AppError('INVALID_PROPERTY_VALUE', `Record ${first.recordId}: ${first.message}.`, {
      details: { invalid: invalid.slice(0, 100) },
    });
  }
  return writes;
}

/** The converted values of each creation entry, in order, from the writes validated for entries `#1`…`#count`. */
function entriesOf(writes: readonly ValidatedWrite[], count: number): Record<string, string | null>[] {
  const entries = Array.from({ length: count }, (): Record<string, string | null> => ({}));
  for (const write of writes) entries[Number(write.recordId.slice(1)) - 1]![write.property] = write.proposedValue;
  return entries;
}

/**
 * What deciding updates needs from the CRM: the records' current values, and which records a scoped
 * kill switch (issue 21) covers, of the switches `engaged` as the request was let in (the request-wide
 * ones refused it then; one engaged since stops the writes, checked before each). Safe mode changes
 * only the policy's caps, so the policy in force names the properties its conditions read.
 */
async function readRecords(
  deps: ServiceDeps,
  input: {
    crm: CrmPort;
    agent: AgentRow;
    workspace: WorkspaceRow;
    request: UpdateChangeSetRequest;
    policy: Policy;
    engaged: readonly EngagedSwitch[];
  },
): Promise<{
  scoped: EngagedSwitch[];
  readFromSeq: number;
  records: Map<string, CrmRecordValues>;
  stopped: Map<string, EngagedSwitch>;
}> {
  const { crm, workspace, request } = input;
  const scoped = input.engaged.filter((engaged) => engaged.scope === 'segment' || engaged.scope === 'evidence_source');
  // Our writes that settle after this point may land after the read: decideAndStore looks them up.
  const readFromSeq = (await readAuditHead(deps.db, workspace.id)).seq;
  const records = await readCurrentValues(crm, request, input.policy, segmentProperties(scoped, request.objectType));
  const stopped = await recordsStopped(crm, scoped, request, input.agent.id, records);
  return { scoped, readFromSeq, records, stopped };
}

/** Reads every record in CRM-sized batches: the written properties plus those the policy's record conditions look at. */
async function readCurrentValues(
  crm: CrmPort,
  request: UpdateChangeSetRequest,
  policy: Policy,
  segmentProperties: readonly string[],
): Promise<Map<string, CrmRecordValues>> {
  const properties = new Set<string>(request.changes.flatMap((change) => Object.keys(change.properties)));
  for (const property of segmentProperties) properties.add(property);
  // A held write's approval names the record's owner (a rep decides only on their own records).
  const settings = crm.forObject(request.objectType);
  properties.add(settings.ownerProperty);
  for (const condition of policy.conditions) {
    if (condition.kind === 'record_matches' && condition.objectType === request.objectType)
      properties.add(condition.property);
  }
  const ids = request.changes.map((change) => change.recordId);
  const batches: string[][] = [];
  const perRead = settings.readBatchLimit ?? settings.batchLimit;
  for (let i = 0; i < ids.length; i += perRead) batches.push(ids.slice(i, i + perRead));
  // Reads have no side effects, so a few run at once; the adapter still paces them to the rate limit.
  const read = await pMap(
    batches,
    (recordIds) => crm.readBatch({ objectType: request.objectType, recordIds, properties: [...properties] }),
    { concurrency: READ_CONCURRENCY },
  );
  return new Map(read.flatMap((batch) => [...batch]));
}

/**
 * The records of the change set an engaged segment or evidence-source switch covers, with the
 * switch: their writes are refused (`kill_switch_engaged`, the message naming the switch), the
 * rest go on. The lists are asked only when a list segment is engaged.
 */
async function recordsStopped(
  crm: CrmPort,
  scoped: readonly EngagedSwitch[],
  request: UpdateChangeSetRequest,
  agentId: string,
  records: Map<string, CrmRecordValues>,
): Promise<Map<string, EngagedSwitch>> {
  const stopped = new Map<string, EngagedSwitch>();
  if (scoped.length === 0) return stopped;
  const lists = await listsOfRecords(
    crm,
    scoped,
    request.changes.map((change) => change.recordId),
  );
  for (const change of request.changes) {
    const record = records.get(change.recordId);
    const of = lists.get(change.recordId);
    const engaged = switchStopping(scoped, {
      agentId,
      action: 'field_write',
      objectType: request.objectType,
      recordId: change.recordId,
      evidenceSource: change.evidence.source,
      ...(record ? { record } : {}),
      ...(of ? { lists: of } : {}),
    });
    if (engaged) stopped.set(change.recordId, engaged);
  }
  return stopped;
}

/** What a write a scoped switch refused says about it. */
export function stoppedMessage(engaged: EngagedSwitch): string {
  return `Not written: the ${describeSwitch(engaged)} kill switch is engaged (${engaged.reason}).`;
}

interface DecideInput {
  agent: AgentRow;
  workspace: WorkspaceRow;
  request: UpdateChangeSetRequest;
  actor: Actor;
  policyVersion: number;
  policy: Policy;
  holds: readonly AgentHold[];
  writes: ValidatedWrite[];
  records: Map<string, CrmRecordValues>;
  ownerProperty: string;
  /** The chain head's seq when the CRM read began. */
  readFromSeq: number;
  delegationId: string | null;
  key: { workspaceId: string; agentId: string; key: string } | undefined;
  /** Records a scoped kill switch covers: their writes are refused, not decided. */
  stopped: Map<string, EngagedSwitch>;
  /** Stages the first write of what was decided `auto`, while the decisions are stored. */
  stage: (changeSetId: string, planned: PlannedWrite[]) => StagedFirstWrite | undefined;
}

/**
 * Decides and stores under the workspace's chain lock, so caps count every concurrent submission:
 * twenty parallel requests are decided one after another, each seeing the others' usage. Under
 * the same lock, the values our other writes put or are putting on these records since the CRM
 * read (issue 17) are laid over it: ten agents filling one empty field at once see the first's
 * value, not the empty one they all read.
 */
async function decideAndStore(
  deps: ServiceDeps,
  input: DecideInput,
): Promise<{
  changeSetId: string;
  createdAt: Date;
  rows: ChangeRow[];
  planned: PlannedWrite[];
  staged: StagedFirstWrite | undefined;
}> {
  const { workspace, agent, request, policy } = input;
  const changeSetId = newId();
  const now = deps.clock();
  const day = dayKey(now, policy.timezone);
  const found = input.writes.filter((write) => input.records.has(write.recordId) && !input.stopped.has(write.recordId));

  // Everything but the caps needs no counters, so it is decided before the chain lock is taken.
  const evaluateInput = {
    policy,
    agentRole: agent.role,
    objectType: request.objectType,
    writes: found,
    records: input.records,
    now,
  };
  const uncappedAsRead = evaluateFields(evaluateInput);

  let staged: StagedFirstWrite | undefined;
  try {
    return await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
      const recordIds = [...new Set(found.map((write) => write.recordId))];
      const unsettled = unsettledValues(tx, {
        workspaceId: workspace.id,
        objectType: request.objectType,
        recordIds,
        sinceSeq: input.readFromSeq,
        excludeChangeSetId: changeSetId,
      });
      const usage = readUsages(tx, {
        workspaceId: workspace.id,
        day,
        subjects: [
          ['agent_writes', [agent.id]],
          ['record_writes', recordIds],
        ],
      });
      // Each insert goes as soon as its rows exist, so Postgres stores while the rest is decided,
      // built and hashed.
      const inFlight = new InFlight();
      // Leased from the start: should this process die before the writes settle, the lease lapses and recovery takes over.
      const lease = changeSetLeaseOf(deps);
      inFlight.send(
        insertChangeSet(tx, {
          id: changeSetId,
          workspaceId: workspace.id,
          agentId: agent.id,
          batchId: request.batchId,
          objectType: request.objectType,
          policyVersion: input.policyVersion,
          delegationId: input.delegationId,
          status: 'applying',
          createdAt: now,
          leaseHolder: lease.holder,
          leaseExpiresAt: new Date(now.getTime() + lease.leaseMs),
        }),
      );
      inFlight.send(
        insertChangeRecords(
          tx,
          request.changes.map((change) => ({
            workspaceId: workspace.id,
            changeSetId,
            recordId: change.recordId,
            evidence: change.evidence,
          })),
        ),
      );
      if (input.key) inFlight.send(attachChangeSet(tx, input.key, changeSetId));
      // Awaited together: a failure of one must not leave the other's rejection unhandled.
      const [unsettledNow, [agentUsage, recordUsage]] = await Promise.all([unsettled, usage]);
      const { records, uncapped } = reconsiderForUnsettled({
        ...evaluateInput,
        uncapped: uncappedAsRead,
        unsettled: unsettledNow,
      });
      const capped = applyCaps({
        policy,
        agentRole: agent.role,
        writes: found,
        uncapped,
        usage: { agentWritesToday: agentUsage.get(agent.id) ?? 0, recordWritesToday: recordUsage },
      });
      const { added } = capped;
      const evaluations = capped.evaluations.map((evaluation) => holdForGates(evaluation, input.holds));

      const evaluationByWrite = new Map(found.map((write, index) => [write, evaluations[index]]));
      const decisions = input.writes.map((write) => {
        const before = records.get(write.recordId)?.[write.property] ?? null;
        const evaluation = evaluationByWrite.get(write);
        const stopped = input.stopped.get(write.recordId);
        // A scoped kill switch over the record refuses it whatever the policy says (issue 21).
        const decided: Pick<ChangeRow, 'tier' | 'decision' | 'reasons' | 'message'> = stopped
          ? { tier: null, decision: 'denied', reasons: ['kill_switch_engaged'], message: stoppedMessage(stopped) }
          : evaluation
            ? {
                tier: evaluation.tier,
                decision: decisionFor(evaluation.tier, evaluation.reasons),
                reasons: evaluation.reasons,
                message: null,
              }
            : {
                tier: null,
                decision: 'failed',
                reasons: ['record_not_found'],
                message: `Record ${write.recordId} does not exist in the CRM.`,
              };
        return { write, before, decided };
      });
      const planned: PlannedWrite[] = decisions.flatMap(({ write, before, decided }) =>
        decided.decision === 'applying'
          ? [
              {
                recordId: write.recordId,
                property: write.property,
                before,
                value: write.proposedValue,
                evidence: write.evidence,
              },
            ]
          : [],
      );
      // The first write goes to the CRM, unmade, while the rows below are stored (`applyAutoWrites` makes it).
      staged = input.stage(changeSetId, planned);

      const rows: ChangeRow[] = [];
      for (let start = 0; start < decisions.length; start += ROWS_PER_SLICE) {
        const slice = decisions.slice(start, start + ROWS_PER_SLICE).map(
          ({ write, before, decided }, index): ChangeRow => ({
            id: newId(),
            workspaceId: workspace.id,
            changeSetId,
            ordinal: start + index,
            recordId: write.recordId,
            property: write.property,
            beforeValue: before,
            proposedValue: write.proposedValue,
            ...decided,
          }),
        );
        rows.push(...slice);
        inFlight.send(insertChanges(tx, slice));
        await inFlight.deliver();
      }
      const held = planApprovals({
        workspaceId: workspace.id,
        changeSetId,
        agentId: agent.id,
        batchId: request.batchId,
        objectType: request.objectType,
        policyVersion: input.policyVersion,
        actor: input.actor,
        rows,
        records,
        ownerProperty: input.ownerProperty,
        expiryHours: policy.approvals.expiryHours,
        now,
      });
      inFlight.send(insertApprovals(tx, held.approvals, held.items));
      inFlight.send(
        addUsages(tx, {
          workspaceId: workspace.id,
          day,
          increments: [
            ['agent_writes', new Map([[agent.id, added.agentWrites]])],
            ['record_writes', added.recordWrites],
          ],
        }),
      );
      const evidence = new Map(request.changes.map((change) => [change.recordId, change.evidence]));
      const decided = decisionEvents(rows, evidence, {
        actor: input.actor,
        agentId: agent.id,
        batchId: request.batchId,
        objectType: request.objectType,
        policyVersion: input.policyVersion,
      });
      await audit.appendAll([...decided, ...held.events]);
      await inFlight.settled();
      return { changeSetId, createdAt: now, rows, planned, staged };
    });
  } catch (error) {
    // The decisions are not stored: the staged write must not be made.
    if (staged) await abortStagedWrite(staged);
    throw error;
  }
}

function decisionFor(tier: string, reasons: readonly ReasonCode[]): ChangeRow['decision'] {
  if (tier === 'deny') return 'denied';
  if (reasons.includes('value_unchanged')) return 'applied';
  return tier === 'auto' ? 'applying' : 'pending_approval';
}
