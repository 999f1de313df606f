import { type FormEvent, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import type { AuditVerification } from '../../../shared/admin-api.ts';
import type { ConsoleAuditPage } from '../../../shared/console-api.ts';
import type { AuditSearchResult } from '../../../shared/extension-api.ts';
import { getJson, postJson, query } from '../api.ts';
import { AgentText } from '../AgentText.tsx';
import { useLoad } from '../use-load.ts';
import { parseJson } from '../../../shared/json-text.ts';

const FILTERS = [
  { name: 'batch', label: 'Batch', type: 'text' },
  { name: 'record', label: 'Record id', type: 'text' },
  { name: 'agent', label: 'Agent id', type: 'text' },
  { name: 'person', label: 'Person (CRM user id)', type: 'text' },
  { name: 'type', label: 'Action kind (e.g. approval.decided)', type: 'text' },
  { name: 'from', label: 'From', type: 'datetime-local' },
  { name: 'to', label: 'To', type: 'datetime-local' },
] as const;

/** The form's local date and time as the instant the API takes, and back. */
function toInstant(local: string): string | undefined {
  const at = new Date(local);
  return local && !Number.isNaN(at.getTime()) ? at.toISOString() : undefined;
}
function toLocal(instant: string | null): string {
  if (!instant) return '';
  const at = new Date(instant);
  if (Number.isNaN(at.getTime())) return '';
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

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
            <td>
              {event.type}
              {event.actionId && (
                <>
                  {' · '}
                  <Link href={`/audit/drafts/${event.actionId}`}>the draft</Link>
                </>
              )}
            </td>
            <td>{event.recordId}</td>
            <td>{event.property}</td>
            <td>
              <AgentText>{asText(event.before)}</AgentText>
            </td>
            <td>
              <AgentText>{asText(event.after)}</AgentText>
            </td>
            <td>
              <AgentText>{asText(event.actor)}</AgentText>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function verdict(verified: AuditVerification): string {
  const broken = verified.ok ? undefined : verified.firstBadEvent;
  const chain = broken ? broken.message : `The chain holds: ${verified.events} event(s) verified.`;
  if (!verified.checkpoints) return chain;
  const { checked, firstBadCheckpoint } = verified.checkpoints;
  return firstBadCheckpoint
    ? `${chain} Checkpoint at event ${firstBadCheckpoint.seq} does not hold: ${firstBadCheckpoint.message}`
    : `${chain} ${checked} signed checkpoint(s) hold.`;
}

/**
 * The hash chain checked end to end, on demand (it reads every event); with the auditor's copy of
 * the checkpoint file, also against each signed checkpoint, which catches a rewritten or cut chain.
 */
function VerifyChain() {
  const [result, setResult] = useState<string | null>(null);
  const show = (promise: Promise<AuditVerification>) =>
    promise.then(
      (verified) => setResult(verdict(verified)),
      (failure: Error) => setResult(failure.message),
    );
  const withCheckpoints = async (file: File) => {
    const lines = (await file.text()).split('\n').filter((line) => line.trim() !== '');
    let checkpoints: unknown[];
    try {
      checkpoints = lines.map((line) => parseJson(line));
    } catch {
      setResult(`${file.name} is not a checkpoint file: each line must be one JSON checkpoint.`);
      return;
    }
    await show(postJson<AuditVerification>('/console/api/audit/verify', { checkpoints }));
  };
  return (
    <div className="actions">
      <button type="button" onClick={() => show(getJson<AuditVerification>('/console/api/audit/verify'))}>
        Verify the chain
      </button>
      <label>
        Verify against a checkpoint file{' '}
        <input
          type="file"
          accept=".ndjson,.jsonl,.txt,application/x-ndjson"
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) void withCheckpoints(file);
          }}
        />
      </label>
      {result && <span role="status">{result}</span>}
    </div>
  );
}

export function Audit() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const filters = Object.fromEntries(FILTERS.map(({ name }) => [name, params.get(name) ?? undefined]));
  const before = params.get('before') ?? undefined;
  const [events] = useLoad(
    () => getJson<ConsoleAuditPage>(`/console/api/audit${query({ ...filters, before })}`),
    search,
  );
  const applyFilters = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const value = (name: string, type: string) => {
      const given = String(form.get(name) ?? '');
      return type === 'datetime-local' ? toInstant(given) : given || undefined;
    };
    navigate(`/audit${query(Object.fromEntries(FILTERS.map(({ name, type }) => [name, value(name, type)])))}`);
  };
  return (
    <section>
      <h1>Audit</h1>
      <form className="filters" onSubmit={applyFilters} key={search}>
        {FILTERS.map(({ name, label, type }) => (
          <label key={name}>
            {label}{' '}
            <input
              name={name}
              type={type}
              defaultValue={type === 'datetime-local' ? toLocal(params.get(name)) : (params.get(name) ?? '')}
            />
          </label>
        ))}
        <button type="submit">Search</button>
      </form>
      <p className="actions">
        Export what this search matches (all pages, oldest first):{' '}
        <a href={`/console/api/audit/export${query({ ...filters, format: 'csv' })}`} download>
          CSV
        </a>
        <a href={`/console/api/audit/export${query({ ...filters, format: 'ndjson' })}`} download>
          NDJSON
        </a>
      </p>
      <VerifyChain />
      {events.state === 'loading' && <p className="notice">Loading…</p>}
      {events.state === 'failed' && <p role="alert">{events.message}</p>}
      {events.state === 'ready' && (
        <>
          <AuditTable events={events.data.events} />
          <nav aria-label="Pages" className="actions">
            {before && <Link href={`/audit${query(filters)}`}>Newest</Link>}
            {events.data.next !== null && (
              <Link href={`/audit${query({ ...filters, before: String(events.data.next) })}`}>Older events</Link>
            )}
          </nav>
        </>
      )}
    </section>
  );
}
