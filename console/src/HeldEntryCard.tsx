import { useState } from 'react';
import { Link } from 'wouter';
import type { PendingRecordEntry } from '../../shared/extension-api.ts';
import { decisionControls } from '../../shared/views/decision-controls.ts';
import { heldEntrySentence, heldEntryWhy } from '../../shared/views/held-entry-view.ts';
import { AgentText } from './AgentText.tsx';
import { postJson } from './api.ts';
import { useInFlight } from './use-in-flight.ts';

/**
 * A held record creation or association (issue 21), in the words the HubSpot card uses, with
 * approve and reject: the whole entry, decided alone, or selected for the inbox's batch decision.
 * Agent text is rendered as text.
 */
export function HeldEntryCard(props: {
  entry: PendingRecordEntry;
  killSwitchEngaged: boolean;
  onDecided: () => void;
  selected?: boolean;
  onToggleSelected?: () => void;
}) {
  const { entry } = props;
  const held = entry.approval;
  const controls = decisionControls(entry, { killSwitchEngaged: props.killSwitchEngaged });
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, inFlight] = useInFlight();
  const decide = (body: unknown) =>
    inFlight(() =>
      postJson(`/console/api/${held.kind}s/${held.id}/decisions`, body).then(props.onDecided, (failure: Error) =>
        setError(failure.message),
      ),
    );
  const record = held.kind === 'association' ? held.recordId : held.duplicateOf;
  return (
    <article
      className={props.selected ? 'card selected' : 'card'}
      aria-label={`${held.kind === 'association' ? 'Link' : 'New record'} held for a person`}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a card is an article of the inbox's feed, which keys move between (ARIA feed pattern)
      tabIndex={0}
      data-entry-id={held.id}
    >
      <header>
        {props.onToggleSelected && entry.decidable.ok && (
          <label className="select">
            <input type="checkbox" checked={props.selected ?? false} onChange={props.onToggleSelected} /> Select for a
            batch decision
          </label>
        )}{' '}
        {held.kind === 'association' ? 'Link' : 'New record'} · batch <AgentText>{held.batchId}</AgentText> ·{' '}
        {held.tier}
        {record && (
          <>
            {' · '}
            <Link href={`/records/${held.objectType}/${record}`}>
              {held.objectType} {record}
            </Link>
          </>
        )}
      </header>
      <p>
        <AgentText>{heldEntrySentence(entry)}</AgentText>
      </p>
      <p className="muted">
        <AgentText>{heldEntryWhy(entry)}</AgentText>
      </p>
      {controls.unavailableReason && <p className="muted">{controls.unavailableReason}</p>}
      {!rejecting && (controls.approve || controls.reject) && (
        <div className="actions">
          {controls.approve && (
            <button type="button" disabled={busy} onClick={() => decide({ kind: 'approve' })}>
              Approve {held.kind === 'association' ? 'link' : 'new record'}
            </button>
          )}
          {controls.reject && (
            <button type="button" onClick={() => setRejecting(true)}>
              Reject {held.kind === 'association' ? 'link' : 'new record'}
            </button>
          )}
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
          <button type="submit" disabled={busy}>
            Reject with this reason
          </button>
          <button type="button" onClick={() => setRejecting(false)}>
            Cancel
          </button>
        </form>
      )}
      {error && <p role="alert">{error}</p>}
    </article>
  );
}
