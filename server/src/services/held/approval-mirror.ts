import pMap from 'p-map';
import { evidenceSchema } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { CrmPort } from '../../crm/port.ts';
import {
  approvalObjectValues,
  draftObjectValues,
  recordShadowValues,
  type ApprovalObjectInput,
} from '../../domain/approval-mirror.ts';
import { errorLogField, type ErrorLogField } from '../../logger.ts';
import { listOutcomes, type ActionRow } from '../../store/action-store.ts';
import {
  agentNames,
  chunkSize,
  claimMirrorDue,
  deferMirror,
  evidenceFor,
  markMirrored,
  pendingDraftCounts,
  pendingOnRecords,
  workspacesWithMirrorDue,
  type MirrorChunk,
} from '../../store/approval-mirror-store.ts';
import type { StoredApproval } from '../../store/approval-store.ts';
import { requeueDecisionsOnObjects } from '../../store/webhook-event-store.ts';
import { findWorkspace, type WorkspaceRow } from '../../store/workspace-store.ts';
import { contentOf } from '../actions/index.ts';
import { APPROVAL_KEY_PROPERTY } from '../governance/index.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';

/** One CRM batch: the record writes, the upsert and the associations each take one call per 100. */
const CHUNK = 100;
const CHUNK_CONCURRENCY = 8;
const LEASE_MS = 2 * 60_000;
const RETRY_MS = 30_000;

export interface MirrorRound {
  written: number;
  failed: { workspaceId: string; error: ErrorLogField }[];
}

/**
 * Brings the CRM's copy of approvals up to date: the proposed (shadow) values and the pending
 * count on each record, and the approval object with its association to the record, for a
 * record's held writes and for held drafts (which have no shadow values) in the same batches.
 * Our database is the source of truth; the CRM copy is written after the fact, in batches, and
 * a failure leaves the approvals due again after a pause. Returns what it wrote and what failed.
 */
export async function syncApprovalMirror(deps: ServiceDeps): Promise<MirrorRound> {
  // Each workspace on its own: one portal waiting out a 429 storm never holds up another's copy.
  const rounds = await Promise.all(
    (await workspacesWithMirrorDue(deps.db, deps.clock())).map((workspaceId) => syncWorkspaceMirror(deps, workspaceId)),
  );
  return {
    written: rounds.reduce((sum, round) => sum + round.written, 0),
    failed: rounds.flatMap((round) => round.failed),
  };
}

/** One workspace's share of syncApprovalMirror. */
export async function syncWorkspaceMirror(deps: ServiceDeps, workspaceId: string): Promise<MirrorRound> {
  const now = deps.clock();
  const round: MirrorRound = { written: 0, failed: [] };
  const workspace = await findWorkspace(deps.db, workspaceId);
  if (!workspace) return round;
  for (;;) {
    const claimed: MirrorChunk[] = [];
    for (let i = 0; i < CHUNK_CONCURRENCY; i += 1) {
      const chunk = await claimMirrorDue(deps.db, workspaceId, now, new Date(now.getTime() + LEASE_MS), CHUNK);
      if (chunkSize(chunk) > 0) claimed.push(chunk);
      if (chunkSize(chunk) < CHUNK) break;
    }
    if (claimed.length === 0) break;
    // Chunks are claimed apart, so a few are written at once; the adapter keeps the rate limit.
    const outcomes = await pMap(
      claimed,
      async (chunk) => ({ size: chunkSize(chunk), failure: await mirrorChunk(deps, workspace, chunk, now) }),
      { concurrency: CHUNK_CONCURRENCY },
    );
    round.written += outcomes.reduce((sum, outcome) => sum + (outcome.failure === undefined ? outcome.size : 0), 0);
    const failure = outcomes.find((outcome) => outcome.failure !== undefined)?.failure;
    if (failure !== undefined) {
      round.failed.push({ workspaceId, error: failure });
      break;
    }
    if (chunkSize(claimed.at(-1)!) < CHUNK) break;
  }
  return round;
}

/** Writes one claimed chunk and records it; a failure defers it and returns why. */
async function mirrorChunk(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  chunk: MirrorChunk,
  now: Date,
): Promise<ErrorLogField | undefined> {
  try {
    const objectIds = await writeMirror(deps, workspace, chunk);
    const written = (rows: readonly { id: string; mirrorSeq: number }[]) =>
      rows.map((row) => ({ id: row.id, seq: row.mirrorSeq, crmObjectId: objectIds.get(row.id) ?? null }));
    const mirrored = { approvals: written(chunk.approvals), drafts: written(chunk.drafts) };
    const newlyKnown = neverLinked(chunk).flatMap((claimed) => objectIds.get(claimed.id) ?? []);
    if (newlyKnown.length === 0) {
      await markMirrored(deps.db, mirrored);
      return undefined;
    }
    // Under the lock webhook processing holds: a person's decision on an object created just now is
    // either processed after its id is stored or waiting as unknown, and is sent back to processing.
    await withAuditChain(deps.db, workspace.id, deps.clock, async (tx) => {
      await markMirrored(tx, mirrored);
      await requeueDecisionsOnObjects(tx, workspace.id, newlyKnown);
    });
    return undefined;
  } catch (error) {
    await deferMirror(deps.db, chunk, new Date(now.getTime() + RETRY_MS));
    // Logged by the approval job: only what errorLogField lets through.
    return errorLogField(error);
  }
}

