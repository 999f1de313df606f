import { asJson } from '../../domain/audit-chain.ts';
import { AppError } from '../../errors.ts';
import { RETENTION_KINDS, type RetentionKind, type RetentionRun } from '../../store/retention-schema.ts';
import {
  claimDueRetention,
  finishRetentionRun,
  removeExpired,
  saveRetentionRun,
  type RetentionRow,
} from '../../store/retention-store.ts';
import { actorJson, type ServiceDeps, withAuditChain } from '../common/index.ts';

export interface RetentionJob {
  /** Names this server: a workspace's run is taken over by another only once its lease lapsed. */
  holder: string;
  leaseMs: number;
  /** Rows of one kind removed per transaction. */
  batchSize: number;
  /** Batches per round, so one workspace's backlog does not hold a round for long; the lease is kept between rounds. */
  batchesPerRound: number;
  /** How long after a finished run the workspace is due again. */
  everyMs: number;
}

const DAY_MS = 86_400_000;
const PERIOD_OF: Record<RetentionKind, (row: RetentionRow) => number | null> = {
  changeRecords: (row) => row.changeRecordsDays,
  drafts: (row) => row.draftsDays,
  webhookPayloads: (row) => row.webhookPayloadsDays,
  auditPersonalData: (row) => row.auditPersonalDataDays,
};
const RETENTION_ACTOR = actorJson({ type: 'system', name: 'retention' });

/**
 * One round of the retention job (issue 21, point 11): takes one due workspace (or the one whose
 * run this server holds) and removes what is past its periods, a batch per transaction. Each
 * batch stores the run's totals with its deletions, so a server that dies mid-run loses nothing:
 * once its lease lapses another server finishes the run with the same cutoffs. The finished run
 * is one `retention.completed` audit event. Says how many workspaces it worked on (0 or 1).
 */
export async function runDueRetention(deps: ServiceDeps, job: RetentionJob): Promise<number> {
  const row = await claimDueRetention(deps.db, { holder: job.holder, leaseMs: job.leaseMs, now: deps.clock() });
  if (!row) return 0;
  let run = row.run ?? newRun(row, deps.clock());
  for (let batch = 0; batch < job.batchesPerRound; batch += 1) {
    const kind = RETENTION_KINDS.find((each) => run.cutoffs[each] !== undefined && !run.done.includes(each));
    if (!kind) {
      await finish(deps, row.workspaceId, run, job);
      return 1;
    }
    run = await removeBatch(deps, row.workspaceId, run, kind, job);
  }
  return 1;
}

function newRun(row: RetentionRow, now: Date): RetentionRun {
  const cutoffs: RetentionRun['cutoffs'] = {};
  for (const kind of RETENTION_KINDS) {
    const days = PERIOD_OF[kind](row);
    if (days !== null) cutoffs[kind] = new Date(now.getTime() - days * DAY_MS).toISOString();
  }
  return {
    startedAt: now.toISOString(),
    cutoffs,
    removed: { changeRecords: 0, drafts: 0, webhookPayloads: 0, auditPersonalData: 0 },
    done: [],
  };
}

async function removeBatch(
  deps: ServiceDeps,
  workspaceId: string,
  run: RetentionRun,
  kind: RetentionKind,
  job: RetentionJob,
): Promise<RetentionRun> {
  return deps.db.transaction(async (tx) => {
    const leaseExpiresAt = new Date(deps.clock().getTime() + job.leaseMs);
    // Locks the row and proves the lease before anything is removed.
    if (!(await saveRetentionRun(tx, workspaceId, job.holder, run, leaseExpiresAt))) throw leaseLost(workspaceId);
    const removed = await removeExpired(tx, kind, {
      workspaceId,
      cutoff: new Date(run.cutoffs[kind]!),
      limit: job.batchSize,
    });
    const next: RetentionRun = {
      ...run,
      removed: { ...run.removed, [kind]: run.removed[kind] + removed },
      done: removed < job.batchSize ? [...run.done, kind] : run.done,
    };
    await saveRetentionRun(tx, workspaceId, job.holder, next, leaseExpiresAt);
    return next;
  });
}

async function finish(deps: ServiceDeps, workspaceId: string, run: RetentionRun, job: RetentionJob): Promise<void> {
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const nextRunAt = new Date(deps.clock().getTime() + job.everyMs);
    if (!(await finishRetentionRun(tx, workspaceId, job.holder, nextRunAt))) throw leaseLost(workspaceId);
    // A workspace that keeps everything has nothing to report.
    if (Object.keys(run.cutoffs).length === 0) return;
    audit.append({
      type: 'retention.completed',
      actor: RETENTION_ACTOR,
      data: asJson({ startedAt: run.startedAt, cutoffs: run.cutoffs, removed: run.removed }),
    });
  });
}

function leaseLost(workspaceId: string): AppError {
  return new AppError('CONFLICT', `Another server took over the retention run of workspace ${workspaceId}.`);
}
