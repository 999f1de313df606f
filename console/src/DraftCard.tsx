import { useState } from 'react';
import { Link } from 'wouter';
import type { InboxView } from '../../shared/console-api.ts';
import { postJson } from './api.ts';

type Draft = InboxView['drafts'][number];

const KIND_LABELS: Record<Draft['kind'], string> = {
  send_email: 'Email',
  create_task: 'Task',
  create_note: 'Note',
};

/** A held email, task or note: what would go out now, as text (the agent wrote it), with approve and reject. */
export function DraftCard(props: { draft: Draft; onDecided: () => void }) {
  const { draft } = props;
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const decide = (body: unknown) =>
    postJson(`/console/api/drafts/${draft.id}/decisions`, body).then(props.onDecided, (failure: Error) =>
      setError(failure.message),
    );
  return (
    <article className="card" aria-label={`${KIND_LABELS[draft.kind]} draft on ${draft.objectType} ${draft.recordId}`}>
      <header>
        {KIND_LABELS[draft.kind]} draft ·{' '}
        <Link href={`/records/${draft.objectType}/${draft.recordId}`}>
          {draft.objectType} {draft.recordId}
        </Link>{' '}
        · {draft.agent.name} · {draft.tier}
        {draft.edited && ' · edited by a person'}
      </header>
      <dl className="fields">
        {Object.entries(draft.content).map(([field, value]) => (
          <div key={field}>
            <dt>{field}</dt>
            <dd className="draft-text">{value}</dd>
          </div>
        ))}
      </dl>
      {!draft.decidable.ok && <p className="muted">You cannot decide this draft ({draft.decidable.code}).</p>}
      {draft.decidable.ok && !rejecting && (
        <div className="actions">
          <button type="button" onClick={() => decide({ kind: 'approve' })}>
            Approve draft
          </button>
          <button type="button" onClick={() => setRejecting(true)}>
            Reject draft
          </button>
        </div>
      )}
      {rejecting && (
        <form
          className="actions"
          onSubmit={(event) => {
            event.preventDefault();
            void decide({ kind: 'reject', reason });
          }}
        >
          <label>
            Reason <input required value={reason} onChange={(event) => setReason(event.target.value)} />
          </label>
          <button type="submit">Reject with this reason</button>
          <button type="button" onClick={() => setRejecting(false)}>
            Cancel
          </button>
        </form>
      )}
      {error && <p role="alert">{error}</p>}
    </article>
  );
}
