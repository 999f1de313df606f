import { Link } from 'wouter';
import type { DraftAuditView } from '../../../shared/console-api.ts';
import { getJson } from '../api.ts';
import { AgentText } from '../AgentText.tsx';
import { useLoad } from '../use-load.ts';
import { asText } from './Audit.tsx';
import { DecisionList, EvidenceList } from './AuditAction.tsx';

const KIND_LABELS: Record<DraftAuditView['draft']['kind'], string> = {
  send_email: 'Email',
  create_task: 'Task',
  create_note: 'Note',
};

const when = (instant: string | null) => (instant ? new Date(instant).toLocaleString() : '');

/** A draft's content field by field; the agent or a person wrote it, so it is shown as text. */
function Content(props: { label: string; content: Record<string, string> }) {
  return (
    <dl className="fields" aria-label={props.label}>
      {Object.entries(props.content).map(([field, value]) => (
        <div key={field}>
          <dt>{field}</dt>
          <dd className="draft-text">
            <AgentText>{value}</AgentText>
          </dd>
        </div>
      ))}
    </dl>
  );
}

function DraftReconstructed(props: { view: DraftAuditView }) {
  const { draft, agent, submittedBy, evidence, contentFindings, decisions, stops, reports, events } = props.view;
  const fields: [string, string][] = [
    ['Agent', agent ? `${agent.name} (${agent.role})` : draft.agentId],
    ['Submitted by', submittedBy ? `${submittedBy.name} (${submittedBy.type})` : ''],
    ['Status', draft.status],
    ['Tier', draft.tier ?? 'none (a stop rule refused it first)'],
    ['Policy version', String(draft.policyVersion)],
    ['Reasons', draft.reasons.join(', ')],
    ['Submitted', when(draft.createdAt)],
    ['Expires', when(draft.expiresAt)],
    ['Decided', when(draft.decidedAt)],
    ['Released', when(draft.releasedAt)],
    ['Approved by', draft.approvedBy.join(', ')],
    ['Task or note in the CRM', draft.crmObjectId ?? ''],
    ['Message', draft.message ?? ''],
  ];
  return (
    <>
      <p>
        On{' '}
        <Link href={`/records/${draft.objectType}/${draft.recordId}`}>
          {draft.objectType} {draft.recordId}
        </Link>
      </p>
      <dl className="fields" aria-label="The draft">
        {fields.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>
              <AgentText>{value}</AgentText>
            </dd>
          </div>
        ))}
      </dl>
      <h2>As submitted</h2>
      <Content label="As submitted" content={draft.proposed} />
      <h2>As approved</h2>
      {draft.edited ? (
        <Content label="As approved" content={draft.edited} />
      ) : (
        <p className="muted">Nobody edited it: what was approved, if anything, is what was submitted.</p>
      )}
      <h2>Evidence</h2>
      <EvidenceList evidence={evidence} />
      <h2>Content rules</h2>
      {contentFindings.length === 0 ? (
        <p className="muted">No content rule matched.</p>
      ) : (
        <ul aria-label="Content rule matches">
          {contentFindings.map((finding, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: findings have no id; their order is the policy's
            <li key={index} className="draft-text">
              {finding.rule}: {finding.reason} · “<AgentText>{finding.text}</AgentText>”
              {finding.field && ` in ${finding.field}`}
            </li>
          ))}
        </ul>
      )}
      <h2>Decisions</h2>
      <DecisionList decisions={decisions} />
      <h2>Outcome</h2>
      {draft.outcomes.length === 0 ? (
        <p className="muted">Nothing reported yet.</p>
      ) : (
        <table aria-label="Outcomes">
          <thead>
            <tr>
              <th>Outcome</th>
              <th>Reported</th>
              <th>Provider message id</th>
              <th>Detail</th>
              <th>Noted on the record</th>
            </tr>
          </thead>
          <tbody>
            {draft.outcomes.map((outcome) => (
              <tr key={`${outcome.outcome}-${outcome.reportedAt}`}>
                <td>{outcome.outcome}</td>
                <td>{when(outcome.reportedAt)}</td>
                <td>
                  <AgentText>{outcome.providerMessageId ?? ''}</AgentText>
                </td>
                <td>
                  <AgentText>{outcome.detail ?? ''}</AgentText>
                </td>
                <td>{outcome.crmNoteId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {reports.length > 0 && (
        <ol aria-label="Reports">
          {reports.map((report) => (
            <li key={report.seq}>
              {report.type} · {when(report.occurredAt)}
              {report.message !== null && (
                <>
                  {' · '}
                  <AgentText>{report.message}</AgentText>
                </>
              )}
            </li>
          ))}
        </ol>
      )}
      <h2>Stops</h2>
      {stops.length === 0 ? (
        <p className="muted">No stop rule applied.</p>
      ) : (
        <ul aria-label="Stops">
          {stops.map((stop) => (
            <li key={`${stop.seq}-${stop.reason}`}>
              {stop.reason} · {stop.type} · {when(stop.occurredAt)} · <AgentText>{stop.by.name}</AgentText>
            </li>
          ))}
        </ul>
      )}
      <h2>Its audit events</h2>
      <ol aria-label="The story">
        {events.map((event) => (
          <li key={event.seq}>
            <Link href={`/audit/${event.seq}`}>{event.seq}</Link> <strong>{event.type}</strong> ·{' '}
            {when(event.occurredAt)} · <AgentText>{asText(event.actor)}</AgentText>
            {event.reasons.length > 0 && ` · ${event.reasons.join(', ')}`}
          </li>
        ))}
      </ol>
    </>
  );
}

/** One email, task or note reconstructed: as submitted and as approved, evidence, rules, decisions, outcome, stops. */
export function DraftAudit(props: { id: string }) {
  const [view] = useLoad(
    () => getJson<DraftAuditView>(`/console/api/audit/drafts/${encodeURIComponent(props.id)}`),
    props.id,
  );
  return (
    <section>
      <h1>
        {view.state === 'ready' ? KIND_LABELS[view.data.draft.kind] : 'Draft'} {props.id}
      </h1>
      {view.state === 'loading' && <p className="notice">Loading…</p>}
      {view.state === 'failed' && <p role="alert">{view.message}</p>}
      {view.state === 'ready' && <DraftReconstructed view={view.data} />}
    </section>
  );
}
