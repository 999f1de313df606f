import type { RecordReviewView } from '../../../../shared/admin-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { DEFAULT_QUARANTINE_HOURS } from '../../../../shared/policy.ts';
import type { CrmPort } from '../../crm/port.ts';
import { AppError } from '../../errors.ts';
import type { Tx } from '../../store/database.ts';
import {
  claimQuarantine,
  clearReviews,
  insertQuarantine,
  insertReviews,
  openReviews,
  recordsWrittenBy,
  renewQuarantineLease,
  reviewsToUnmark,
  setQuarantineStatus,
  setReviewsMarked,
  setReviewsUnmarked,
  unmarkedReviews,
  workspacesWithReviewsToUnmark,
  type QuarantineRow,
  type RecordReviewRow,
} from '../../store/quarantine-store.ts';
import { findWorkspace } from '../../store/workspace-store.ts';
import {
  actorJson,
  type Actor,
  type AuditAppender,
  APP_PROPERTY_GROUP,
  NEEDS_REVIEW_PROPERTY,
  newId,
  type ServiceDeps,
  withAuditChain,
} from '../common/index.ts';
import { policyInForce } from './policies.ts';

/**
 * Quarantine (issue 21): a kill switch engaged for an agent (by a person or a trigger) queues the
 * marking, in the transaction that engages it, of what the agent wrote in the policy's window.
 * The window ends when the switch engaged, so writes stopped after it are not swept in.
 */
export async function startQuarantine(
  tx: Tx,
  audit: AuditAppender,
  input: { workspaceId: string; agentId: string; reason: string; now: Date },
): Promise<void> {
  const hours = (await policyInForce(tx, input.workspaceId))?.quarantine?.windowHours ?? DEFAULT_QUARANTINE_HOURS;
  if (hours === 0) return;
  const row: QuarantineRow = {
    id: newId(),
    workspaceId: input.workspaceId,
    agentId: input.agentId,
    reason: input.reason,
    windowStart: new Date(input.now.getTime() - hours * 3_600_000),
    windowEnd: input.now,
    status: 'collecting',
    leaseHolder: null,
    leaseExpiresAt: null,
    createdAt: input.now,
    completedAt: null,
  };
  await insertQuarantine(tx, row);
  audit.append({
    type: 'quarantine.started',
    actor: { type: 'system', name: 'quarantine' },
    agentId: input.agentId,
    data: { quarantineId: row.id, windowHours: hours, windowStart: row.windowStart.toISOString() },
  });
}

export const QUARANTINE_LEASE_MS = 60_000;

type QuarantineRunOptions = { holder: string; leaseMs?: number; stopping?: () => boolean };

/**
 * Works one quarantine whose lease is free to its end: collects the records into reviews (one
 * transaction), then sets the needs-review property on them a CRM batch at a time, each batch's
 * reviews marked once the CRM took it. A process that dies leaves its lease to lapse; the next
 * one marks what is not marked yet. `stopping` ends the work between batches.
 */
export async function claimAndRunQuarantine(
  deps: ServiceDeps,
  options: QuarantineRunOptions,
): Promise<'none' | 'completed' | 'stopped'> {
  const claimed = await claimQuarantineRun(deps, options);
  return claimed ? claimed.run() : 'none';
}

/**
 * Claims as claimAndRunQuarantine does and hands back the run without starting it, so the quarantine
 * job can run each workspace's in its own lane (issue 23); `except` leaves out workspaces in hand here.
 */
export async function claimQuarantineRun(
  deps: ServiceDeps,
  options: QuarantineRunOptions & { except?: readonly string[] },
): Promise<{ workspaceId: string; run(): Promise<'completed' | 'stopped'> } | undefined> {
  const leaseMs = options.leaseMs ?? QUARANTINE_LEASE_MS;
  const until = () => new Date(deps.clock().getTime() + leaseMs);
  const quarantine = await claimQuarantine(deps.db, {
    holder: options.holder,
    now: deps.clock(),
    until: until(),
    ...(options.except ? { except: options.except } : {}),
  });
  if (!quarantine) return undefined;
  return { workspaceId: quarantine.workspaceId, run: () => runQuarantine(deps, quarantine, { ...options, until }) };
}

