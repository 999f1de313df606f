import { evidenceSchema, type CreateChangeSetRequest, type ChangeSetResponse } from '../../../../shared/agent-api.ts';
import type { CrmPort } from '../../crm/port.ts';
import { holdForGates } from '../../domain/agent-safety.ts';
import { asJson } from '../../domain/audit-chain.ts';
import { dayKey } from '../../domain/policy-evaluation.ts';
import {
  contactKey,
  creationKeys,
  evaluateCreates,
  findDuplicates,
  type ContactKey,
  type ExistingContact,
} from '../../domain/record-creation.ts';
import { AppError } from '../../errors.ts';
import {
  findStandingCreations,
  insertRecordCreations,
  listRecordCreations,
  settleRecordCreations,
  type CreationOutcome,
  type RecordCreationRow,
} from '../../store/record-creation-store.ts';
import { readUsage } from '../../store/usage-store.ts';
import {
  actorJson,
  alongsideCrm,
  CREATE_REF_PROPERTY,
  newId,
  provenanceValues,
  type ServiceDeps,
  withAuditChain,
} from '../common/index.ts';
import { describeSwitch, switchStopping, type EngagedSwitch } from '../../domain/kill-switch-scope.ts';
import { engagedKillSwitch, engagedSwitches } from '../governance/index.ts';
import { creationView, type ChangeSetHeader } from './change-set-view.ts';
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
 * Creating records (issue 21). Before anything is created, the CRM is searched for each entry's
 * likely duplicates (one search call per `batchLimit` entries); then, under the workspace's chain
 * lock (so the daily creation cap and the duplicate check hold under concurrency), each entry is
 * matched against what the search found, our own standing creations and the batch itself, decided,
 * and stored with its audit event, and the `auto` ones are created in batches, each carrying its
 * provenance and a `ag_create_ref` that says which entry it answers.
 */
export async function createRecords(
  deps: ServiceDeps,
  input: EntriesSubmission<CreateChangeSetRequest> & {
    /** The entries' values as the CRM takes them, validated against its property schema. */
    entries: Record<string, string | null>[];
  },
): Promise<{ changeSetId: string; response: () => Promise<ChangeSetResponse> }> {
  const keys = input.request.objectType === 'contacts' ? input.entries.map(contactKey) : undefined;
  const inCrm = keys === undefined ? [] : await searchLikelyDuplicates(input.crm, keys);
  const decided = await decideAndStore(deps, { ...input, keys, inCrm });
  const header = await applyUnderLease(deps, input, decided, createApproved);
  return {
    changeSetId: header.id,
    response: async () => creationView(header, await listRecordCreations(deps.db, input.workspace.id, header.id)),
  };
}

/**
 * The entries an engaged evidence-source switch, or a condition segment their proposed values
 * match, covers. A list segment cannot hold a record not created yet.
 */
async function entriesStopped(
  deps: ServiceDeps,
  input: Parameters<typeof createRecords>[1],
): Promise<(EngagedSwitch | undefined)[]> {
  const scoped = (await engagedSwitches(deps.db, input.workspace.id)).filter(
    (engaged) => engaged.scope === 'segment' || engaged.scope === 'evidence_source',
  );
  return input.entries.map((properties, index) =>
    scoped.length === 0
      ? undefined
      : switchStopping(scoped, {
          agentId: input.agent.id,
          action: 'field_write',
          objectType: input.request.objectType,
          record: properties,
          evidenceSource: input.request.changes[index]!.evidence.source,
        }),
  );
}

/** Only contacts are checked for duplicates; deals have no email or person's name to recognise them by. */
async function searchLikelyDuplicates(crm: CrmPort, keys: readonly ContactKey[]): Promise<ExistingContact[]> {
  if (!crm.findContactsLike)
    throw new AppError(
      'VALIDATION_FAILED',
      'This CRM connection cannot check for duplicates, so it cannot create records.',
    );
  const existing: ExistingContact[] = [];
  for (let start = 0; start < keys.length; start += crm.batchLimit) {
    const slice = keys.slice(start, start + crm.batchLimit);
    const distinct = (pick: (key: ContactKey) => string | null) => [
      ...new Set(slice.map(pick).filter((value): value is string => value !== null)),
    ];
    const named = slice.filter((key) => key.name !== null && key.domain !== null);
    existing.push(
      ...(await crm.findContactsLike({
        emails: distinct((key) => key.email),
        lastNames: [...new Set(named.map((key) => key.lastName!))],
        domains: [...new Set(named.map((key) => key.domain!))],
      })),
    );
  }
  return existing;
}

