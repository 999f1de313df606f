import os from 'node:os';
import { rollbackSelectorSchema } from '../../../../shared/rollback-api.ts';
import type { JsonObject } from '../../domain/audit-chain.ts';
import { completeChangeSet } from '../../store/change-store.ts';
import { countAssociationsRolledBack } from '../../store/record-association-store.ts';
import { countCreationsRolledBack } from '../../store/record-creation-store.ts';
import { selectedChangesOf, selectedRecordsPage } from '../../store/rollback-selection-store.ts';
import {
  claimRollback,
  countItemsByState,
  findRollback,
  lockRollback,
  renewLease,
  updateRollback,
  type RollbackRow,
} from '../../store/rollback-store.ts';
import { findWorkspace } from '../../store/workspace-store.ts';
import { type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { engagedKillSwitch } from '../governance/index.ts';
import { RECORDS_PER_STEP } from './rollback-facts.ts';
import { removeSelectedAssociations } from './rollback-associations.ts';
import { archiveSelectedCreations } from './rollback-creations.ts';
import { RollbackSteps } from './rollback-steps.ts';
import { withdrawApprovals } from '../held/index.ts';

export interface RunOptions {
  /** Names this process in the lease; another process takes over only once the lease has run out. */
  holder: string;
  leaseMs: number;
  /** Asked between steps: true makes the run let go (the server is shutting down). */
  stopping?: () => boolean;
}

export const DEFAULT_LEASE_MS = 15_000;

export { leaseHolderName } from '../common/index.ts';

/** A holder on this machine whose process is gone (killed mid-run): its lease need not be waited out. */
function isDeadLocalHolder(holder: string | null): holder is string {
  const [host, pid] = holder?.split(':') ?? [];
  if (host !== os.hostname() || pid === undefined || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export type RunResult = 'completed' | 'paused' | 'lost' | 'stopped' | 'none';

/**
 * Claims one running rollback (or only this one) and works through it until it completes,
 * is paused (by an admin or a kill switch) or the lease is lost. A heartbeat keeps the lease
 * while a step waits on the CRM's rate limit.
 */
export async function claimAndRunRollback(
  deps: ServiceDeps,
  options: RunOptions & { only?: { workspaceId: string; id: string } },
): Promise<RunResult> {
  const claimed = await claimRollbackRun(deps, options);
  return claimed ? claimed.run() : 'none';
}

/** A rollback claimed for this process: its workspace, and the run to the end that holds its lease. */
export interface ClaimedRollback {
  workspaceId: string;
  run(): Promise<Exclude<RunResult, 'none'>>;
}

/**
 * Claims as claimAndRunRollback does, and hands back the run without starting it, so the rollback
 * worker can run each workspace's in its own lane. `except` leaves out workspaces whose rollback
 * runs here already.
 */
export async function claimRollbackRun(
  deps: ServiceDeps,
  options: RunOptions & { only?: { workspaceId: string; id: string }; except?: readonly string[] },
): Promise<ClaimedRollback | undefined> {
  const now = deps.clock();
  const current = options.only ? await findRollback(deps.db, options.only.workspaceId, options.only.id) : undefined;
  const staleHolder = isDeadLocalHolder(current?.leaseHolder ?? null) ? current?.leaseHolder : undefined;
  const claimed = await claimRollback(deps.db, {
    holder: options.holder,
    now,
    until: new Date(now.getTime() + options.leaseMs),
    ...(options.only ? { only: options.only } : {}),
    ...(staleHolder ? { staleHolder } : {}),
    ...(options.except ? { except: options.except } : {}),
  });
  if (!claimed) return undefined;
  return { workspaceId: claimed.workspaceId, run: () => runClaimed(deps, claimed, options) };
}

async function runClaimed(
  deps: ServiceDeps,
  claimed: RollbackRow,
  options: RunOptions,
): Promise<Exclude<RunResult, 'none'>> {
  let lost = false;
  const heartbeat = setInterval(
    () => {
      renewLease(deps.db, {
        id: claimed.id,
        holder: options.holder,
        until: new Date(deps.clock().getTime() + options.leaseMs),
      })
        .then((renewed) => {
          lost ||= !renewed;
        })
        .catch(() => undefined); // a missed beat only shortens the lease; the next one tries again
    },
    Math.max(options.leaseMs / 3, 50),
  );
  heartbeat.unref();
  try {
    await auditClaim(deps, claimed, options.holder);
    return await work(deps, claimed, options, () => lost);
  } finally {
    clearInterval(heartbeat);
  }
}

/** How a run stops: its result, and what it leaves behind (the lease released, or the rollback paused). */
interface Stop {
  result: 'lost' | 'stopped' | 'paused';
  finish?: () => Promise<void>;
}

/** Step after step, read → mark → write → record (overlapped, see RollbackSteps), until done or told to stop. */
async function work(
  deps: ServiceDeps,
  rollback: RollbackRow,
  options: RunOptions,
  isLost: () => boolean,
): Promise<Exclude<RunResult, 'none'>> {
  const { holder } = options;
  const workspace = await findWorkspace(deps.db, rollback.workspaceId);
  if (!workspace) return 'lost';
  const crm = deps.crmFor(workspace);
  const release: Stop = { result: 'paused', finish: () => releaseLease(deps, rollback, holder) };
  /**
   * Why the run must stop now, if it must: asked before each step is marked, and again right
   * before the write of a step marked while the last one was written, whether the rollback is
   * still running for us too (an admin may have paused it meanwhile).
   */
  const stopReason = async (marked = false): Promise<Stop | undefined> => {
    if (isLost()) return { result: 'lost' };
    if (options.stopping?.()) return { result: 'stopped', finish: () => releaseLease(deps, rollback, holder) };
    const [killed, current] = await Promise.all([
      engagedKillSwitch(deps.db, {
        workspaceId: rollback.workspaceId,
        agentId: rollback.agentId,
        action: 'field_write',
      }),
      marked ? findRollback(deps.db, rollback.workspaceId, rollback.id) : undefined,
    ]);
    if (killed)
      return {
        result: 'paused',
        finish: () =>
          pauseForKillSwitch(deps, rollback, holder, `A ${killed.scope} kill switch is engaged: ${killed.reason}`),
      };
    if (marked && (current?.status !== 'running' || current.leaseHolder !== holder)) return release;
    return undefined;
  };
  const steps = new RollbackSteps(deps, { rollback, holder, crm, mayGoOn: async () => !(await stopReason()) });
  const stopWith = async (stop: Stop): Promise<Stop['result']> => {
    await steps.drain();
    await stop.finish?.();
    return stop.result;
  };
  try {
    for (;;) {
      const next = await steps.next();
      if (next === 'held') {
        const stop = await stopReason();
        if (stop) return await stopWith(stop);
        continue; // what held it is gone already: the step is read again
      }
      if (next === 'refused') return await stopWith(release);
      if (next === 'end') {
        await steps.recorded();
        if (steps.startAnotherPass()) continue;
        // The fields first, then the links and the records the selection made, each page of them
        // after the same checks as a step's write (a kill switch, a pause, a lost lease).
        let halted: Stop | undefined;
        const mayUndo = async () => {
          halted = await stopReason(true);
          return !halted;
        };
        if (!(await removeSelectedAssociations(deps, rollback, crm, mayUndo))) return await stopWith(halted ?? release);
        if (!(await archiveSelectedCreations(deps, rollback, crm, mayUndo))) return await stopWith(halted ?? release);
        await complete(deps, rollback, holder);
        return 'completed';
      }
      // Right before every write, the first of a pass too: its read may have waited out a 429 meanwhile.
      const stop = await stopReason(true);
      if (stop) return await stopWith(stop); // its items stay marked: the next run re-reads them, as after a crash
      await steps.record(await steps.write(next.marked));
    }
  } finally {
    await steps.drain().catch(() => undefined); // never leave a step's outcomes unrecorded behind a thrown error
  }
}

async function auditClaim(deps: ServiceDeps, rollback: RollbackRow, holder: string): Promise<void> {
  const counts = await countItemsByState(deps.db, rollback.id);
  const fresh = counts.pending === rollback.total;
  await withAuditChain(deps.db, rollback.workspaceId, deps.clock, async (_tx, audit) => {
    audit.append({
      type: fresh ? 'rollback.started' : 'rollback.resumed_by_worker',
      actor: rollback.actor as JsonObject,
      agentId: rollback.agentId,
      batchId: rollback.id,
      data: { rollbackId: rollback.id, holder, remaining: counts.pending + counts.writing },
    });
  });
}

async function releaseLease(deps: ServiceDeps, rollback: RollbackRow, holder: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const locked = await lockRollback(tx, rollback.workspaceId, rollback.id);
    if (locked?.leaseHolder === holder)
      await updateRollback(tx, rollback.id, { leaseHolder: null, leaseExpiresAt: null });
  });
}

async function pauseForKillSwitch(
  deps: ServiceDeps,
  rollback: RollbackRow,
  holder: string,
  reason: string,
): Promise<void> {
  await withAuditChain(deps.db, rollback.workspaceId, deps.clock, async (tx, audit) => {
    const locked = await lockRollback(tx, rollback.workspaceId, rollback.id);
    if (!locked || locked.leaseHolder !== holder || locked.status !== 'running') return;
    await updateRollback(tx, rollback.id, {
      status: 'paused',
      statusReason: reason,
      leaseHolder: null,
      leaseExpiresAt: null,
    });
    audit.append({
      type: 'rollback.paused',
      actor: { type: 'system', name: 'rollback-job' },
      agentId: rollback.agentId,
      batchId: rollback.id,
      data: { rollbackId: rollback.id, reason },
    });
  });
}

/**
 * Withdraws the open approvals of the selection's held changes (issue 5 clears their shadow
 * values as it mirrors the withdrawal), a page of records at a time, then closes the rollback.
 * Withdrawing is idempotent, so a crash in between only repeats pages that change nothing.
 */
async function complete(deps: ServiceDeps, rollback: RollbackRow, holder: string): Promise<void> {
  const selector = rollbackSelectorSchema.parse(rollback.selector);
  const actor = rollback.actor as Actor;
  let after: string | null = null;
  let withdrawn = 0;
  for (;;) {
    const recordIds = await selectedRecordsPage(deps.db, {
      workspaceId: rollback.workspaceId,
      selector,
      after,
      limit: RECORDS_PER_STEP,
      decision: 'pending_approval',
    });
    if (recordIds.length === 0) break;
    const held = await selectedChangesOf(deps.db, {
      workspaceId: rollback.workspaceId,
      selector,
      recordIds,
      decision: 'pending_approval',
    });
    withdrawn += await withAuditChain(deps.db, rollback.workspaceId, deps.clock, (tx, audit) =>
      withdrawApprovals(tx, audit, {
        workspaceId: rollback.workspaceId,
        changes: held.map((c) => ({ id: c.changeId, changeSetId: c.changeSetId, recordId: c.recordId })),
        actor,
        reason: `Rolled back by rollback ${rollback.id}.`,
        now: deps.clock(),
      }),
    );
    after = recordIds.at(-1) ?? null;
  }
  await withAuditChain(deps.db, rollback.workspaceId, deps.clock, async (tx, audit) => {
    const locked = await lockRollback(tx, rollback.workspaceId, rollback.id);
    if (!locked || locked.leaseHolder !== holder || locked.status !== 'running') return;
    const changeSetIds = Object.values(locked.changeSetIds as Record<string, string>);
    for (const changeSetId of changeSetIds) await completeChangeSet(tx, changeSetId);
    await updateRollback(tx, rollback.id, {
      status: 'completed',
      statusReason: null,
      completedAt: deps.clock(),
      leaseHolder: null,
      leaseExpiresAt: null,
    });
    const counts = await countItemsByState(tx, rollback.id);
    const created = await countCreationsRolledBack(tx, rollback.id);
    const associations = await countAssociationsRolledBack(tx, rollback.id);
    audit.append({
      type: 'rollback.completed',
      actor: rollback.actor as JsonObject,
      agentId: rollback.agentId,
      batchId: rollback.id,
      data: {
        rollbackId: rollback.id,
        changeSetIds,
        reverted: counts.reverted,
        conflict: counts.conflict,
        alreadyReverted: counts.already_reverted,
        failed: counts.failed,
        approvalsWithdrawn: withdrawn,
        createdArchived: created.archived,
        createdConflict: created.conflict,
        associationsRemoved: associations.removed,
        associationsConflict: associations.conflict,
      },
    });
  });
}
