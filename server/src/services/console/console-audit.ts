import type {
  AuditActionView,
  AuditActorView,
  AuditApprovalView,
  AuditDecisionView,
  AuditEventView,
  AuditEvidenceView,
  ConsoleAuditPage,
  ConsoleAuditQuery,
} from '../../../../shared/console-api.ts';
import { AppError } from '../../errors.ts';
import {
  type AuditEventRow,
  auditEventsOnRecordInBatch,
  type ChangeSetRecord,
  findAuditEvent,
  findChangeSetRecord,
} from '../../store/console-store.ts';
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
 * version, each approval and the CRM's result. What the change set keeps for that record fills in
 * what the event does not carry: events after the decision hold no evidence, and the approvals'
 * edits and each property's outcome are read from their rows.
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
  const record =
    event.changeSetId && event.recordId
      ? await findChangeSetRecord(deps.db, workspace.id, event.changeSetId, event.recordId)
      : undefined;
  const onChangeSet = story.filter((step) => step.changeSetId === event.changeSetId);
  return {
    event: eventView(event),
    story: story.map(eventView),
    evidence: hasEvidence(event.evidence)
      ? evidenceView(event.evidence, 'event')
      : record && hasEvidence(record.evidence)
        ? evidenceView(record.evidence, 'change_set')
        : null,
    policyVersion: event.policyVersion ?? record?.changeSet.policyVersion ?? null,
    approvals: record ? record.approvals.map((approval) => approvalView(approval, onChangeSet)) : [],
    crmResult: record ? crmResult(record, onChangeSet) : null,
  };
}

/** The events that say what the CRM did with a held or auto-applied write. */
const CRM_REPORTS = new Set([
  'change.applied',
  'change.failed',
  'approval.applied',
  'approval.stale',
  'approval.apply_failed',
]);

function crmResult(record: ChangeSetRecord, story: AuditEventRow[]): NonNullable<AuditActionView['crmResult']> {
  return {
    writes: record.changes.map((change) => ({
      property: change.property,
      before: change.beforeValue,
      proposed: change.proposedValue,
      decision: change.decision,
      reasons: change.reasons,
      message: change.message,
    })),
    reports: story.filter((step) => CRM_REPORTS.has(step.type)).map(reportView),
  };
}

export function reportView(step: AuditEventRow) {
  return {
    seq: step.seq,
    type: step.type,
    occurredAt: step.occurredAt.toISOString(),
    message: textOf(objectOf(step.data).message),
  };
}

function approvalView(approval: ChangeSetRecord['approvals'][number], story: AuditEventRow[]): AuditApprovalView {
  return {
    approvalId: approval.id,
    tier: approval.tier,
    status: approval.status,
    createdAt: approval.createdAt.toISOString(),
    expiresAt: approval.expiresAt.toISOString(),
    decidedAt: approval.decidedAt?.toISOString() ?? null,
    decidedBy: approval.decidedBy,
    message: approval.message,
    items: approval.items.map((item) => ({
      property: item.property,
      before: item.beforeValue,
      proposed: item.proposedValue,
      edited: item.edited,
      editedValue: item.editedValue,
      status: item.status,
      approvedBy: item.approvedBy,
    })),
    decisions: story
      .filter((step) => step.type === 'approval.decided' && objectOf(step.data).approvalId === approval.id)
      .map((step) => {
        const data = objectOf(step.data);
        const edits = Object.entries(objectOf(data.edits)).map(([property, edit]) => {
          const { proposed, edited } = objectOf(edit);
          return [property, { proposed: textOf(proposed), edited: textOf(edited) }] as const;
        });
        return decisionView(step, {
          kind: data.kind === 'reject' ? 'reject' : 'approve',
          edits: edits.length > 0 ? Object.fromEntries(edits) : null,
          reason: textOf(data.reason),
        });
      }),
  };
}

export function decisionView(
  step: AuditEventRow,
  decided: Pick<AuditDecisionView, 'kind' | 'edits' | 'reason'>,
): AuditDecisionView {
  return { seq: step.seq, at: step.occurredAt.toISOString(), by: actorView(step.actor), ...decided };
}

export function actorView(actor: unknown): AuditActorView {
  const fields = objectOf(actor);
  return {
    type: textOf(fields.type) ?? 'unknown',
    name: textOf(fields.name) ?? '',
    crmUserId: textOf(fields.crmUserId),
    role: textOf(fields.role),
    via: textOf(fields.via),
  };
}

function hasEvidence(evidence: unknown): boolean {
  return Object.keys(objectOf(evidence)).length > 0;
}

/** The agent's evidence field by field, read leniently: it was validated when the agent sent it, under the schema of that day. */
export function evidenceView(evidence: unknown, from: AuditEvidenceView['from']): AuditEvidenceView {
  const fields = objectOf(evidence);
  return {
    from,
    source: textOf(fields.source),
    url: textOf(fields.url),
    reason: textOf(fields.reason),
    confidence: typeof fields.confidence === 'number' ? fields.confidence : null,
    signal: textOf(fields.signal),
    runId: textOf(fields.runId),
    model: textOf(fields.model),
    promptVersion: textOf(fields.promptVersion),
    promptHash: textOf(fields.promptHash),
    toolCalls: (Array.isArray(fields.toolCalls) ? fields.toolCalls : []).map((call) => {
      const { name, input, output } = objectOf(call);
      return { name: textOf(name) ?? '', input: input ?? null, output: output ?? null };
    }),
  };
}

export function objectOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function textOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function eventView(row: AuditEventRow): AuditEventView {
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