async function decideAndStore(
  deps: ServiceDeps,
  input: Parameters<typeof createRecords>[1] & { keys: ContactKey[] | undefined; inCrm: ExistingContact[] },
): Promise<{ header: ChangeSetHeader; rows: RecordCreationRow[] }> {
  const { workspace, agent, request, policy } = input;
  const now = deps.clock();
  const day = dayKey(now, policy.timezone);
  const stopped = await entriesStopped(deps, input);
  return withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const usage = await readUsage(tx, { workspaceId: workspace.id, scope: 'agent_creates', day, subjects: [agent.id] });
    const keyed = input.keys?.map(creationKeys) ?? [];
    const duplicates =
      input.keys === undefined
        ? input.entries.map(() => undefined)
        : findDuplicates(input.keys, input.inCrm, await findStandingCreations(tx, workspace.id, keyed));
    const decided = evaluateCreates({
      policy,
      agentRole: agent.role,
      objectType: request.objectType,
      entries: input.entries.map((properties, index) => ({ properties, evidence: request.changes[index]!.evidence })),
      duplicates,
      createsToday: usage.get(agent.id) ?? 0,
      now,
    });
    // Gated first, so a creation a scoped switch stops keeps the gates' reasons beside the switch's.
    const { evaluations, added } = refuseStopped(
      { ...decided, evaluations: decided.evaluations.map((evaluation) => holdForGates(evaluation, input.holds)) },
      stopped,
    );
    const header = await insertEntriesChangeSet(deps, tx, input, now);
    const rows = evaluations.map((evaluation, ordinal): RecordCreationRow => {
      const duplicate = evaluation.duplicate;
      return {
        id: newId(),
        workspaceId: workspace.id,
        changeSetId: header.id,
        ordinal,
        objectType: request.objectType,
        properties: input.entries[ordinal]!,
        evidence: request.changes[ordinal]!.evidence,
        tier: evaluation.tier,
        decision: entryDecision(evaluation.tier),
        reasons: evaluation.reasons,
        duplicateOf: duplicate && 'recordId' in duplicate ? duplicate.recordId : null,
        recordId: null,
        approvedBy: [],
        expiresAt: approvalExpiry(evaluation.tier, now, policy),
        decidedAt: null,
        rolledBackBy: null,
        rollbackOutcome: null,
        rollbackMessage: null,
        emailKey: keyed[ordinal]?.emailKey ?? null,
        nameKey: keyed[ordinal]?.nameKey ?? null,
        message: stopped[ordinal]
          ? `Not created: the ${describeSwitch(stopped[ordinal])} kill switch is engaged (${stopped[ordinal].reason}).`
          : duplicate && 'entry' in duplicate
            ? `Likely the same record as entry ${duplicate.entry + 1} of this change set.`
            : duplicate && 'changeSetId' in duplicate
              ? `Likely the same record as one change set ${duplicate.changeSetId} is creating or holds for a person.`
              : null,
      };
    });
    await insertRecordCreations(tx, rows);
    await recordDecidedEntries(
      tx,
      audit,
      input,
      { header, rows },
      { scope: 'agent_creates', day, added },
      {
        type: 'record.create_decided',
        describe: (row) => ({ recordId: null, after: asJson(row.properties), data: { duplicateOf: row.duplicateOf } }),
      },
    );
    return { header, rows };
  });
}

type Settled = CreationOutcome;

type CreateInput = ApplyEntriesInput<RecordCreationRow>;

/**
 * Finishes the creations of a change set whose server died mid-write (issue 17's recovery): each
 * still-`applying` creation is looked for in the CRM by its `ag_create_ref`; one found is recorded
 * created (with its id), the others are created now, so nothing is created twice.
 */
export async function resumeCreations(
  deps: ServiceDeps,
  input: Omit<CreateInput, 'rows'>,
  leaseHeld: () => Promise<boolean>,
): Promise<boolean> {
  const applying = (await listRecordCreations(deps.db, input.workspace.id, input.changeSetId)).filter(
    (row) => row.decision === 'applying',
  );
  if (applying.length === 0) return true;
  if (!input.crm.findByProperty)
    throw new AppError('INTERNAL', 'This CRM connection cannot look up created records to recover them.');
  const landed: Settled[] = [];
  for (let start = 0; start < applying.length; start += input.crm.batchLimit) {
    const batch = applying.slice(start, start + input.crm.batchLimit);
    const found = await input.crm.findByProperty({
      objectType: input.objectType,
      property: CREATE_REF_PROPERTY,
      values: batch.map((row) => row.id),
    });
    for (const row of batch) {
      const recordId = found.get(row.id);
      if (recordId !== undefined) landed.push({ id: row.id, recordId });
    }
  }
  await settle(deps, input, landed, new Map(applying.map((row) => [row.id, row])));
  const created = new Set(landed.map((outcome) => outcome.id));
  return createApproved(deps, { ...input, rows: applying.filter((row) => !created.has(row.id)) }, leaseHeld);
}