async function runQuarantine(
  deps: ServiceDeps,
  quarantine: QuarantineRow,
  options: QuarantineRunOptions & { until: () => Date },
): Promise<'completed' | 'stopped'> {
  const { until } = options;
  const workspace = await findWorkspace(deps.db, quarantine.workspaceId);
  if (!workspace) throw new AppError('INTERNAL', `Workspace ${quarantine.workspaceId} of a quarantine is gone.`);
  if (quarantine.status === 'collecting') await collect(deps, quarantine);
  const crm = deps.crmFor(workspace);
  // Each write takes as many records as its object's CRM writes at once (issue 20: HubSpot 100,
  // Salesforce 2,000 in a workspace of both); a batch holds as many as the largest.
  const perWrite = (objectType: string) => {
    const { writeLimit, batchLimit } = crm.forObject(objectType);
    return writeLimit ?? batchLimit;
  };
  const perBatch = Math.max(...crm.objectTypes.map(perWrite));
  const ensured = new Set<string>();
  let marked = 0;
  for (;;) {
    if (options.stopping?.()) return 'stopped';
    const batch = await unmarkedReviews(deps.db, quarantine.id, perBatch);
    if (batch.length === 0) break;
    for (const [objectType, ofType] of Map.groupBy(batch, (review) => review.objectType)) {
      if (!ensured.has(objectType)) {
        await ensureReviewProperty(crm, objectType as ObjectType);
        ensured.add(objectType);
      }
      for (let start = 0; start < ofType.length; start += perWrite(objectType)) {
        const reviews = ofType.slice(start, start + perWrite(objectType));
        await writeNeedsReview(crm, objectType as ObjectType, reviews, 'true');
        await deps.db.transaction((tx) =>
          setReviewsMarked(
            tx,
            reviews.map((review) => review.id),
          ),
        );
        marked += reviews.length;
      }
    }
    if (!(await renewQuarantineLease(deps.db, { id: quarantine.id, holder: options.holder, until: until() })))
      return 'stopped';
  }
  await withAuditChain(deps.db, quarantine.workspaceId, deps.clock, async (tx, audit) => {
    await setQuarantineStatus(tx, quarantine.id, 'completed', deps.clock());
    audit.append({
      type: 'quarantine.completed',
      actor: { type: 'system', name: 'quarantine' },
      agentId: quarantine.agentId,
      data: { quarantineId: quarantine.id, markedInCrm: marked },
    });
  });
  return 'completed';
}

async function collect(deps: ServiceDeps, quarantine: QuarantineRow): Promise<void> {
  await withAuditChain(deps.db, quarantine.workspaceId, deps.clock, async (tx, audit) => {
    const written = await recordsWrittenBy(tx, {
      workspaceId: quarantine.workspaceId,
      agentId: quarantine.agentId,
      since: quarantine.windowStart,
      until: quarantine.windowEnd,
    });
    const now = deps.clock();
    await insertReviews(
      tx,
      written.map(
        ({ objectType, recordId }): RecordReviewRow => ({
          id: newId(),
          workspaceId: quarantine.workspaceId,
          quarantineId: quarantine.id,
          agentId: quarantine.agentId,
          objectType,
          recordId,
          reason: quarantine.reason,
          crmMarked: false,
          markedAt: now,
          clearedAt: null,
          clearedBy: null,
          crmCleared: false,
        }),
      ),
    );
    await setQuarantineStatus(tx, quarantine.id, 'marking');
    audit.append({
      type: 'quarantine.collected',
      actor: { type: 'system', name: 'quarantine' },
      agentId: quarantine.agentId,
      data: { quarantineId: quarantine.id, records: written.length },
    });
  });
}

/** A workspace bootstrapped before quarantine existed lacks the property: made once per object type and run. */
async function ensureReviewProperty(crm: CrmPort, objectType: ObjectType): Promise<void> {
  const definitions = await crm.describeProperties(objectType);
  if (!definitions.has(NEEDS_REVIEW_PROPERTY.name))
    await crm.ensureProperties({ objectType, group: APP_PROPERTY_GROUP, properties: [NEEDS_REVIEW_PROPERTY] });
}

/**
 * A record the CRM refuses (deleted since) counts as done: there is nothing left to flag, and
 * retrying it would hold the quarantine forever. A failed call throws, and the batch is retried.
 */
async function writeNeedsReview(
  crm: CrmPort,
  objectType: ObjectType,
  reviews: readonly RecordReviewRow[],
  value: 'true' | '',
): Promise<void> {
  const outcomes = await crm.writeBatch({
    objectType,
    writes: reviews.map((review) => ({
      recordId: review.recordId,
      properties: { [NEEDS_REVIEW_PROPERTY.name]: value },
    })),
  });
  const unavailable = outcomes.find((outcome) => !outcome.ok && outcome.reason === 'crm_unavailable');
  if (unavailable && !unavailable.ok) throw new AppError('CRM_UNAVAILABLE', unavailable.message, { retryable: true });
}

