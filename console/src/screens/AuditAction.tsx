import type {
  AuditActionView,
  AuditDecisionView,
  AuditEventView,
  AuditEvidenceView,
} from '../../../shared/console-api.ts';
import { getJson } from '../api.ts';
import { AgentText } from '../AgentText.tsx';
import { useLoad } from '../use-load.ts';
import { asText } from './Audit.tsx';

const FIELDS: { label: string; value: (event: AuditEventView) => string }[] = [
  { label: 'What', value: (event) => event.type },
  { label: 'When', value: (event) => new Date(event.occurredAt).toLocaleString() },
  { label: 'Actor', value: (event) => asText(event.actor) },
  { label: 'Record', value: (event) => `${event.objectType ?? ''} ${event.recordId ?? ''}` },
  { label: 'Batch', value: (event) => event.batchId ?? '' },
  { label: 'Change set', value: (event) => event.changeSetId ?? '' },
  { label: 'Before', value: (event) => asText(event.before) },
  { label: 'After', value: (event) => asText(event.after) },
  { label: 'Reasons', value: (event) => event.reasons.join(', ') },
  { label: 'Details', value: (event) => asText(event.data) },
  { label: 'Hash', value: (event) => event.hash },
];

const EVIDENCE_FROM: Record<AuditEvidenceView['from'], string> = {
  event: 'as this event carries it',
  change_set: 'kept with the change set’s record (this event carries none)',
  draft: 'as the agent gave it with the draft',
};

/** The agent's evidence, field by field; all of it is the agent's text, shown as text. */
export function EvidenceList(props: { evidence: AuditEvidenceView | null }) {
  const { evidence } = props;
  if (!evidence) return <p className="muted">No evidence is recorded for this.</p>;
  const fields: [string, string | null][] = [
    ['Source', evidence.source],
    ['Link', evidence.url],
    ['Reason', evidence.reason],
    ['Confidence', evidence.confidence === null ? null : String(evidence.confidence)],
    ['Signal', evidence.signal],
    ['Run id', evidence.runId],
    ['Model', evidence.model],
    ['Prompt version', evidence.promptVersion],
    ['Prompt hash', evidence.promptHash],
  ];
  return (
    <>
      <p className="muted">Evidence {EVIDENCE_FROM[evidence.from]}.</p>
      <dl className="fields" aria-label="Evidence">
        {fields
          .filter(([, value]) => value !== null)
          .map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>
                <AgentText>{value!}</AgentText>
              </dd>
            </div>
          ))}
        <div>
          <dt>Tool calls</dt>
          <dd>
            {evidence.toolCalls.length === 0 ? (
              'none reported'
            ) : (
              <ol aria-label="Tool calls">
                {evidence.toolCalls.map((call, index) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: tool calls have no id; their order is what the agent reported
                  <li key={index}>
                    <strong>
                      <AgentText>{call.name}</AgentText>
                    </strong>{' '}
                    · in <AgentText>{asText(call.input)}</AgentText> · out <AgentText>{asText(call.output)}</AgentText>
                  </li>
                ))}
              </ol>
            )}
          </dd>
        </div>
      </dl>
    </>
  );
}

function who(by: AuditDecisionView['by']): string {
  const person = by.crmUserId ? `user ${by.crmUserId}` : by.name;
  return [person, by.role, by.via && `via ${by.via}`].filter(Boolean).join(' · ');
}

