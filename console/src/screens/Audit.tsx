import { type FormEvent, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import type { AuditVerification } from '../../../shared/admin-api.ts';
import type { AuditSearchResult } from '../../../shared/extension-api.ts';
import { getJson, query } from '../api.ts';
import { useLoad } from '../use-load.ts';

const FILTERS = [
  { name: 'batch', label: 'Batch' },
  { name: 'record', label: 'Record id' },
  { name: 'agent', label: 'Agent id' },
] as const;

/** Any value from the log, as text: actors, before and after are JSON the agents partly wrote. */
export function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function AuditTable(props: { events: AuditSearchResult['events'] }) {
  return (
    <table aria-label="Audit events">
      <thead>
        <tr>
          <th>#</th>
          <th>When</th>
          <th>What</th>
          <th>Record</th>
          <th>Property</th>
          <th>Before</th>
          <th>After</th>
          <th>Actor</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((event) => (
          <tr key={event.seq}>
            <td>
              <Link href={`/audit/${event.seq}`}>{event.seq}</Link>
            </td>
            <td>{new Date(event.occurredAt).toLocaleString()}</td>
            <td>{event.type}</td>
            <td>{event.recordId}</td>
            <td>{event.property}</td>
            <td>{asText(event.before)}</td>
            <td>{asText(event.after)}</td>
            <td>{asText(event.actor)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The hash chain checked end to end, on demand: it reads every event. */
function VerifyChain() {
  const [result, setResult] = useState<string | null>(null);
  const verify = () =>
    getJson<AuditVerification>('/console/api/audit/verify').then(
      (verified) =>
        setResult(
          verified.ok
            ? `The chain holds: ${verified.events} event(s) verified.`
            : (verified.firstBadEvent?.message ?? 'The chain does not hold.'),
        ),
      (failure: Error) => setResult(failure.message),
    );
  return (
    <p>
      <button type="button" onClick={verify}>
        Verify the chain
      </button>{' '}
      {result && <span role="status">{result}</span>}
    </p>
  );
}

export function Audit() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const [events] = useLoad(
    () =>
      getJson<AuditSearchResult>(
        `/console/api/audit${query(Object.fromEntries(FILTERS.map(({ name }) => [name, params.get(name) ?? undefined])))}`,
      ),
    search,
  );
  const applyFilters = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    navigate(
      `/audit${query(Object.fromEntries(FILTERS.map(({ name }) => [name, String(form.get(name) ?? '') || undefined])))}`,
    );
  };
  return (
    <section>
      <h1>Audit</h1>
      <form className="filters" onSubmit={applyFilters} key={search}>
        {FILTERS.map(({ name, label }) => (
          <label key={name}>
            {label} <input name={name} defaultValue={params.get(name) ?? ''} />
          </label>
        ))}
        <button type="submit">Search</button>
      </form>
      <VerifyChain />
      {events.state === 'loading' && <p className="notice">Loading…</p>}
      {events.state === 'failed' && <p role="alert">{events.message}</p>}
      {events.state === 'ready' && <AuditTable events={events.data.events} />}
    </section>
  );
}
