import type { AuditDecisionView, DraftAuditView } from '../../../../shared/console-api.ts';
import { STOP_RULE_REASONS } from '../../domain/action-drafts.ts';
import { findAgent } from '../../store/agent-store.ts';
import { type AuditEventRow, auditEventsOfAction } from '../../store/console-store.ts';
import { loadActionView, requireAction } from '../actions/index.ts';
import type { ServiceDeps } from '../common/index.ts';
import { type ExtensionCaller, requirePermission } from '../extension/index.ts';
import { actorView, decisionView, eventView, evidenceView, objectOf, reportView, textOf } from './console-audit.ts';

/** The events that say what became of a released draft: the task or note created, the agent's report (sent, bounced), the report noted on the record. */
const DRAFT_REPORTS = new Set([
  'action.completed',
  'action.execute_failed',
  'action.outcome',
  'action.logged',
  'action.log_failed',
]);

/**
 * One email, task or note reconstructed from its row and its audit events: as submitted and as a
 * person edited it, the evidence, the content rules it matched, the decisions, the stops that
 * applied and what was reported after its release.
 */
export async function draftAudit(
  deps: ServiceDeps,
  { workspace, caller }: ExtensionCaller,
  actionId: string,
): Promise<DraftAuditView> {
  requirePermission(caller, caller.permissions.searchAudit, 'read the audit trail');
  const row = await requireAction(deps.db, workspace.id, actionId);
  const draft = await loadActionView(deps.db, row);
  const agent = await findAgent(deps.db, workspace.id, row.agentId);
  const events = await auditEventsOfAction(deps.db, workspace.id, row.recordId, row.id);
  const submitted = events.find((event) => event.type === 'action.submitted');
  // The policy's content-rule matches, as the submission recorded them.
  const findings = objectOf(submitted?.data).contentFindings;
  return {
    draft,
    agent: agent ? { id: agent.id, name: agent.name, role: agent.role } : null,
    submittedBy: submitted ? actorView(submitted.actor) : null,
    evidence: evidenceView(row.evidence, 'draft'),
    contentFindings: (Array.isArray(findings) ? findings : []).map((finding) => {
      const { rule, reason, text, field } = objectOf(finding);
      return { rule: textOf(rule) ?? '', reason: textOf(reason) ?? '', text: textOf(text) ?? '', field: textOf(field) };
    }),
    decisions: events
      .filter((event) => event.type === 'action.approved' || event.type === 'action.rejected')
      .map((event) => decisionView(event, draftDecision(event))),
    // The submission repeats the refusal's reasons: a stop is counted where it refused or stopped the draft.
    stops: events
      .filter((event) => event.type !== 'action.submitted')
      .flatMap((event) =>
        event.reasons
          .filter((reason) => STOP_RULE_REASONS.has(reason))
          .map((reason) => ({
            seq: event.seq,
            type: event.type,
            occurredAt: event.occurredAt.toISOString(),
            reason,
            by: actorView(event.actor),
          })),
      ),
    reports: events.filter((event) => DRAFT_REPORTS.has(event.type)).map(reportView),
    events: events.map(eventView),
  };
}

/** A person's decision on a draft: an approval keeps the content before and after, which differ where they edited it. */
function draftDecision(event: AuditEventRow): Pick<AuditDecisionView, 'kind' | 'edits' | 'reason'> {
  const data = objectOf(event.data);
  if (event.type === 'action.rejected') return { kind: 'reject', edits: null, reason: textOf(data.reason) };
  const before = objectOf(event.before);
  const after = objectOf(event.after);
  const edits = Object.keys(after)
    .filter((field) => data.edited === true && after[field] !== before[field])
    .map((field) => [field, { proposed: textOf(before[field]), edited: textOf(after[field]) }] as const);
  return { kind: 'approve', edits: edits.length > 0 ? Object.fromEntries(edits) : null, reason: null };
}