/** Each person's decision: who, when, from where, what they edited first, why they rejected. */
export function DecisionList(props: { decisions: AuditDecisionView[] }) {
  if (props.decisions.length === 0) return <p className="muted">Nobody has decided it.</p>;
  return (
    <ol aria-label="Decisions">
      {props.decisions.map((decision) => (
        <li key={decision.seq}>
          <strong>{decision.kind === 'approve' ? 'Approved' : 'Rejected'}</strong> by {who(decision.by)} ·{' '}
          {new Date(decision.at).toLocaleString()}
          {decision.edits &&
            Object.entries(decision.edits).map(([field, edit]) => (
              <span key={field} className="draft-text">
                <br />
                edited {field}: <AgentText>{edit.proposed ?? '(empty)'}</AgentText> →{' '}
                <AgentText>{edit.edited ?? '(empty)'}</AgentText>
              </span>
            ))}
          {decision.reason !== null && (
            <span className="draft-text">
              <br />
              reason: <AgentText>{decision.reason}</AgentText>
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}

function Approvals(props: { approvals: AuditActionView['approvals'] }) {
  if (props.approvals.length === 0) return <p className="muted">No approval held this write.</p>;
  return (
    <>
      {props.approvals.map((approval) => (
        <div key={approval.approvalId}>
          <h3>Approval {approval.approvalId}</h3>
          <p>
            {approval.tier} · {approval.status} · held {new Date(approval.createdAt).toLocaleString()}
            {approval.decidedAt && ` · settled ${new Date(approval.decidedAt).toLocaleString()}`}
            {approval.message !== null && (
              <>
                {' · '}
                <AgentText>{approval.message}</AgentText>
              </>
            )}
          </p>
          <table aria-label="Held values">
            <thead>
              <tr>
                <th>Property</th>
                <th>Before</th>
                <th>Proposed</th>
                <th>Edited to</th>
                <th>Status</th>
                <th>Approved by</th>
              </tr>
            </thead>
            <tbody>
              {approval.items.map((item) => (
                <tr key={item.property}>
                  <td>{item.property}</td>
                  <td>
                    <AgentText>{item.before ?? ''}</AgentText>
                  </td>
                  <td>
                    <AgentText>{item.proposed ?? ''}</AgentText>
                  </td>
                  <td>{item.edited ? <AgentText>{item.editedValue ?? '(cleared)'}</AgentText> : ''}</td>
                  <td>{item.status}</td>
                  <td>{item.approvedBy.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <DecisionList decisions={approval.decisions} />
        </div>
      ))}
    </>
  );
}

function CrmResult(props: { result: NonNullable<AuditActionView['crmResult']> }) {
  return (
    <>
      <table aria-label="CRM result">
        <thead>
          <tr>
            <th>Property</th>
            <th>Before</th>
            <th>Proposed</th>
            <th>Outcome</th>
            <th>Reasons</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {props.result.writes.map((write) => (
            <tr key={write.property}>
              <td>{write.property}</td>
              <td>
                <AgentText>{write.before ?? ''}</AgentText>
              </td>
              <td>
                <AgentText>{write.proposed ?? ''}</AgentText>
              </td>
              <td>{write.decision}</td>
              <td>{write.reasons.join(', ')}</td>
              <td>
                <AgentText>{write.message ?? ''}</AgentText>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ol aria-label="CRM reports">
        {props.result.reports.map((report) => (
          <li key={report.seq}>
            {report.type} · {new Date(report.occurredAt).toLocaleString()}
            {report.message !== null && (
              <>
                {' · '}
                <AgentText>{report.message}</AgentText>
              </>
            )}
          </li>
        ))}
      </ol>
    </>
  );
}

/** One write reconstructed: the event, its evidence, policy version, approvals and CRM result, then the record's story in its batch. */
export function AuditAction(props: { seq: string }) {
  const [action] = useLoad(
    () => getJson<AuditActionView>(`/console/api/audit/events/${encodeURIComponent(props.seq)}`),
    props.seq,
  );
  return (
    <section>
      <h1>Audit event {props.seq}</h1>
      {action.state === 'loading' && <p className="notice">Loading…</p>}
      {action.state === 'failed' && <p role="alert">{action.message}</p>}
      {action.state === 'ready' && (
        <>
          <dl className="fields" aria-label="The event">
            {FIELDS.map(({ label, value }) => (
              <div key={label}>
                <dt>{label}</dt>
                <dd>
                  <AgentText>{value(action.data.event)}</AgentText>
                </dd>
              </div>
            ))}
            <div>
              <dt>Policy version</dt>
              <dd>{action.data.policyVersion === null ? 'none' : String(action.data.policyVersion)}</dd>
            </div>
          </dl>
          <h2>Evidence</h2>
          <EvidenceList evidence={action.data.evidence} />
          {action.data.crmResult && (
            <>
              <h2>Approvals</h2>
              <Approvals approvals={action.data.approvals} />
              <h2>CRM result</h2>
              <CrmResult result={action.data.crmResult} />
            </>
          )}
          <h2>Its record in this batch, step by step</h2>
          <ol aria-label="The story">
            {action.data.story.map((event) => (
              <li key={event.seq} className={event.seq === action.data.event.seq ? 'current' : undefined}>
                <strong>{event.type}</strong> · {new Date(event.occurredAt).toLocaleString()} ·{' '}
                <AgentText>{asText(event.actor)}</AgentText>
                <br />
                <AgentText>{asText(event.before)}</AgentText> → <AgentText>{asText(event.after)}</AgentText>
                {event.reasons.length > 0 && ` · ${event.reasons.join(', ')}`}
                {event.policyVersion !== null && ` · policy v${event.policyVersion}`}
                {event.data !== null && event.data !== undefined && (
                  <>
                    <br />
                    <span className="muted">
                      <AgentText>{asText(event.data)}</AgentText>
                    </span>
                  </>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
