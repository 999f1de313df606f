import * as Dialog from '@radix-ui/react-dialog';
import { type FormEvent, type KeyboardEvent, useEffect, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import type { BatchDecisionResult } from '../../../shared/approval-api.ts';
import { INBOX_CHANGED_EVENT, type InboxView, type UnwrittenApproval } from '../../../shared/console-api.ts';
import type { PendingApprovalCard, PendingRecordEntry } from '../../../shared/extension-api.ts';
import { manifestRows } from '../../../shared/views/batch-manifest.ts';
import { killSwitchNotice } from '../../../shared/views/proposal-view.ts';
import { visibleText } from '../../../shared/views/display-text.ts';
import { getJson, postJson, query } from '../api.ts';
import { AgentText } from '../AgentText.tsx';
import { DraftCard } from '../DraftCard.tsx';
import { HeldEntryCard } from '../HeldEntryCard.tsx';
import { PendingCard } from '../PendingCard.tsx';
import { useLoad } from '../use-load.ts';
import { useInFlight } from '../use-in-flight.ts';

const FILTERS = [
  { name: 'agent', label: 'Agent' },
  { name: 'batch', label: 'Batch' },
  { name: 'record', label: 'Record id' },
  { name: 'property', label: 'Property' },
  { name: 'olderThanMinutes', label: 'Waiting at least (minutes)' },
] as const;

type Pending = { kind: 'approve' } | { kind: 'reject'; reason: string };

/**
 * What waits for a person; the filters and the page live in the URL so a filtered inbox can be
 * shared. It reads itself again whenever the server says the workspace changed (server-sent
 * events). Keys: j / ↓ and k / ↑ move between items, x selects the focused one.
 */
export function Inbox() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const filters = Object.fromEntries(FILTERS.map(({ name }) => [name, params.get(name) ?? undefined]));
  const cursor = params.get('cursor') ?? undefined;
  const draftCursor = params.get('draftCursor') ?? undefined;
  const [inbox, reload] = useLoad(
    () => getJson<InboxView>(`/console/api/inbox${query({ ...filters, cursor, draftCursor })}`),
    search,
  );
  const agents = inbox.state === 'ready' ? inbox.data.agents : [];
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  // Decided here and no longer pending: gone from the list on the answer, before the page is read again.
  const [decided, setDecided] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => {
    const source = new EventSource('/console/api/inbox/events');
    source.addEventListener(INBOX_CHANGED_EVENT, reload);
    return () => source.close();
  }, [reload]);
  const items = inbox.state === 'ready' ? inbox.data.items.filter((card) => !decided.has(card.approval.id)) : [];
  const entries = inbox.state === 'ready' ? inbox.data.heldEntries : [];
  const shown = new Set([...items, ...entries].map((card) => card.approval.id));
  const chosen = items.filter((card) => selected.has(card.approval.id));
  const chosenEntries = entries.filter((entry) => selected.has(entry.approval.id));
  const toggle = (id: string) =>
    setSelected((before) => {
      const after = new Set([...before].filter((kept) => shown.has(kept)));
      if (after.has(id)) after.delete(id);
      else after.add(id);
      return after;
    });
  const applyFilters = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    navigate(
      `/inbox${query(Object.fromEntries(FILTERS.map(({ name }) => [name, String(form.get(name) ?? '') || undefined])))}`,
    );
  };
  return (
    <section>
      <h1>Inbox</h1>
      <form className="filters" onSubmit={applyFilters} key={search}>
        {FILTERS.map(({ name, label }) =>
          name === 'agent' ? (
            <label key={name}>
              {label}{' '}
              <select name="agent" defaultValue={params.get('agent') ?? ''} key={agents.length}>
                <AgentOptions agents={agents} chosen={params.get('agent') ?? ''} />
              </select>
            </label>
          ) : (
            <label key={name}>
              {label} <input name={name} defaultValue={params.get(name) ?? ''} />
            </label>
          ),
        )}
        <button type="submit">Filter</button>
      </form>
      {inbox.state === 'loading' && <p className="notice">Loading…</p>}
      {inbox.state === 'failed' && <p role="alert">{inbox.message}</p>}
      {inbox.state === 'ready' && (
        <>
          {killSwitchNotice(inbox.data.killSwitches) && (
            <p role="status" className="warning">
              {killSwitchNotice(inbox.data.killSwitches)}
            </p>
          )}
          {inbox.data.unwritten.length > 0 && <Unwritten approvals={inbox.data.unwritten} />}
          {items.length === 0 && inbox.data.drafts.length === 0 && inbox.data.heldEntries.length === 0 && (
            <p className="notice">Nothing waits for a decision.</p>
          )}
          {items.length + entries.length > 0 && (
            <BatchBar
              chosen={chosen}
              chosenEntries={chosenEntries}
              selectAll={() =>
                setSelected(new Set([...items, ...entries].filter((c) => c.decidable.ok).map((c) => c.approval.id)))
              }
              clear={() => setSelected(new Set())}
              onDecided={() => {
                setSelected(new Set());
                reload();
              }}
            />
          )}
          <div className="inbox-list" role="feed" aria-label="Waiting for a decision" onKeyDown={moveFocus(toggle)}>
            {items.map((card) => (
              <PendingCard
                key={card.approval.id}
                card={card}
                killSwitchEngaged={inbox.data.killSwitches.length > 0}
                onDecided={(approval) => {
                  if (approval.status !== 'pending') setDecided((before) => new Set([...before, approval.id]));
                  reload();
                }}
                selected={selected.has(card.approval.id)}
                onToggleSelected={() => toggle(card.approval.id)}
              />
            ))}
            {inbox.data.drafts.map((draft) => (
              <DraftCard
                key={draft.id}
                draft={draft}
                canReadAudit={inbox.data.caller.permissions.searchAudit}
                onDecided={reload}
              />
            ))}
            {inbox.data.heldEntries.map((entry) => (
              <HeldEntryCard
                key={entry.approval.id}
                entry={entry}
                killSwitchEngaged={inbox.data.killSwitches.length > 0}
                onDecided={reload}
                selected={selected.has(entry.approval.id)}
                onToggleSelected={() => toggle(entry.approval.id)}
              />
            ))}
          </div>
          <nav aria-label="Pages" className="actions">
            {cursor && <Link href={`/inbox${query(filters)}`}>First page</Link>}
            {inbox.data.next && <Link href={`/inbox${query({ ...filters, cursor: inbox.data.next })}`}>Next page</Link>}
            {draftCursor && <Link href={`/inbox${query(filters)}`}>Newest drafts</Link>}
            {inbox.data.draftsNext && (
              <Link href={`/inbox${query({ ...filters, draftCursor: inbox.data.draftsNext })}`}>More drafts</Link>
            )}
          </nav>
        </>
      )}
    </section>
  );
}

