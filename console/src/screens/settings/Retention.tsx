import { useState } from 'react';
import { type RetentionView, retentionPeriodsSchema } from '../../../../shared/retention-api.ts';
import {
  RETENTION_NOTE,
  RETENTION_PERIODS,
  RETENTION_SAVED,
  retentionFromTexts,
  retentionRunText,
  retentionTexts,
} from '../../../../shared/views/retention.ts';
import { settingsControls } from '../../../../shared/views/decision-controls.ts';
import { getJson, putJson } from '../../api.ts';
import { useLoad } from '../../use-load.ts';
import { OutcomeLine, useSubmit, validate } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';

/** How long the workspace keeps data that names people (issue 21; docs/retention.md): days, or blank for ever. */
export function Retention({ view }: SectionProps) {
  const [retention, reload] = useLoad(() => getJson<RetentionView>('/console/api/retention'), 'retention');
  if (retention.state === 'loading') return <p className="notice">Loading…</p>;
  if (retention.state === 'failed') return <p role="alert">{retention.message}</p>;
  return (
    <RetentionForm
      retention={retention.data}
      editable={settingsControls(view.caller.permissions).setRetention}
      reload={reload}
    />
  );
}

function RetentionForm(props: { retention: RetentionView; editable: boolean; reload: () => Promise<void> }) {
  const { retention, editable } = props;
  const save = useSubmit();
  const [draft, setDraft] = useState(() => retentionTexts(retention.periods));
  const submit = () => {
    const typed = retentionFromTexts(draft);
    if (!typed.ok) return save.setOutcome({ kind: 'failed', message: typed.message });
    const checked = validate(retentionPeriodsSchema, typed.periods);
    if (!checked.ok) return save.setOutcome({ kind: 'failed', message: checked.message });
    return save.run(
      () => putJson<RetentionView>('/console/api/retention', checked.value),
      async () => {
        await props.reload();
        return RETENTION_SAVED;
      },
    );
  };
  return (
    <section aria-label="Retention" className="card">
      <h2>Retention</h2>
      <p className="notice">{RETENTION_NOTE}</p>
      <table>
        <tbody>
          {RETENTION_PERIODS.map(({ field, label }) => (
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
      <p>{retentionRunText(retention)}</p>
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
