import type { AuditActionView, AuditEventView } from '../../../shared/console-api.ts';
import { getJson } from '../api.ts';
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
  { label: 'Evidence', value: (event) => asText(event.evidence) },
  { label: 'Reasons', value: (event) => event.reasons.join(', ') },
  { label: 'Policy version', value: (event) => (event.policyVersion === null ? '' : String(event.policyVersion)) },
  { label: 'Details (approvals, CRM result)', value: (event) => asText(event.data) },
  { label: 'Hash', value: (event) => event.hash },
];

/** One write reconstructed: the event, then the record's whole story in its batch, oldest first. */
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
                <dd>{value(action.data.event)}</dd>
              </div>
            ))}
          </dl>
          <h2>Its record in this batch, step by step</h2>
          <ol aria-label="The story">
            {action.data.story.map((event) => (
              <li key={event.seq} className={event.seq === action.data.event.seq ? 'current' : undefined}>
                <strong>{event.type}</strong> · {new Date(event.occurredAt).toLocaleString()} · {asText(event.actor)}
                <br />
                {asText(event.before)} → {asText(event.after)}
                {event.reasons.length > 0 && ` · ${event.reasons.join(', ')}`}
                {event.policyVersion !== null && ` · policy v${event.policyVersion}`}
                {event.data !== null && event.data !== undefined && (
                  <>
                    <br />
                    <span className="muted">{asText(event.data)}</span>
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
