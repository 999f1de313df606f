import { useState } from 'react';
import { killSwitchChangeSchema } from '../../../../shared/admin-api.ts';
import { putJson } from '../../api.ts';
import { OutcomeLine, useSubmit, validate } from './forms.tsx';
import { heldForSecondAdmin, isHeld, SECOND_ADMIN_NOTE } from './GovernanceRequests.tsx';
import type { SectionProps } from './Settings.tsx';

type Scope = 'workspace' | 'agent' | 'action';

/** Every kill switch one may set: the workspace's, each agent's, each action kind's; engaged ones first. */
export function KillSwitches({ view, reload }: SectionProps) {
  const canSet = view.caller.permissions.setKillSwitches;
  const change = useSubmit();
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const switches: { scope: Scope; target: string | null; label: string }[] = [
    { scope: 'workspace', target: null, label: 'The whole workspace' },
    ...view.agents
      .filter((agent) => agent.status !== 'revoked')
      .map((agent) => ({ scope: 'agent' as const, target: agent.id, label: `Agent ${agent.name}` })),
    ...view.actionKinds.map((kind) => ({ scope: 'action' as const, target: kind, label: `Action ${kind}` })),
  ];
  const stateOf = (scope: Scope, target: string | null) =>
    view.killSwitches.find((entry) => entry.scope === scope && (entry.target ?? null) === (target || null));
  const set = (scope: Scope, target: string | null, engaged: boolean) => {
    const key = `${scope}:${target ?? ''}`;
    const checked = validate(killSwitchChangeSchema, {
      scope,
      ...(target ? { target } : {}),
      engaged,
      reason: reasons[key] ?? '',
    });
    if (!checked.ok) return change.setOutcome({ kind: 'failed', message: `Give a reason: ${checked.message}` });
    return change.run(
      () => heldForSecondAdmin(putJson('/console/api/kill-switches', checked.value)),
      async (result) => {
        await reload();
        setReasons({ ...reasons, [key]: '' });
        if (isHeld(result)) return `Not released yet: ${SECOND_ADMIN_NOTE}`;
        return engaged ? 'Engaged: it stops at once.' : 'Released.';
      },
    );
  };
  return (
    <section aria-label="Kill switches" className="card">
      <h2>Kill switches</h2>
      <table>
        <thead>
          <tr>
            <th>Switch</th>
            <th>State</th>
            <th>Last change</th>
            {canSet && <th>Reason</th>}
            {canSet && <th />}
          </tr>
        </thead>
        <tbody>
          {switches.map(({ scope, target, label }) => {
            const state = stateOf(scope, target);
            const key = `${scope}:${target ?? ''}`;
            return (
              <tr key={key} className={state?.engaged ? 'engaged' : undefined}>
                <td>{label}</td>
                <td>{state?.engaged ? 'ENGAGED' : 'released'}</td>
                <td>
                  {state ? `${state.reason} (${state.changedBy}, ${new Date(state.changedAt).toLocaleString()})` : '—'}
                </td>
                {canSet && (
                  <td>
                    <input
                      aria-label={`Reason for ${label}`}
                      value={reasons[key] ?? ''}
                      onChange={(event) => setReasons({ ...reasons, [key]: event.target.value })}
                    />
                  </td>
                )}
                {canSet && (
                  <td>
                    <button type="button" disabled={change.busy} onClick={() => set(scope, target, !state?.engaged)}>
                      {state?.engaged ? 'Release' : 'Engage'}
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      <OutcomeLine outcome={change.outcome} />
    </section>
  );
}
