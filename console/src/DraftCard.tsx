import { useState } from 'react';
import { Link } from 'wouter';
import type { InboxView } from '../../shared/console-api.ts';
import { draftRefusalSentence } from '../../shared/views/decision-controls.ts';
import { AgentText } from './AgentText.tsx';
import { postJson } from './api.ts';
import { useInFlight } from './use-in-flight.ts';

type Draft = InboxView['drafts'][number];

/** What a person may change before approving: the subject and the body, as the server accepts. */
const EDITABLE = ['subject', 'body'] as const;

const KIND_LABELS: Record<Draft['kind'], string> = {
  send_email: 'Email',
  create_task: 'Task',
  create_note: 'Note',
};

/** A held email, task or note: what would go out now, as text (the agent wrote it), with approve and reject. */
export function DraftCard(props: { draft: Draft; canReadAudit: boolean; onDecided: () => void }) {
  const { draft } = props;
  const [mode, setMode] = useState<'idle' | 'edit' | 'reject'>('idle');
  const editable = EDITABLE.filter((field) => draft.content[field] !== undefined);
  const [edits, setEdits] = useState<Record<string, string>>(() =>
    Object.fromEntries(editable.map((field) => [field, draft.content[field] ?? ''])),
  );
  const changed = Object.fromEntries(Object.entries(edits).filter(([field, value]) => value !== draft.content[field]));
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, inFlight] = useInFlight();
  const decide = (body: unknown) =>
    inFlight(() =>
      postJson(`/console/api/drafts/${draft.id}/decisions`, body).then(props.onDecided, (failure: Error) =>
        setError(failure.message),
      ),
    );
  return (
    <article
      className="card"
      aria-label={`${KIND_LABELS[draft.kind]} draft on ${draft.objectType} ${draft.recordId}`}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a card is an article of the inbox's feed, which keys move between (ARIA feed pattern)
      tabIndex={0}
    >
      <header>
        {KIND_LABELS[draft.kind]} draft ·{' '}
        <Link href={`/records/${draft.objectType}/${draft.recordId}`}>
          {draft.objectType} {draft.recordId}
        </Link>{' '}
        · <AgentText>{draft.agent.name}</AgentText> · {draft.tier}
        {draft.edited && ' · edited by a person'}
        {props.canReadAudit && (
          <>
            {' · '}
            <Link href={`/audit/drafts/${draft.id}`}>its audit</Link>
          </>
        )}
      </header>
      <dl className="fields">
        {Object.entries(draft.content).map(([field, value]) => (
          <div key={field}>
            <dt>{field}</dt>
            <dd className="draft-text">
              <AgentText>{value}</AgentText>
            </dd>
          </div>
        ))}
      </dl>
      {!draft.decidable.ok && <p className="muted">{draftRefusalSentence(draft.decidable.code)}</p>}
      {draft.decidable.ok && mode === 'idle' && (
        <div className="actions">
          <button type="button" disabled={busy} onClick={() => decide({ kind: 'approve' })}>
            Approve draft
          </button>
          {editable.length > 0 && (
            <button type="button" onClick={() => setMode('edit')}>
              Edit draft then approve
            </button>
          )}
          <button type="button" onClick={() => setMode('reject')}>
            Reject draft
          </button>
        </div>
      )}
      {mode === 'edit' && (
        <form
          className="draft-edit"
          onSubmit={(event) => {
            event.preventDefault();
            void decide(Object.keys(changed).length > 0 ? { kind: 'approve', edits: changed } : { kind: 'approve' });
          }}
        >
          {draft.content.subject !== undefined && (
            <label>
              Subject{' '}
              <input
                value={edits.subject ?? ''}
                onChange={(event) => setEdits({ ...edits, subject: event.target.value })}
              />
            </label>
          )}
          {draft.content.body !== undefined && (
            <label>
              Body{' '}
              <textarea
                rows={6}
                value={edits.body ?? ''}
                onChange={(event) => setEdits({ ...edits, body: event.target.value })}
              />
            </label>
          )}
          <div className="actions">
            <button type="submit" disabled={busy}>
              Approve edited draft
            </button>
            <button type="button" onClick={() => setMode('idle')}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {mode === 'reject' && (
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
          <button type="submit" disabled={busy}>
            Reject with this reason
          </button>
          <button type="button" onClick={() => setMode('idle')}>
            Cancel
          </button>
        </form>
      )}
      {error && <p role="alert">{error}</p>}
    </article>
  );
}
