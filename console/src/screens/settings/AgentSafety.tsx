import { Fragment, useState } from 'react';
import {
  type AgentSafetyView,
  type RegressionRun,
  type RegressionSet,
  changeAcceptanceSchema,
  regressionSetSchema,
} from '../../../../shared/agent-safety-api.ts';
import { parseJson } from '../../../../shared/json-text.ts';
import { visibleText } from '../../../../shared/views/display-text.ts';
import {
  acceptableGates,
  GATE_ACCEPTED,
  GATE_BUTTON,
  regressionRunText,
  safetyFacts,
} from '../../../../shared/views/agents.ts';
import { getJson, postJson, putJson } from '../../api.ts';
import { useLoad } from '../../use-load.ts';
import { OutcomeLine, useSubmit, validate } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';

/**
 * Safe re-enable and gates on change (issue 21), per agent: what holds its writes now, accepting a
 * new prompt hash or the day's volume, and its regression set, edited as JSON and run on demand.
 */
export function AgentSafety({ view }: SectionProps) {
  const agents = view.agents.filter((agent) => agent.status !== 'revoked');
  const [agentId, setAgentId] = useState(agents[0]?.id ?? '');
  if (!agentId) return null;
  return (
    <section aria-label="Agent safety" className="card">
      <h2>Agent safety</h2>
      <label>
        Agent{' '}
        <select value={agentId} onChange={(event) => setAgentId(event.target.value)}>
          {agents.map((agent) => (
            <option key={agent.id} value={agent.id}>
              {visibleText(agent.name)}
            </option>
          ))}
        </select>
      </label>
      <SafetyOf key={agentId} agentId={agentId} manage={view.caller.permissions.manageAgents} />
    </section>
  );
}

function SafetyOf({ agentId, manage }: { agentId: string; manage: boolean }) {
  const [safety, reloadSafety] = useLoad(
    () => getJson<AgentSafetyView>(`/console/api/agents/${agentId}/safety`),
    `safety-${agentId}`,
  );
  const [set] = useLoad(
    () => getJson<RegressionSet>(`/console/api/agents/${agentId}/regression-set`),
    `set-${agentId}`,
  );
  const [reason, setReason] = useState('');
  const accept = useSubmit();
  const acceptChange = (gate: 'prompt' | 'volume') => {
    const checked = validate(changeAcceptanceSchema, { gate, reason });
    if (!checked.ok) return accept.setOutcome({ kind: 'failed', message: `The acceptance: ${checked.message}` });
    return accept.run(
      () => postJson(`/console/api/agents/${agentId}/change-acceptances`, checked.value),
      async () => {
        setReason('');
        await reloadSafety();
        return GATE_ACCEPTED[gate];
      },
    );
  };
  return (
    <>
      {safety.state === 'failed' && <p role="alert">{safety.message}</p>}
      {safety.state === 'ready' && (
        <dl aria-label="Safety state">
          {safetyFacts(safety.data).map(({ label, value }) => (
            <Fragment key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </Fragment>
          ))}
        </dl>
      )}
      {manage && safety.state === 'ready' && acceptableGates(safety.data).length > 0 && (
        <div className="actions">
          <label>
            Reason <input value={reason} onChange={(event) => setReason(event.target.value)} />
          </label>
          {acceptableGates(safety.data).map((gate) => (
            <button key={gate} type="button" disabled={accept.busy} onClick={() => acceptChange(gate)}>
              {GATE_BUTTON[gate]}
            </button>
          ))}
        </div>
      )}
      <OutcomeLine outcome={accept.outcome} />
      {set.state === 'failed' && <p role="alert">{set.message}</p>}
      {set.state === 'ready' && <RegressionEditor agentId={agentId} initial={set.data} manage={manage} />}
    </>
  );
}

function RegressionEditor({ agentId, initial, manage }: { agentId: string; initial: RegressionSet; manage: boolean }) {
  const [text, setText] = useState(JSON.stringify(initial, null, 2));
  const [run, setRun] = useState<RegressionRun | null>(null);
  const save = useSubmit();
  const check = useSubmit();
  const store = () => {
    let document: unknown;
    try {
      document = parseJson(text);
    } catch (error) {
      return save.setOutcome({
        kind: 'failed',
        message: `The regression set is not JSON: ${(error as Error).message}`,
      });
    }
    const checked = validate(regressionSetSchema, document);
    if (!checked.ok) return save.setOutcome({ kind: 'failed', message: `The regression set: ${checked.message}` });
    return save.run(
      () => putJson<RegressionSet>(`/console/api/agents/${agentId}/regression-set`, checked.value),
      (stored) => `Stored ${stored.cases.length} case(s).`,
    );
  };
  return (
    <section aria-label="Regression set">
      <h3>Regression set</h3>
      <textarea
        aria-label="Regression cases (JSON)"
        rows={12}
        value={text}
        readOnly={!manage}
        onChange={(event) => setText(event.target.value)}
      />
      <div className="actions">
        {manage && (
          <button type="button" disabled={save.busy} onClick={store}>
            Save cases
          </button>
        )}
        <button
          type="button"
          disabled={check.busy}
          onClick={() =>
            check.run(
              () => postJson<RegressionRun>(`/console/api/agents/${agentId}/regression-runs`),
              (result) => {
                setRun(result);
                return regressionRunText(result);
              },
            )
          }
        >
          Run
        </button>
      </div>
      <OutcomeLine outcome={save.outcome} />
      <OutcomeLine outcome={check.outcome} />
      {run && run.failures.length > 0 && (
        <ul aria-label="Regression failures">
          {run.failures.map((failure) => (
            <li key={failure}>{failure}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
