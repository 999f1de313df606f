import type {
  AuditActionView,
  AuditEventView,
  ConsoleAuditPage,
  ConsoleAuditQuery,
} from '../../../../shared/console-api.ts';
import { AppError } from '../../errors.ts';
import { type AuditEventRow, auditEventsOnRecordInBatch, findAuditEvent } from '../../store/console-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { type ExtensionCaller, requirePermission } from '../extension/index.ts';
import { type AuditExportFormat, exportAudit } from '../governance/index.ts';
import type { AuditFilter } from '../../store/audit-store.ts';
import { searchAuditEvents } from '../../store/extension-store.ts';

type AuditFilterQuery = Omit<ConsoleAuditQuery, 'before' | 'limit'>;

function auditFilter(query: AuditFilterQuery): AuditFilter {
  return {
    agentId: query.agent,
    batchId: query.batch,
    recordId: query.record,
    person: query.person,
    type: query.type,
    from: query.from === undefined ? undefined : new Date(query.from),
    to: query.to === undefined ? undefined : new Date(query.to),
  };
}

/**
 * The console's audit search: by agent, person, record, batch, action kind and time, newest
 * first, a page at a time by keyset on seq (`before`: the last seq of the page before).
 */
export async function consoleAuditSearch(
  deps: ServiceDeps,
  { workspace, caller }: ExtensionCaller,
  query: ConsoleAuditQuery,
): Promise<ConsoleAuditPage> {
  requirePermission(caller, caller.permissions.searchAudit, 'search the audit trail');
  const rows = await searchAuditEvents(deps.db, workspace.id, {
    ...auditFilter(query),
    beforeSeq: query.before,
    limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  return {
    events: page.map((row) => ({ ...row, occurredAt: row.occurredAt.toISOString() })),
    next: rows.length > query.limit ? (page.at(-1)?.seq ?? null) : null,
  };
}

/** The search's matches whole, streamed as NDJSON or CSV (the admin API's export, filtered the console's way). */
export function consoleAuditExport(
  deps: ServiceDeps,
  { workspace, caller }: ExtensionCaller,
  query: AuditFilterQuery & { format: AuditExportFormat },
): AsyncGenerator<string> {
  requirePermission(caller, caller.permissions.searchAudit, 'export the audit trail');
  return exportAudit(deps, workspace.id, auditFilter(query), query.format);
}

/**
 * One write reconstructed from the audit trail: the event asked for, and the other events on
 * its record in its batch, which carry the decision and its reasons, the evidence, the policy
 * version, each approval and the CRM's result.
 */
export async function auditAction(
  deps: ServiceDeps,
  { workspace, caller }: ExtensionCaller,
  seq: number,
): Promise<AuditActionView> {
  requirePermission(caller, caller.permissions.searchAudit, 'read the audit trail');
  const event = await findAuditEvent(deps.db, workspace.id, seq);
  if (!event) throw new AppError('NOT_FOUND', `There is no audit event ${seq} in this workspace.`);
  const story =
    event.batchId && event.recordId
      ? await auditEventsOnRecordInBatch(deps.db, workspace.id, event.batchId, event.recordId)
      : [event];
  return { event: eventView(event), story: story.map(eventView) };
}

function eventView(row: AuditEventRow): AuditEventView {
  return {
    seq: row.seq,
    occurredAt: row.occurredAt.toISOString(),
    type: row.type,
    actor: row.actor,
    agentId: row.agentId,
    batchId: row.batchId,
    changeSetId: row.changeSetId,
    objectType: row.objectType,
    recordId: row.recordId,
    property: row.property,
    before: row.before,
    after: row.after,
    evidence: row.evidence,
    reasons: row.reasons,
    policyVersion: row.policyVersion,
    data: row.data,
    hash: row.hash,
  };
}
