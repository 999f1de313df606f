import pMap from 'p-map';
import { evidenceSchema } from '../../../shared/agent-api.ts';
import type { ObjectType } from '../../../shared/crm-names.ts';
import type { CrmPort } from '../crm/port.ts';
import { approvalObjectValues, recordShadowValues, type ApprovalObjectInput } from '../domain/approval-mirror.ts';
import { agentNames, claimMirrorDue, deferMirror, evidenceFor, markMirrored, pendingOnRecords, workspacesWithMirrorDue } from '../store/approval-mirror-store.ts';
import type { StoredApproval } from '../store/approval-store.ts';
import { findWorkspace, type WorkspaceRow } from '../store/workspace-store.ts';
import { APPROVAL_KEY_PROPERTY } from './approval-crm-schema.ts';
import type { ServiceDeps } from './deps.ts';

/** One CRM batch: the record writes, the upsert and the associations each take one call per 100. */
const CHUNK = 100;
const CHUNK_CONCURRENCY = 8;
const LEASE_MS = 2 * 60_000;
const RETRY_MS = 30_000;

export interface MirrorRound {
  written: number;
  failed: { workspaceId: string; message: string }[];
}

/**
 * Brings the CRM's copy of approvals up to date: the proposed (shadow) values and the pending
 * count on each record, and the approval object with its association to the record. Our
 * database is the source of truth; the CRM copy is written after the fact, in batches, and a
 * failure leaves the approvals due again after a pause. Returns what it wrote and what failed.
 */
export async function syncApprovalMirror(deps: ServiceDeps): Promise<MirrorRound> {
  const now = deps.clock();
  const round: MirrorRound = { written: 0, failed: [] };
  for (const workspaceId of await workspacesWithMirrorDue(deps.db, now)) {
    const workspace = await findWorkspace(deps.db, workspaceId);
    if (!workspace) continue;
    for (;;) {
      const claimed: StoredApproval[][] = [];
      for (let i = 0; i < CHUNK_CONCURRENCY; i += 1) {
        const chunk = await claimMirrorDue(deps.db, workspaceId, now, new Date(now.getTime() + LEASE_MS), CHUNK);
        if (chunk.length > 0) claimed.push(chunk);
        if (chunk.length < CHUNK) break;
      }
      if (claimed.length === 0) break;
      // Chunks are claimed apart, so a few are written at once; the adapter keeps the rate limit.
      const outcomes = await pMap(claimed, async (chunk) => ({ size: chunk.length, failure: await mirrorChunk(deps, workspace, chunk, now) }), { concurrency: CHUNK_CONCURRENCY });
      round.written += outcomes.reduce((sum, outcome) => sum + (outcome.failure === undefined ? outcome.size : 0), 0);
      const failure = outcomes.find((outcome) => outcome.failure !== undefined)?.failure;
      if (failure !== undefined) {
        round.failed.push({ workspaceId, message: failure });
        break;
      }
      if (claimed.at(-1)!.length < CHUNK) break;
    }
  }
  return round;
}

/** Writes one claimed chunk and records it; a failure defers it and returns why. */
async function mirrorChunk(deps: ServiceDeps, workspace: WorkspaceRow, chunk: StoredApproval[], now: Date): Promise<string | undefined> {
  try {
    const objectIds = await writeMirror(deps, workspace, chunk);
    await markMirrored(deps.db, chunk.map((approval) => ({ id: approval.id, seq: approval.mirrorSeq, crmObjectId: objectIds.get(approval.id) ?? null })));
    return undefined;
  } catch (error) {
    await deferMirror(deps.db, chunk.map((approval) => approval.id), new Date(now.getTime() + RETRY_MS));
    return error instanceof Error ? error.message : String(error);
  }
}

async function writeMirror(deps: ServiceDeps, workspace: WorkspaceRow, claimed: StoredApproval[]): Promise<Map<string, string>> {
  const crm = deps.crmFor(workspace);
  for (const [objectType, approvals] of Map.groupBy(claimed, (approval) => approval.objectType)) {
    await writeShadows(deps, crm, workspace.id, objectType as ObjectType, approvals);
  }
  if (!workspace.approvalObject) return new Map();
  return upsertApprovalObjects(deps, crm, workspace, claimed);
}

/** Each touched record gets the shadow values of every property its claimed approvals hold, from all its pending approvals. */
async function writeShadows(deps: ServiceDeps, crm: CrmPort, workspaceId: string, objectType: ObjectType, approvals: StoredApproval[]): Promise<void> {
  const existing = new Set((await crm.describeProperties(objectType)).keys());
  const touched = Map.groupBy(approvals, (approval) => approval.recordId);
  const pending = Map.groupBy(await pendingOnRecords(deps.db, workspaceId, objectType, [...touched.keys()]), (approval) => approval.recordId);
  const writes = [...touched].flatMap(([recordId, onRecord]) => {
    const properties = new Set(onRecord.flatMap((approval) => approval.items.map((item) => item.property)));
    const values = recordShadowValues(pending.get(recordId) ?? [], properties, existing);
    return Object.keys(values).length === 0 ? [] : [{ recordId, properties: values }];
  });
  if (writes.length === 0) return;
  const outcomes = await crm.writeBatch({ objectType, writes });
  // A record deleted since is refused for good and has nothing left to show; an unclear outcome is tried again.
  const unclear = outcomes.find((outcome) => !outcome.ok && outcome.reason === 'crm_unavailable');
  if (unclear && !unclear.ok) throw new Error(unclear.message);
}

async function upsertApprovalObjects(deps: ServiceDeps, crm: CrmPort, workspace: WorkspaceRow, claimed: StoredApproval[]): Promise<Map<string, string>> {
  const objectTypeId = workspace.approvalObject?.objectTypeId ?? '';
  const names = await agentNames(deps.db, workspace.id, [...new Set(claimed.map((approval) => approval.agentId))]);
  const evidence = await evidenceFor(deps.db, workspace.id, claimed);
  const records = claimed.map((approval) => {
    const parsed = evidenceSchema.safeParse(evidence.get(`${approval.changeSetId}:${approval.recordId}`));
    const input: ApprovalObjectInput = { ...approval, agentName: names.get(approval.agentId) ?? approval.agentId, evidence: parsed.success ? parsed.data : undefined };
    return { key: approval.id, properties: approvalObjectValues(input) };
  });
  const outcomes = await crm.upsertCustomRecords({ objectTypeId, keyProperty: APPROVAL_KEY_PROPERTY, records });
  const ids = new Map(outcomes.map((outcome) => [outcome.key, outcome.id]));
  // Associate the ones never linked before; a repeat after a lost answer links again, harmlessly.
  const unlinked = claimed.filter((approval) => approval.crmObjectId === null && ids.has(approval.id));
  for (const [objectType, approvals] of Map.groupBy(unlinked, (approval) => approval.objectType)) {
    await crm.associate({ fromObjectType: objectTypeId, toObjectType: objectType as ObjectType, pairs: approvals.map((approval) => ({ fromId: ids.get(approval.id) ?? '', toId: approval.recordId })) });
  }
  return ids;
}
