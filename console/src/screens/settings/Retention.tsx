import { useState } from 'react';
import {
  type RetentionPeriodsInput,
  type RetentionView,
  retentionPeriodsSchema,
} from '../../../../shared/retention-api.ts';
import { getJson, putJson } from '../../api.ts';
import { useLoad } from '../../use-load.ts';
import { OutcomeLine, useSubmit, validate } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';

type Period = keyof RetentionPeriodsInput;

const PERIODS: { field: Period; label: string }[] = [
  { field: 'changeRecordsDays', label: 'Change records of settled changes' },
  { field: 'draftsDays', label: 'Settled drafts' },
  { field: 'webhookPayloadsDays', label: 'CRM change events and field history' },
  { field: 'auditPersonalDataDays', label: 'Personal values in the audit log' },
];

/** How long the workspace keeps data that names people (issue 21; docs/retention.md): days, or blank for ever. */
export function Retention({ view }: SectionProps) {
  const [retention, reload] = useLoad(() => getJson<RetentionView>('/console/api/retention'), 'retention');
  if (retention.state === 'loading') return <p className="notice">Loading…</p>;
  if (retention.state === 'failed') return <p role="alert">{retention.message}</p>;
  return <RetentionForm retention={retention.data} editable={view.caller.permissions.publishPolicy} reload={reload} />;
}

function RetentionForm(props: { retention: RetentionView; editable: boolean; reload: () => Promise<void> }) {
  const { retention, editable } = props;
  const save = useSubmit();
  const [draft, setDraft] = useState<Record<Period, string>>(
    () =>
      Object.fromEntries(PERIODS.map(({ field }) => [field, String(retention.periods[field] ?? '')])) as Record<
        Period,
        string
      >,
  );
  const submit = () => {
    const periods = Object.fromEntries(
      PERIODS.map(({ field }) => [field, draft[field].trim() === '' ? null : Number(draft[field])]),
    );
    const checked = validate(retentionPeriodsSchema, periods);
    if (!checked.ok) return save.setOutcome({ kind: 'failed', message: checked.message });
    return save.run(
      () => putJson<RetentionView>('/console/api/retention', checked.value),
      async () => {
        await props.reload();
        return 'Saved: the retention job applies it from its next run.';
      },
    );
  };
  return (
    <section aria-label="Retention" className="card">
      <h2>Retention</h2>
      <p className="notice">
        Older data is deleted by the daily retention job; a blank period keeps it for ever. Audit events stay and show
        "[redacted]" where personal values were.
      </p>
      <table>
        <tbody>
          {PERIODS.map(({ field, label }) => (
            <tr key={field}>
              <td>
                <label htmlFor={`retention-${field}`}>{label} (days)</label>
              </td>
              <td>
                <input
                  id={`retention-${field}`}
                  inputMode="numeric"
                  size={6}
                  disabled={!editable}
                  value={draft[field]}
                  placeholder="for ever"
                  onChange={(event) => setDraft({ ...draft, [field]: event.target.value })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        {retention.running
          ? `Running since ${new Date(retention.running.startedAt).toLocaleString()}.`
          : `Next run: ${retention.nextRunAt ? new Date(retention.nextRunAt).toLocaleString() : 'once a period is set'}.`}
      </p>
      {editable && (
        <div className="actions">
          <button type="button" disabled={save.busy} onClick={() => void submit()}>
            Save retention
          </button>
        </div>
      )}
      <OutcomeLine outcome={save.outcome} />
    </section>
  );
}
