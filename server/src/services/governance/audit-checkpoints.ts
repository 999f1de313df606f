import { auditCheckpointSchema } from '../../../../shared/admin-api.ts';
import {
  checkpointDue,
  checkSignature,
  signCheckpoint,
  type AuditCheckpoint,
  type CheckpointKey,
} from '../../domain/audit-checkpoint.ts';
import {
  checkpointCandidates,
  claimCheckpointRow,
  recordCheckpoint,
  type CheckpointCandidate,
} from '../../store/audit-checkpoint-store.ts';
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
  // Each round reads every workspace's newest logged line only; one that this server's key did not
  // sign (another server's key, or a forgery) makes the claim look further back.
  for (const candidate of await checkpointCandidates(deps.db, { depth: 1 })) {
    const last = lastTrusted(candidate, publishing.key);
    if (!checkpointDue({ headSeq: candidate.headSeq, last, now: deps.clock(), ...every })) continue;
    const done = await deps.db.transaction(async (tx) => {
      if (!(await claimCheckpointRow(tx, candidate.workspaceId))) return false;
      // The head as committed now: an append in progress is not in it, and is in the next checkpoint.
      const head = await readAuditHead(tx, candidate.workspaceId);
      const [logged] = await checkpointCandidates(tx, { workspaceId: candidate.workspaceId, depth: 10 });
      const last = lastTrusted({ ...candidate, recent: logged?.recent ?? [], headSeq: head.seq }, publishing.key);
      const time = deps.clock();
      if (!checkpointDue({ headSeq: head.seq, last, now: time, ...every })) return false;
      const signed = signCheckpoint(publishing.key, {
        workspaceId: candidate.workspaceId,
        seq: head.seq,
        hash: head.hash,
        time,
      });
      await publishing.publish(signed);
      await recordCheckpoint(tx, signed);
      return true;
    });
    if (done) published += 1;
  }
  return published;
}

/**
 * The newest logged checkpoint of this workspace signed with this server's key, at or below its
 * head. A line the key did not sign (forged or edited in the database, or another server's under
 * another key) counts for nothing, so a database owner cannot stop checkpoints by writing that one
 * was just made; a checkpoint past the head (the head was moved back) makes one due at once.
 */
function lastTrusted(candidate: CheckpointCandidate, key: CheckpointKey): { seq: number; at: Date } | undefined {
  const trusted = new Set([key.publicKey]);
  for (const stored of candidate.recent) {
    const line = auditCheckpointSchema.safeParse(stored);
    if (!line.success || line.data.workspaceId !== candidate.workspaceId || line.data.seq > candidate.headSeq) continue;
    const { workspaceId, seq, hash, time, publicKey, signature } = line.data;
    const signed = [key.publicKey, seq, hash, time, publicKey, signature].join(' ');
    if (verifiedLast.get(workspaceId) === signed || checkSignature(line.data, trusted) === undefined) {
      verifiedLast.set(workspaceId, signed);
      return { seq, at: new Date(time) };
    }
  }
  return undefined;
}

/**
 * Each workspace's newest line whose signature held (all it signs, and this server's key): each
 * round verifies only a line it has not seen.
 */
const verifiedLast = new Map<string, string>();