/** Workspaces with records cleared whose needs-review property is still set, but those in `except`. */
export function workspacesWithReviewsToClear(
  deps: ServiceDeps,
  query: { except: readonly string[]; limit: number },
): Promise<string[]> {
  return workspacesWithReviewsToUnmark(deps.db, query);
}

/**
 * Empties the needs-review property of records cleared since it was set, a CRM batch at a time
 * (a clear tries at once; this catches those whose CRM call failed or raced the marking).
 */
export async function unmarkClearedReviews(deps: ServiceDeps, onlyWorkspaceId?: string): Promise<number> {
  const pending = await reviewsToUnmark(deps.db, 100, onlyWorkspaceId);
  let done = 0;
  for (const [workspaceId, ofWorkspace] of Map.groupBy(pending, (review) => review.workspaceId)) {
    const workspace = await findWorkspace(deps.db, workspaceId);
    if (!workspace) continue;
    const crm = deps.crmFor(workspace);
    for (const [objectType, reviews] of Map.groupBy(ofWorkspace, (review) => review.objectType)) {
      await writeNeedsReview(crm, objectType as ObjectType, reviews, '');
      await setReviewsUnmarked(
        deps.db,
        reviews.map((review) => review.id),
      );
      done += reviews.length;
    }
  }
  return done;
}

function reviewView(row: RecordReviewRow): RecordReviewView {
  return {
    id: row.id,
    objectType: row.objectType,
    recordId: row.recordId,
    agentId: row.agentId,
    reason: row.reason,
    markedAt: row.markedAt.toISOString(),
    markedInCrm: row.crmMarked,
  };
}

/** The review queue: records waiting for a person, newest first (or those of some records, for the card). */
export async function listRecordReviews(
  deps: ServiceDeps,
  workspaceId: string,
  filter: { objectType?: string; recordIds?: readonly string[] } = {},
): Promise<RecordReviewView[]> {
  return (await openReviews(deps.db, { workspaceId, ...filter })).map(reviewView);
}

/** A person looked at the record and clears its review; audited, and the CRM's flag emptied (now, or by the job). */
export async function clearRecordReview(
  deps: ServiceDeps,
  workspaceId: string,
  record: { objectType: string; recordId: string },
  actor: Actor,
): Promise<RecordReviewView> {
  const cleared = await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const rows = await clearReviews(tx, {
      workspaceId,
      objectType: record.objectType,
      recordIds: [record.recordId],
      clearedBy: actor.type === 'agent' ? `agent:${actor.agentId}` : `${actor.type}:${actor.name}`,
      at: deps.clock(),
    });
    if (rows.length === 0)
      throw new AppError('NOT_FOUND', `Record ${record.recordId} (${record.objectType}) is not waiting for review.`);
    for (const row of rows) auditCleared(audit, row, actorJson(actor), { by: 'person' });
    return rows;
  });
  // A CRM that fails now leaves the mark to the quarantine job, which tries again.
  await unmarkClearedReviews(deps, workspaceId).catch(() => 0);
  return reviewView(cleared[0]!);
}

/** A rollback covered these records (reverted or archived them): their reviews are done. Audited in the rollback's transaction. */
export async function clearReviewsByRollback(
  tx: Tx,
  audit: AuditAppender,
  input: { workspaceId: string; objectType: string; recordIds: readonly string[]; rollbackId: string; at: Date },
): Promise<void> {
  const rows = await clearReviews(tx, {
    workspaceId: input.workspaceId,
    objectType: input.objectType,
    recordIds: input.recordIds,
    clearedBy: `rollback:${input.rollbackId}`,
    at: input.at,
  });
  for (const row of rows)
    auditCleared(audit, row, { type: 'system', name: 'rollback' }, { by: 'rollback', rollbackId: input.rollbackId });
}

function auditCleared(
  audit: AuditAppender,
  row: RecordReviewRow,
  actor: Parameters<AuditAppender['append']>[0]['actor'],
  data: Record<string, string>,
): void {
  audit.append({
    type: 'review.cleared',
    actor,
    agentId: row.agentId,
    objectType: row.objectType,
    recordId: row.recordId,
    data: { reviewId: row.id, ...data },
  });
}
