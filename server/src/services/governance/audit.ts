import { stringify } from 'csv-stringify/sync';
import type { AuditVerification } from '../../../../shared/admin-api.ts';
import {
  checkAgainstChain,
  checkSignature,
  type AuditCheckpoint,
  type CheckpointBreak,
} from '../../domain/audit-checkpoint.ts';
import {
  ChainVerifier,
  GENESIS_HASH,
  renumberedEvent,
  storedOutsideChain,
  type ChainBreak,
} from '../../domain/audit-chain.ts';
import { digestOf, personalDigest, type PersonalValues } from '../../domain/audit-personal.ts';
import { parseJson } from '../../../../shared/json-text.ts';
import { storedHashesAt } from '../../store/audit-checkpoint-store.ts';
import {
  eventsOutsideChainLinkedTo,
  findAuditHead,
  firstEventOutsideChain,
  newestStoredEvent,
  readAuditHead,
  readAuditText,
  streamAuditEvents,
  streamPersonalTexts,
  streamSplicedAuditEvents,
  type AuditFilter,
  type StoredAuditEvent,
} from '../../store/audit-store.ts';
import type { ServiceDeps } from '../common/index.ts';

export interface CheckpointsToVerify {
  checkpoints: readonly AuditCheckpoint[];
  /** Public keys (base64) whose signatures count; a line's own key proves nothing by itself. */
  trustedPublicKeys: readonly string[];
}

/**
 * Recomputes the whole chain in seq order, page by page, and names the first event that does not
 * hold; with checkpoints, also checks the chain against each of this workspace's signed
 * checkpoints and names the first one the database contradicts (issue 17).
 */
export async function verifyAudit(
  deps: ServiceDeps,
  workspaceId: string,
  given?: CheckpointsToVerify,
  onProgress?: AuditProgress,
): Promise<AuditVerification> {
  // Read the head first: events appended while we walk are past it and do not count as tampering.
  const head = await findAuditHead(deps.db, workspaceId);
  // A head row deleted in the database: the stored events are walked as far as they go, and then
  // the head is named missing, as removed newest events could no longer be told.
  const walkTo = head ?? (await newestStoredEvent(deps.db, workspaceId)) ?? { seq: 0, hash: GENESIS_HASH };
  const walked = await walkChain(deps, workspaceId, walkTo, onProgress);
  const chain = head || walked.problem ? walked : { events: walked.events, problem: headMissingBreak(walked.events) };
  const checkpoints = given ? await checkCheckpoints(deps, workspaceId, walkTo, given) : undefined;
  const ok = chain.problem === undefined && checkpoints?.firstBadCheckpoint === undefined;
  const report = checkpoints ? { checkpoints } : {};
  if (ok) return { ok: true, events: chain.events, ...report };
  return { ok: false, events: chain.events, ...(chain.problem ? { firstBadEvent: chain.problem } : {}), ...report };
}

function headMissingBreak(events: number): ChainBreak {
  return {
    seq: events + 1,
    problem: 'truncated',
    message: `The chain head is missing: its row was deleted, so events after ${events}, the newest stored, may have been removed unseen.`,
  };
}

/** Told, every page of events, the seq reached and the head's seq (a log of any size reports as it goes). */
export type AuditProgress = (seq: number, headSeq: number) => void;

async function walkChain(
  deps: ServiceDeps,
  workspaceId: string,
  head: { seq: number; hash: string },
  onProgress: AuditProgress | undefined,
): Promise<{ events: number; problem?: ChainBreak }> {
  const verifier = new ChainVerifier();
  for await (const page of streamSplicedAuditEvents(deps.db, workspaceId, head.seq)) {
    for (const event of page) {
      const seq = typeof event === 'number' ? event : event.seq;
      let problem = typeof event === 'number' ? 'reread' : verifier.pushSpliced(event);
      if (problem === 'reread') problem = verifier.pushStored(await readAuditText(deps.db, workspaceId, seq));
      if (problem)
        return { events: verifier.events, problem: await asRenumbered(deps, workspaceId, head, verifier, problem) };
      if (onProgress && seq % PROGRESS_EVERY === 0) onProgress(seq, head.seq);
    }
  }
  const cut = verifier.finish(head);
  const problem =
    (cut && (await asRenumbered(deps, workspaceId, head, verifier, cut))) ??
    (await checkOutsideChain(deps, workspaceId)) ??
    (await checkPersonalData(deps, workspaceId, head.seq));
  return problem ? { events: verifier.events, problem } : { events: verifier.events };
}

/**
 * An event missing from its place (`missing`, or the newest one, `truncated`) may be stored at
 * another seq, renumbered by a database owner: then it is named with both seqs, not as removed.
 */
async function asRenumbered(
  deps: ServiceDeps,
  workspaceId: string,
  head: { seq: number },
  verifier: ChainVerifier,
  problem: ChainBreak,
): Promise<ChainBreak> {
  if (problem.problem !== 'missing' && problem.problem !== 'truncated') return problem;
  const linked = await eventsOutsideChainLinkedTo(deps.db, workspaceId, head.seq, verifier.verifiedHash);
  for (const stored of linked) {
    const moved = renumberedEvent(problem.seq, verifier.verifiedHash, stored);
    if (moved) return moved;
  }
  return problem;
}

