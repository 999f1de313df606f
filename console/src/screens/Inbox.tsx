import type { FormEvent } from 'react';
import { useLocation, useSearch } from 'wouter';
import type { InboxView } from '../../../shared/console-api.ts';
import { killSwitchNotice } from '../../../shared/views/proposal-view.ts';
import { getJson, query } from '../api.ts';
import { DraftCard } from '../DraftCard.tsx';
import { PendingCard } from '../PendingCard.tsx';
import { useLoad } from '../use-load.ts';

const FILTERS = [
  { name: 'agent', label: 'Agent id' },
  { name: 'batch', label: 'Batch' },
  { name: 'record', label: 'Record id' },
  { name: 'property', label: 'Property' },
  { name: 'olderThanMinutes', label: 'Waiting at least (minutes)' },
] as const;

/** What waits for a person; the filters live in the URL so a filtered inbox can be shared. */
export function Inbox() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const [inbox, reload] = useLoad(
    () =>
      getJson<InboxView>(
        `/console/api/inbox${query(Object.fromEntries(FILTERS.map(({ name }) => [name, params.get(name) ?? undefined])))}`,
      ),
    search,
  );
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
        {FILTERS.map(({ name, label }) => (
          <label key={name}>
            {label} <input name={name} defaultValue={params.get(name) ?? ''} />
          </label>
        ))}
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
          {inbox.data.items.length === 0 && inbox.data.drafts.length === 0 && (
            <p className="notice">Nothing waits for a decision.</p>
          )}
          {inbox.data.items.map((card) => (
            <PendingCard
              key={card.approval.id}
              card={card}
              killSwitchEngaged={inbox.data.killSwitches.length > 0}
              onDecided={reload}
            />
          ))}
          {inbox.data.drafts.map((draft) => (
            <DraftCard key={draft.id} draft={draft} onDecided={reload} />
          ))}
        </>
      )}
    </section>
  );
}
