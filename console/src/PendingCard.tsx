import { useState } from 'react';
import type { ApprovalView } from '../../shared/approval-api.ts';
import type { PendingApprovalCard } from '../../shared/extension-api.ts';
import { decisionControls } from '../../shared/views/decision-controls.ts';
import {
  changedEdits,
  confidenceLabel,
  diffRows,
  editStartValues,
  type ShownValue,
  sourceLink,
} from '../../shared/views/proposal-view.ts';
import { Link } from 'wouter';
import { postJson } from './api.ts';
import { AgentText } from './AgentText.tsx';
import { useInFlight } from './use-in-flight.ts';

type Mode = 'idle' | 'edit' | 'reject';

/**
 * One held proposal as the HubSpot card shows it (same view functions), with its decisions.
 * Everything the agent wrote is rendered as text: React escapes it, and no HTML is ever set.
 */
export function PendingCard(props: {
  card: PendingApprovalCard;
  killSwitchEngaged: boolean;
  /** With the approval as the decision left it (`approved` while its write follows behind the answer). */
  onDecided: (decided: ApprovalView) => void;
  /** In the inbox, a decidable card can be picked for a batch decision. */
  selected?: boolean;
  onToggleSelected?: () => void;
}) {
  const { card } = props;
  const controls = decisionControls(card, { killSwitchEngaged: props.killSwitchEngaged });
  const rows = diffRows(card);
  const source = sourceLink(card.evidence);
  const [mode, setMode] = useState<Mode>('idle');
  const [edits, setEdits] = useState<Record<string, string>>(() => editStartValues(card));
  const changed = changedEdits(card, edits);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, inFlight] = useInFlight();
  const decide = (body: unknown) =>
    inFlight(() =>
      postJson<ApprovalView>(`/console/api/approvals/${card.approval.id}/decisions`, body).then(
        props.onDecided,
        (failure: Error) => setError(failure.message),
      ),
    );
  const { approval } = card;
  const firstApprovers = [...new Set(approval.items.flatMap((item) => item.approvedBy))];
  return (
    <article
      className={props.selected ? 'card selected' : 'card'}
      aria-label={`Proposal on ${approval.objectType} ${approval.recordId}`}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a card is an article of the inbox's feed, which keys move between (ARIA feed pattern)
      tabIndex={0}
      data-approval-id={approval.id}
    >
      <header>
        {props.onToggleSelected && card.decidable.ok && (
          <label className="select">
            <input type="checkbox" checked={props.selected ?? false} onChange={props.onToggleSelected} /> Select for a
            batch decision
          </label>
        )}{' '}
        <Link href={`/records/${approval.objectType}/${approval.recordId}`}>
          {approval.objectType} {approval.recordId}
        </Link>{' '}
        · <AgentText>{card.agent.name}</AgentText> · batch{' '}
        <Link href={`/batches/${encodeURIComponent(approval.batchId)}`}>
          <AgentText>{approval.batchId}</AgentText>
        </Link>{' '}
        · {approval.tier} · since {new Date(approval.createdAt).toLocaleString()}
      </header>
      <table>
        <thead>
          <tr>
            <th>Property</th>
            <th>Now</th>
            <th>Proposed</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.property}>
              <td>{row.property}</td>
              <td>
                <ValueText value={row.current} />
              </td>
              <td>
                {mode === 'edit' ? (
                  <input
                    aria-label={`New value for ${row.property}`}
                    value={edits[row.property] ?? ''}
                    onChange={(event) => setEdits({ ...edits, [row.property]: event.target.value })}
                  />
                ) : (
                  <ValueText value={row.edited ?? row.proposed} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {card.evidence && (
        <p className="evidence">
          {card.evidence.reason && (
            <span className="reason">
              <AgentText>{card.evidence.reason}</AgentText>
            </span>
          )}{' '}
          {confidenceLabel(card.evidence)}{' '}
          {source &&
            (source.href ? (
              <a href={source.href} rel="noreferrer noopener" target="_blank">
                <AgentText>{source.label}</AgentText>
              </a>
            ) : (
              <AgentText>{source.label}</AgentText>
            ))}
        </p>
      )}
      {approval.tier === 'two_person' && (
        <p className="two-person">
          {firstApprovers.length > 0
            ? `Two people must approve: approved first by user ${firstApprovers.join(', ')}; waiting for a second person.`
            : 'Two people must approve: nobody has approved yet.'}
        </p>
      )}
      {controls.unavailableReason && <p className="muted">{controls.unavailableReason}</p>}
      {mode === 'idle' && (
        <div className="actions">
          {controls.approve && (
            <button type="button" disabled={busy} onClick={() => decide({ kind: 'approve' })}>
              Approve
            </button>
          )}
          {controls.editThenApprove && (
            <button type="button" onClick={() => setMode('edit')}>
              Edit then approve
            </button>
          )}
          {controls.reject && (
            <button type="button" onClick={() => setMode('reject')}>
              Reject
            </button>
          )}
        </div>
      )}
      {mode === 'edit' && (
        <div className="actions">
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              decide(Object.keys(changed).length > 0 ? { kind: 'approve', edits: changed } : { kind: 'approve' })
            }
          >
            Approve edited values
          </button>
          <button type="button" onClick={() => setMode('idle')}>
            Cancel
          </button>
        </div>
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

/** A value as the card shows it; a shortened one opens whole on demand, so nobody approves text they could not read. */
function ValueText({ value }: { value: ShownValue }) {
  if (value.full === null) return <AgentText>{value.text}</AgentText>;
  return (
    <details className="whole-value">
      <summary>
        <AgentText>{value.text}</AgentText> (show the whole value)
      </summary>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must take focus for the keyboard to scroll it */}
      <div className="whole-value-text" tabIndex={0}>
        <AgentText>{value.full}</AgentText>
      </div>
    </details>
  );
}
