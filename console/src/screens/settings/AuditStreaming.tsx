import { useState } from 'react';
import {
  createSiemDestinationSchema,
  SIEM_KINDS,
  type SiemDestinationView,
  type SiemKind,
} from '../../../../shared/siem-api.ts';
import { settingsControls } from '../../../../shared/views/decision-controls.ts';
import { getJson, postJson } from '../../api.ts';
import { useLoad } from '../../use-load.ts';
import { numberOrAbsent, OutcomeLine, RemoveCell, useSubmit, validate } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';
import { visibleText } from '../../../../shared/views/display-text.ts';
import { AgentText } from '../../AgentText.tsx';

const KIND_LABEL: Record<SiemKind, string> = {
  otlp: 'OTLP/HTTP (OpenTelemetry logs)',
  splunk_hec: 'Splunk HTTP Event Collector',
  webhook: 'Signed webhook',
};

const SECRET_LABEL: Record<SiemKind, string> = {
  otlp: 'Bearer token (optional)',
  splunk_hec: 'HEC token',
  webhook: 'Signing secret (32 characters or more)',
};

/** Audit streaming (issue 22; docs/siem.md): each SIEM destination, how far it has got, and whether it fails. */
export function AuditStreaming({ view }: SectionProps) {
  const editable = settingsControls(view.caller.permissions).configureStreamingAndAlerts;
  const [list, reload] = useLoad(
    () => getJson<{ destinations: SiemDestinationView[] }>('/console/api/siem-destinations'),
    'siem-destinations',
  );
  const remove = useSubmit();
  return (
    <>
      <section aria-label="Audit streaming" className="card">
        <h2>Audit streaming</h2>
        <p className="notice">
          The audit chain is sent to each destination in order, at least once, from its own cursor. Secrets are kept
          sealed and never shown.
        </p>
        {list.state === 'loading' && <p className="notice">Loading…</p>}
        {list.state === 'failed' && <p role="alert">{list.message}</p>}
        {list.state === 'ready' &&
          (list.data.destinations.length === 0 ? (
            <p>No SIEM destination: the audit chain is not streamed anywhere.</p>
          ) : (
            <table aria-label="SIEM destinations">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Kind</th>
                  <th>URL</th>
                  <th>Sent</th>
                  <th>Status</th>
                  <th>Last error</th>
                  {editable && <th />}
                </tr>
              </thead>
              <tbody>
                {list.data.destinations.map((destination) => (
                  <tr key={destination.id}>
                    <td>
                      <AgentText>{destination.name}</AgentText>
                    </td>
                    <td>{destination.kind}</td>
                    <td>{visibleText(destination.url)}</td>
                    <td>
                      seq {destination.cursorSeq} of {destination.headSeq}
                    </td>
                    <td>{statusText(destination)}</td>
                    <td>{visibleText(destination.lastError ?? '')}</td>
                    {editable && (
                      <RemoveCell
                        what={visibleText(destination.name)}
                        warning="Streaming to it stops; its cursor is lost."
                        path={`/console/api/siem-destinations/${destination.id}`}
                        removed={`${visibleText(destination.name)} is removed: nothing more is streamed to it.`}
                        submit={remove}
                        reload={reload}
                      />
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
        <div className="actions">
          <button type="button" onClick={() => void reload()}>
            Refresh status
          </button>
        </div>
        <OutcomeLine outcome={remove.outcome} />
      </section>
      {editable && <AddDestination reload={reload} />}
    </>
  );
}

function statusText(destination: SiemDestinationView): string {
  switch (destination.status) {
    case 'current':
      return 'current';
    case 'behind':
      return `behind by ${destination.headSeq - destination.cursorSeq}`;
    case 'failing':
    case 'down':
      return `${destination.status} since ${new Date(destination.failingSince ?? destination.nextAttemptAt).toLocaleString()}`;
  }
}

function AddDestination({ reload }: { reload: () => Promise<void> }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<SiemKind>('otlp');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [downAfter, setDownAfter] = useState('900');
  const [startFrom, setStartFrom] = useState<'beginning' | 'now'>('beginning');
  const add = useSubmit();
  const submit = () => {
    const checked = validate(createSiemDestinationSchema, {
      name,
      kind,
      url,
      ...(secret === '' ? {} : { secret }),
      downAfterSeconds: numberOrAbsent(downAfter),
      startFrom,
    });
    if (!checked.ok) return add.setOutcome({ kind: 'failed', message: `The destination: ${checked.message}` });
    return add.run(
      () => postJson<SiemDestinationView>('/console/api/siem-destinations', checked.value),
      async (added) => {
        setName('');
        setUrl('');
        setSecret('');
        await reload();
        return `${visibleText(added.name)} is added: the audit chain is streamed to it from ${startFrom === 'now' ? 'now on' : 'its beginning'}.`;
      },
    );
  };
  return (
    <section aria-label="Add a SIEM destination" className="card">
      <h2>Add a SIEM destination</h2>
      <div className="actions">
        <label>
          Name <input value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label>
          Kind{' '}
          <select value={kind} onChange={(event) => setKind(event.target.value as SiemKind)}>
            {SIEM_KINDS.map((candidate) => (
              <option key={candidate} value={candidate}>
                {KIND_LABEL[candidate]}
              </option>
            ))}
          </select>
        </label>
        <label>
          URL <input size={40} value={url} onChange={(event) => setUrl(event.target.value)} />
        </label>
        <label>
          {SECRET_LABEL[kind]}{' '}
          <input
            type="password"
            autoComplete="off"
            value={secret}
            onChange={(event) => setSecret(event.target.value)}
          />
        </label>
        <label>
          Down after (seconds){' '}
          <input
            inputMode="numeric"
            size={7}
            value={downAfter}
            onChange={(event) => setDownAfter(event.target.value)}
          />
        </label>
        <label>
          Send{' '}
          <select value={startFrom} onChange={(event) => setStartFrom(event.target.value as 'beginning' | 'now')}>
            <option value="beginning">the whole audit chain</option>
            <option value="now">only events from now on</option>
          </select>
        </label>
        <button type="button" disabled={add.busy} onClick={submit}>
          Add destination
        </button>
      </div>
      <OutcomeLine outcome={add.outcome} />
    </section>
  );
}