async function writeMirror(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  chunk: MirrorChunk,
): Promise<Map<string, string>> {
  const crm = deps.crmFor(workspace);
  const byObject = Map.groupBy([...chunk.approvals, ...chunk.drafts], (claimed) => claimed.objectType);
  for (const [objectType, claimed] of byObject) {
    await writeRecordValues(deps, crm, workspace.id, objectType as ObjectType, claimed);
  }
  // Each approval's record is made in the approval object of its record's CRM (issue 20), once
  // bootstrap created one there. Ids cannot collide: a HubSpot record id is digits, a Salesforce
  // one starts with its object's key prefix, so a decision on either finds its approval by id alone.
  const ids = new Map<string, string>();
  for (const { crm: vendor, approvalObjectTypeId } of workspace.connections) {
    if (!approvalObjectTypeId) continue;
    const inCrm = (claimed: { objectType: string }) => crm.forObject(claimed.objectType).vendor === vendor;
    const mirrored = { approvals: chunk.approvals.filter(inCrm), drafts: chunk.drafts.filter(inCrm) };
    const first = mirrored.approvals[0] ?? mirrored.drafts[0];
    if (!first) continue;
    const port = crm.forObject(first.objectType);
    for (const [key, id] of await upsertApprovalObjects(deps, port, approvalObjectTypeId, workspace.id, mirrored))
      ids.set(key, id);
  }
  return ids;
}

/**
 * Each touched record gets the shadow values of every property its claimed approvals hold, from
 * all its pending approvals, and its pending count (held drafts included).
 */
async function writeRecordValues(
  deps: ServiceDeps,
  crm: CrmPort,
  workspaceId: string,
  objectType: ObjectType,
  claimed: (StoredApproval | ActionRow)[],
): Promise<void> {
  const existing = new Set((await crm.describeProperties(objectType)).keys());
  const touched = Map.groupBy(claimed, (approval) => approval.recordId);
  const recordIds = [...touched.keys()];
  const pending = Map.groupBy(
    await pendingOnRecords(deps.db, workspaceId, objectType, recordIds),
    (approval) => approval.recordId,
  );
  const pendingDrafts = await pendingDraftCounts(deps.db, workspaceId, objectType, recordIds);
  const writes = [...touched].flatMap(([recordId, onRecord]) => {
    const properties = new Set(
      onRecord.flatMap((approval) => ('items' in approval ? approval.items.map((item) => item.property) : [])),
    );
    const values = recordShadowValues(
      pending.get(recordId) ?? [],
      pendingDrafts.get(recordId) ?? 0,
      properties,
      existing,
    );
    return Object.keys(values).length === 0 ? [] : [{ recordId, properties: values }];
  });
  if (writes.length === 0) return;
  const outcomes = await crm.writeBatch({ objectType, writes });
  // A record deleted since is refused for good and has nothing left to show; an unclear outcome is tried again.
  const unclear = outcomes.find((outcome) => !outcome.ok && outcome.reason === 'crm_unavailable');
  if (unclear && !unclear.ok) throw new Error(unclear.message);
}

/** In one CRM's approval object: one upsert for the chunk's approvals and drafts together, then one association call per object type for those never linked. */
async function upsertApprovalObjects(
  deps: ServiceDeps,
  crm: CrmPort,
  objectTypeId: string,
  workspaceId: string,
  chunk: MirrorChunk,
): Promise<Map<string, string>> {
  const names = await agentNames(deps.db, workspaceId, [
    ...new Set([...chunk.approvals, ...chunk.drafts].map((claimed) => claimed.agentId)),
  ]);
  const agentName = (agentId: string) => names.get(agentId) ?? agentId;
  const evidence = await evidenceFor(deps.db, workspaceId, chunk.approvals);
  const outcomes = await listOutcomes(
    deps.db,
    workspaceId,
    chunk.drafts.map((draft) => draft.id),
  );
  const approvalRecords = chunk.approvals.map((approval) => {
    const parsed = evidenceSchema.safeParse(evidence.get(`${approval.changeSetId}:${approval.recordId}`));
    const input: ApprovalObjectInput = {
      ...approval,
      agentName: agentName(approval.agentId),
      evidence: parsed.success ? parsed.data : undefined,
    };
    return { key: approval.id, properties: approvalObjectValues(input) };
  });
  const draftRecords = chunk.drafts.map((draft) => {
    const parsed = evidenceSchema.safeParse(draft.evidence);
    const { proposed, edited } = contentOf(draft);
    const properties = draftObjectValues({
      ...draft,
      agentName: agentName(draft.agentId),
      proposed,
      edited,
      evidence: parsed.success ? parsed.data : undefined,
      outcomes: outcomes.get(draft.id) ?? [],
    });
    return { key: draft.id, properties };
  });
  const upserted = await crm.upsertCustomRecords({
    objectTypeId,
    keyProperty: APPROVAL_KEY_PROPERTY,
    records: [...approvalRecords, ...draftRecords],
  });
  const ids = new Map(upserted.map((outcome) => [outcome.key, outcome.id]));
  // Associate the ones never linked before; a repeat after a lost answer links again, harmlessly.
  const unlinked = neverLinked(chunk).filter((claimed) => ids.has(claimed.id));
  for (const [objectType, linking] of Map.groupBy(unlinked, (claimed) => claimed.objectType)) {
    await crm.associate({
      fromObjectType: objectTypeId,
      toObjectType: objectType as ObjectType,
      pairs: linking.map((claimed) => ({ fromId: ids.get(claimed.id) ?? '', toId: claimed.recordId })),
    });
  }
  return ids;
}

/** The chunk's approvals and drafts whose approval object we hold no id of yet. */
function neverLinked(chunk: MirrorChunk): (StoredApproval | ActionRow)[] {
  return [
    ...chunk.approvals.filter((approval) => approval.crmObjectId === null),
    ...chunk.drafts.filter((draft) => draft.approvalObjectId === null),
  ];
}