/**
 * Creates the `auto` entries a CRM batch at a time, checking kill switches and the lease right
 * before each call, and stores each batch's outcomes (with a `record.created` or
 * `record.create_failed` event each) while the next call is in flight.
 */
export async function createApproved(
  deps: ServiceDeps,
  input: CreateInput,
  leaseHeld: () => Promise<boolean>,
): Promise<boolean> {
  const { crm, workspace, agent } = input;
  const toCreate = input.rows.filter((row) => row.decision === 'applying');
  const rowById = new Map(toCreate.map((row) => [row.id, row]));
  let storing: Promise<void> = Promise.resolve();
  let storeFailure: unknown;
  const retries: Date[] = [];
  const store = (outcomes: Settled[]) => {
    if (outcomes.length === 0) return;
    for (const outcome of outcomes) if ('retryAt' in outcome && outcome.retryAt) retries.push(outcome.retryAt);
    storing = storing
      .then(() => settle(deps, input, outcomes, rowById))
      .catch((error: unknown) => {
        storeFailure ??= error;
      });
  };
  let completed = true;
  let pending: Settled[] = [];
  for (let start = 0; start < toCreate.length && storeFailure === undefined; start += crm.batchLimit) {
    const batch = toCreate.slice(start, start + crm.batchLimit);
    const [held, killed] = await Promise.all([
      leaseHeld(),
      engagedKillSwitch(deps.db, { workspaceId: workspace.id, agentId: agent.id, action: 'field_write' }),
    ]);
    if (!held) {
      completed = false;
      break;
    }
    if (killed) {
      const message = `Not created: a kill switch was engaged (${killed.reason}).`;
      const now = deps.clock();
      pending.push(
        ...toCreate.slice(start).map((row): Settled => entryFailure(row, 'kill_switch_engaged', message, now)),
      );
      break;
    }
    const at = deps.clock();
    const records = batch.map((row) => {
      const properties: Record<string, string> = {};
      for (const [name, value] of Object.entries(row.properties)) if (value !== null) properties[name] = value;
      return {
        ...properties,
        ...provenanceValues({
          changeSetId: input.changeSetId,
          agentName: agent.name,
          evidence: evidenceSchema.parse(row.evidence),
          properties: Object.keys(properties),
          at,
          policyVersion: input.policyVersion,
        }),
        [CREATE_REF_PROPERTY]: row.id,
      };
    });
    const [outcomes] = await alongsideCrm(
      crm.createBatch!({ objectType: input.objectType, keyProperty: CREATE_REF_PROPERTY, records }),
      () => store(pending),
    );
    const answeredAt = deps.clock();
    pending = outcomes.map(
      (outcome): Settled =>
        outcome.ok
          ? { id: outcome.key, recordId: outcome.recordId }
          : entryFailure(rowById.get(outcome.key)!, outcome.reason, outcome.message, answeredAt),
    );
  }
  store(pending);
  await storing;
  if (storeFailure !== undefined) throw storeFailure;
  if (completed) await finishEntries(deps, input.changeSetId, retries);
  return completed;
}

async function settle(
  deps: ServiceDeps,
  input: Omit<CreateInput, 'rows'>,
  outcomes: Settled[],
  rowById: Map<string, RecordCreationRow>,
): Promise<void> {
  await withAuditChain(deps.db, input.workspace.id, deps.clock, async (tx, audit) => {
    const settled = await settleRecordCreations(tx, input.changeSetId, outcomes);
    for (const outcome of outcomes) {
      const row = rowById.get(outcome.id);
      if (!row || !settled.has(outcome.id)) continue;
      const created = 'recordId' in outcome;
      const retryAt = 'retryAt' in outcome ? outcome.retryAt : undefined;
      audit.append({
        type: created ? 'record.created' : retryAt ? 'record.create_deferred' : 'record.create_failed',
        actor: actorJson(input.actor),
        agentId: input.agent.id,
        batchId: input.batchId,
        changeSetId: input.changeSetId,
        objectType: input.objectType,
        recordId: created ? outcome.recordId : null,
        before: null,
        after: created ? asJson(row.properties) : null,
        reasons: created || retryAt ? row.reasons : [...row.reasons, outcome.reason],
        policyVersion: input.policyVersion,
        data: created
          ? { changeId: row.id }
          : {
              changeId: row.id,
              message: outcome.message,
              ...(retryAt ? { reason: outcome.reason, retryAt: retryAt.toISOString() } : {}),
            },
      });
    }
  });
}