/**
 * The agent filter's choices, by name. The inbox answers the workspace's agents, so until it has,
 * the chosen id is the only choice (the select is mounted again once they come, keeping it).
 */
function AgentOptions(props: { agents: InboxView['agents']; chosen: string }) {
  const known = props.agents.some((agent) => agent.id === props.chosen);
  return (
    <>
      <option value="">Any agent</option>
      {props.agents.map((agent) => (
        <option key={agent.id} value={agent.id}>
          {visibleText(agent.name)}
        </option>
      ))}
      {props.chosen && !known && <option value={props.chosen}>{props.chosen}</option>}
    </>
  );
}

/** What people approved that was not written as they meant: the decision answered before the write, so its outcome shows here. */
function Unwritten(props: { approvals: UnwrittenApproval[] }) {
  return (
    <section className="unwritten" aria-label="Approved but not written">
      <h2>Approved but not written</h2>
      <ul>
        {props.approvals.map((approval) => (
          <li key={approval.approvalId} data-approval-id={approval.approvalId}>
            <Link href={`/records/${approval.objectType}/${approval.recordId}`}>
              {approval.objectType} {approval.recordId}
            </Link>{' '}
            · <AgentText>{approval.agentName}</AgentText> ·{' '}
            <AgentText>
              {Object.entries(approval.values)
                .map(([property, value]) => `${property} → ${value ?? '(empty)'}`)
                .join(', ')}
            </AgentText>{' '}
            · approved by user {approval.decidedBy.join(', ')} ·{' '}
            <strong>
              {approval.outcome === 'stale' ? 'not written: the record changed' : 'write failed, retrying'}
            </strong>
            {approval.message && <span className="muted"> {approval.message}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** j / ArrowDown and k / ArrowUp move focus between the list's cards; x toggles the focused card's selection. */
function moveFocus(toggle: (id: string) => void) {
  return (event: KeyboardEvent<HTMLElement>) => {
    const target = event.target as HTMLElement;
    if (target.closest('input, textarea, select')) return;
    const cards = [...event.currentTarget.querySelectorAll<HTMLElement>('article.card')];
    const current = cards.findIndex((card) => card === target || card.contains(target));
    const step = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 }[event.key];
    if (step !== undefined) {
      event.preventDefault();
      cards[Math.min(cards.length - 1, Math.max(0, current + step))]?.focus();
    } else if (event.key === 'x' && current !== -1) {
      const card = cards[current];
      const id = card?.dataset.approvalId ?? card?.dataset.entryId;
      if (id) toggle(id);
    }
  };
}

/**
 * Batch decisions: the selection (held field changes, creations and links), then a manifest naming
 * every item that will be decided, then one confirmation.
 */
function BatchBar(props: {
  chosen: PendingApprovalCard[];
  chosenEntries: PendingRecordEntry[];
  selectAll: () => void;
  clear: () => void;
  onDecided: () => void;
}) {
  const [pending, setPending] = useState<Pending | null>(null);
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState<string | null>(null);
  const [busy, inFlight] = useInFlight();
  const confirm = (decision: Pending) =>
    inFlight(() =>
      postJson<BatchDecisionResult>('/console/api/approvals/batch-decisions', {
        ...decision,
        approvalIds: [...props.chosen, ...props.chosenEntries].map((card) => card.approval.id),
      }).then(
        (result) => {
          setPending(null);
          setOutcome(
            // Answered before the CRM writes: what fails to be written shows under "Approved but not written".
            `${result.summary.decided} decided, ${result.summary.refused} refused${decision.kind === 'approve' ? '; what was approved is being made in the CRM' : ''}.`,
          );
          props.onDecided();
        },
        (failure: Error) => setOutcome(failure.message),
      ),
    );
  const count = props.chosen.length + props.chosenEntries.length;
  return (
    <div className="actions batch-bar">
      <span>{count} selected</span>
      <button type="button" onClick={props.selectAll}>
        Select all decidable on this page
      </button>
      {count > 0 && (
        <>
          <button type="button" onClick={props.clear}>
            Clear selection
          </button>
          <button type="button" onClick={() => setPending({ kind: 'approve' })}>
            Approve selected…
          </button>
          <button type="button" onClick={() => setPending({ kind: 'reject', reason: '' })}>
            Reject selected…
          </button>
        </>
      )}
      {outcome && <span role="status">{outcome}</span>}
      {/* Not modal: a modal dialog locks scrolling with an injected <style>, which the CSP refuses. */}
      <Dialog.Root modal={false} open={pending !== null} onOpenChange={(open) => !open && setPending(null)}>
        <Dialog.Portal>
          <Dialog.Content className="dialog manifest" aria-describedby={undefined}>
            <Dialog.Title>
              {pending?.kind === 'reject' ? 'Reject' : 'Approve'} these {count} item(s)?
            </Dialog.Title>
            <table aria-label="Manifest">
              <thead>
                <tr>
                  <th>Record</th>
                  <th>Change</th>
                  <th>What it does</th>
                  <th>Agent</th>
                  <th>Batch</th>
                </tr>
              </thead>
              <tbody>
                {manifestRows(props.chosen, props.chosenEntries).map((row) => (
                  <tr key={row.key}>
                    <td>{row.record}</td>
                    <td>{row.change}</td>
                    <td>
                      <AgentText>{row.value}</AgentText>
                    </td>
                    <td>
                      <AgentText>{row.agent}</AgentText>
                    </td>
                    <td>
                      <AgentText>{row.batch}</AgentText>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <form
              className="actions"
              onSubmit={(event) => {
                event.preventDefault();
                void confirm(pending?.kind === 'reject' ? { kind: 'reject', reason } : { kind: 'approve' });
              }}
            >
              {pending?.kind === 'reject' && (
                <label>
                  Reason <input required value={reason} onChange={(event) => setReason(event.target.value)} />
                </label>
              )}
              <button type="submit" disabled={busy}>
                Confirm {pending?.kind === 'reject' ? 'rejection' : 'approval'}
              </button>
              <Dialog.Close asChild>
                <button type="button">Cancel</button>
              </Dialog.Close>
            </form>
          </Dialog.Content>
        </Dialog.Portal>
      </Dialog.Root>
    </div>
  );
}