/** An event inserted below seq 1 or past the head is not in the walk, so it is looked for apart. */
async function checkOutsideChain(deps: ServiceDeps, workspaceId: string): Promise<ChainBreak | undefined> {
  const outside = await firstEventOutsideChain(deps.db, workspaceId);
  return outside && storedOutsideChain(outside.seq, outside.headSeq);
}

/**
 * Personal values kept apart (domain/audit-personal.ts) are not in the hashed events; each row
 * still present must match the digest its event holds, or it was altered. A deleted row (retention,
 * erasure) is simply absent: its event verifies as it did.
 */
async function checkPersonalData(
  deps: ServiceDeps,
  workspaceId: string,
  headSeq: number,
): Promise<ChainBreak | undefined> {
  for await (const row of streamPersonalTexts(deps.db, workspaceId, headSeq)) {
    const promised = digestOf(row.data === null ? null : parseJson(row.data));
    if (promised === undefined || personalDigest(row.salt, parseJson(row.values) as PersonalValues) !== promised)
      return {
        seq: row.seq,
        problem: 'altered',
        message: `The personal data kept apart for event ${row.seq} was altered: it no longer matches the digest the event holds.`,
      };
  }
  return undefined;
}

async function checkCheckpoints(
  deps: ServiceDeps,
  workspaceId: string,
  head: { seq: number },
  given: CheckpointsToVerify,
): Promise<{ checked: number; latestSeq: number | null; firstBadCheckpoint?: CheckpointBreak }> {
  const trusted = new Set(given.trustedPublicKeys);
  const mine = given.checkpoints
    .filter((checkpoint) => checkpoint.workspaceId === workspaceId)
    .sort((a, b) => a.seq - b.seq);
  const stored = await storedHashesAt(deps.db, workspaceId, [...new Set(mine.map((checkpoint) => checkpoint.seq))]);
  const latestSeq = mine.at(-1)?.seq ?? null;
  for (const checkpoint of mine) {
    const problem =
      checkSignature(checkpoint, trusted) ??
      checkAgainstChain(checkpoint, { headSeq: head.seq, storedHash: stored.get(checkpoint.seq) });
    if (problem) return { checked: mine.length, latestSeq, firstBadCheckpoint: problem };
  }
  return { checked: mine.length, latestSeq };
}

const PROGRESS_EVERY = 1_000;

export type AuditExportFormat = 'ndjson' | 'csv';

const CSV_COLUMNS = [
  'seq',
  'occurredAt',
  'type',
  'actor',
  'agentId',
  'batchId',
  'changeSetId',
  'objectType',
  'recordId',
  'property',
  'before',
  'after',
  'evidence',
  'reasons',
  'policyVersion',
  'data',
  'prevHash',
  'hash',
  'personal',
  // Last, so columns read by position stay where they were; without it, rows of several
  // workspaces' exports put together could not be told apart (each chain counts seq from 1).
  'workspaceId',
] as const;

/**
 * A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`
 * (escape_formulas): an agent's batch id such as `=HYPERLINK(…)` would otherwise run as a formula in
 * the auditor's spreadsheet. NDJSON keeps every value exactly as stored.
 */
const CSV_ROW_OPTIONS = { columns: [...CSV_COLUMNS], escape_formulas: true };

/** Streams matching events as NDJSON or CSV, one chunk per event; memory stays flat however large the log. */
export async function* exportAudit(
  deps: ServiceDeps,
  workspaceId: string,
  filter: AuditFilter,
  format: AuditExportFormat,
  onProgress?: AuditProgress,
): AsyncGenerator<string> {
  const headSeq = onProgress ? (await readAuditHead(deps.db, workspaceId)).seq : 0;
  if (format === 'csv') yield stringify([[...CSV_COLUMNS]]);
  let exported = 0;
  for await (const event of streamAuditEvents(deps.db, workspaceId, filter)) {
    exported += 1;
    yield format === 'ndjson' ? `${JSON.stringify(event)}\n` : stringify([csvRow(event)], CSV_ROW_OPTIONS);
    if (onProgress && exported % PROGRESS_EVERY === 0) onProgress(event.seq, headSeq);
  }
}

function csvRow(event: StoredAuditEvent): Record<(typeof CSV_COLUMNS)[number], string | number | null> {
  const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
  return {
    seq: event.seq,
    occurredAt: event.occurredAt,
    type: event.type,
    actor: json(event.actor),
    agentId: event.agentId,
    batchId: event.batchId,
    changeSetId: event.changeSetId,
    objectType: event.objectType,
    recordId: event.recordId,
    property: event.property,
    before: json(event.before),
    after: json(event.after),
    evidence: json(event.evidence),
    reasons: event.reasons.join(';'),
    policyVersion: event.policyVersion,
    data: json(event.data),
    prevHash: event.prevHash,
    hash: event.hash,
    personal: json(event.personal ?? null),
    workspaceId: event.workspaceId,
  };
}
