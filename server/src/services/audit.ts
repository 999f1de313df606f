import { stringify } from 'csv-stringify/sync';
import type { AuditVerification } from '../../../shared/admin-api.ts';
import { ChainVerifier } from '../domain/audit-chain.ts';
import { readAuditHead, streamAuditEvents, type AuditFilter, type StoredAuditEvent } from '../store/audit-store.ts';
import type { ServiceDeps } from './deps.ts';

/** Recomputes the whole chain in seq order, page by page, and names the first event that does not hold. */
export async function verifyAudit(deps: ServiceDeps, workspaceId: string): Promise<AuditVerification> {
  // Read the head first: events appended while we walk are past it and do not count as tampering.
  const head = await readAuditHead(deps.db, workspaceId);
  const verifier = new ChainVerifier();
  for await (const event of streamAuditEvents(deps.db, workspaceId)) {
    if (event.seq > head.seq) break;
    const problem = verifier.push(event);
    if (problem) return { ok: false, events: verifier.events, firstBadEvent: problem };
  }
  const problem = verifier.finish(head);
  return problem ? { ok: false, events: verifier.events, firstBadEvent: problem } : { ok: true, events: verifier.events };
}

export type AuditExportFormat = 'ndjson' | 'csv';

const CSV_COLUMNS = [
  'seq', 'occurredAt', 'type', 'actor', 'agentId', 'batchId', 'changeSetId', 'objectType', 'recordId', 'property',
  'before', 'after', 'evidence', 'reasons', 'policyVersion', 'data', 'prevHash', 'hash',
] as const;

/** Streams matching events as NDJSON or CSV, one chunk per event; memory stays flat however large the log. */
export async function* exportAudit(deps: ServiceDeps, workspaceId: string, filter: AuditFilter, format: AuditExportFormat): AsyncGenerator<string> {
  if (format === 'csv') yield stringify([[...CSV_COLUMNS]]);
  for await (const event of streamAuditEvents(deps.db, workspaceId, filter)) {
    yield format === 'ndjson' ? `${JSON.stringify(event)}\n` : stringify([csvRow(event)], { columns: [...CSV_COLUMNS] });
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
  };
}
