import { useLocation, useSearch } from 'wouter';
import type { PolicyVersionView } from '../../../../shared/console-settings-api.ts';
import { historyRows } from '../../../../shared/views/agents.ts';
import { settingsControls } from '../../../../shared/views/decision-controls.ts';
import { policyDiff } from '../../../../shared/views/policy-diff.ts';
import { getJson, postJson } from '../../api.ts';
import { useLoad } from '../../use-load.ts';
import { OutcomeLine, useSubmit } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';

/** Every published version, and two of them side by side (`?from=&to=`, so a diff can be shared as a link). */
export function Versions({ view, reload }: SectionProps) {
  const [, navigate] = useLocation();
  const search = new URLSearchParams(useSearch());
  const rows = historyRows(view);
  const newest = view.policy?.version ?? 0;
  const from = Number(search.get('from') ?? Math.max(newest - 1, 1));
  const to = Number(search.get('to') ?? newest);
  const pick = (next: { from?: number; to?: number }) =>
    navigate(`/versions?from=${next.from ?? from}&to=${next.to ?? to}`);
  const restore = useSubmit();
  const canRestore = settingsControls(view.caller.permissions).restorePolicy;
  return (
    <>
      <section aria-label="Versions" className="card">
        <h2>Published versions</h2>
        <table>
          <thead>
            <tr>
              <th>Version</th>
              <th>Published by</th>
              <th>At</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.version}>
                <td>{row.version === newest ? `${row.version} (in force)` : row.version}</td>
                <td>{row.publishedBy}</td>
                <td>{new Date(row.createdAt).toLocaleString()}</td>
                <td>
                  {canRestore && row.restorable && (
                    <button
                      type="button"
                      disabled={restore.busy}
                      onClick={() =>
                        restore.run(
                          () => postJson<{ version: number }>(`/console/api/policies/${row.version}/restore`),
                          async (result) => {
                            await reload();
                            return `Version ${row.version} published again as version ${result.version}.`;
                          },
                        )
                      }
                    >
                      Restore
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <OutcomeLine outcome={restore.outcome} />
      </section>
      {rows.length > 0 && (
        <section aria-label="Compare two versions" className="card">
          <h2>Compare two versions</h2>
          <div className="actions">
            <VersionSelect
              label="Left"
              value={from}
              versions={rows.map((row) => row.version)}
              onPick={(v) => pick({ from: v })}
            />
            <VersionSelect
              label="Right"
              value={to}
              versions={rows.map((row) => row.version)}
              onPick={(v) => pick({ to: v })}
            />
          </div>
          <Diff from={from} to={to} />
        </section>
      )}
    </>
  );
}

function VersionSelect(props: { label: string; value: number; versions: number[]; onPick: (version: number) => void }) {
  return (
    <label>
      {props.label}{' '}
      <select value={props.value} onChange={(event) => props.onPick(Number(event.target.value))}>
        {props.versions.map((version) => (
          <option key={version} value={version}>
            version {version}
          </option>
        ))}
      </select>
    </label>
  );
}

function Diff({ from, to }: { from: number; to: number }) {
  const [pair] = useLoad(
    () =>
      Promise.all([
        getJson<PolicyVersionView>(`/console/api/policies/${from}`),
        getJson<PolicyVersionView>(`/console/api/policies/${to}`),
      ]),
    `${from}:${to}`,
  );
  if (pair.state === 'loading') return <p className="notice">Loading…</p>;
  if (pair.state === 'failed') return <p role="alert">{pair.message}</p>;
  const [left, right] = pair.data;
  const rows = policyDiff(left.policy, right.policy);
  return (
    <>
      <table className="diff">
        <thead>
          <tr>
            <th>Setting</th>
            <th>Version {left.version}</th>
            <th>Version {right.version}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.path}>
              <td>
                <code>{row.path}</code>
              </td>
              <td className="removed">{row.left ?? '—'}</td>
              <td className="added">{row.right ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>{rows.length === 0 ? 'The two versions are the same.' : `${rows.length} setting(s) differ.`}</p>
      <details>
        <summary>Both documents whole</summary>
        <div className="side-by-side">
          <pre>{JSON.stringify(left.policy, null, 2)}</pre>
          <pre>{JSON.stringify(right.policy, null, 2)}</pre>
        </div>
      </details>
    </>
  );
}
