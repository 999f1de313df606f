import {
  checkpointDue,
  signCheckpoint,
  type AuditCheckpoint,
  type CheckpointKey,
} from '../../domain/audit-checkpoint.ts';
import { claimCheckpointRow, recordCheckpoint, workspacesWithNewEvents } from '../../store/audit-checkpoint-store.ts';
import { readAuditHead } from '../../store/audit-store.ts';
import type { ServiceDeps } from '../common/index.ts';

export interface CheckpointPublishing {
  key: CheckpointKey;
  everyEvents: number;
  everyMs: number;
  /** Where a signed checkpoint goes (the checkpoint file); it must be durable when this resolves. */
  publish(checkpoint: AuditCheckpoint): Promise<void>;
}

/**
 * Signs and publishes a checkpoint of each workspace's chain head that is due (issue 17). Any number
 * of servers may run this at once: each workspace's checkpoint row is claimed with SKIP LOCKED and
 * whether one is due is decided again under the claim, so one server signs each checkpoint. The
 * checkpoint is published before the claim commits: a crash in between publishes it again (a
 * repeated line, harmless), never loses one. Returns how many were published.
 */
export async function publishDueCheckpoints(deps: ServiceDeps, publishing: CheckpointPublishing): Promise<number> {
  const every = { everyEvents: publishing.everyEvents, everyMs: publishing.everyMs };
  let published = 0;
  for (const candidate of await workspacesWithNewEvents(deps.db)) {
    if (!checkpointDue({ headSeq: candidate.headSeq, last: candidate.last, now: deps.clock(), ...every })) continue;
    const done = await deps.db.transaction(async (tx) => {
      const claimed = await claimCheckpointRow(tx, candidate.workspaceId);
      if (!claimed) return false;
      // The head as committed now: an append in progress is not in it, and is in the next checkpoint.
      const head = await readAuditHead(tx, candidate.workspaceId);
      const now = deps.clock();
      if (!checkpointDue({ headSeq: head.seq, last: claimed.last, now, ...every })) return false;
      const signed = signCheckpoint(publishing.key, {
        workspaceId: candidate.workspaceId,
        seq: head.seq,
        hash: head.hash,
        time: now,
      });
      await publishing.publish(signed);
      await recordCheckpoint(tx, signed);
      return true;
    });
    if (done) published += 1;
  }
  return published;
}
