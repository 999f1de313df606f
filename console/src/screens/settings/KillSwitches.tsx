import { useState } from 'react';
import { killSwitchChangeSchema } from '../../../../shared/admin-api.ts';
import { recordMatchText } from '../../../../shared/views/policy-rules.ts';
import { putJson } from '../../api.ts';
import { OutcomeLine, useSubmit, validate } from './forms.tsx';
import { heldForSecondAdmin, isHeld, SECOND_ADMIN_NOTE } from './GovernanceRequests.tsx';
import type { SectionProps } from './Settings.tsx';
import type { KillSwitchScope as Scope } from '../../../../shared/kill-switch.ts';

/** The scoped switches (issue 21) one engages by naming a target; a segment by record condition is set through the API or CLI. */
const SCOPED: { scope: Scope; label: string; placeholder: string }[] = [
  { scope: 'segment', label: 'Segment (CRM list)', placeholder: 'list:42' },
  { scope: 'recipient_domain', label: 'Recipient domain', placeholder: 'acme.com' },
  { scope: 'template', label: 'Template family', placeholder: 'pricing-v2' },
  { scope: 'evidence_source', label: 'Evidence source', placeholder: 'apollo' },
];

/**
 * Every kill switch one may set: the workspace's, each agent's, each action kind's, and every
 * scoped switch ever set (a segment, a domain, a template family, an evidence source), with a
 * form to engage a new scoped one.
 */
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
    ...view.killSwitches
      .filter((entry) => SCOPED.some((scoped) => scoped.scope === entry.scope))
      .map((entry) => ({
        scope: entry.scope,
        target: entry.target,
        label:
          entry.scope === 'segment' && entry.condition
            ? `Records where ${recordMatchText(entry.condition)}`
            : `${SCOPED.find((scoped) => scoped.scope === entry.scope)!.label} ${entry.target ?? ''}`,
      })),
  ];
  const [scoped, setScoped] = useState<{ scope: Scope; target: string }>({ scope: 'recipient_domain', target: '' });
  const stateOf = (scope: Scope, target: string | null) =>
    view.killSwitches.find((entry) => entry.scope === scope && (entry.target ?? null) === (target || null));
  const set = (scope: Scope, target: string | null, engaged: boolean, key = `${scope}:${target ?? ''}`) => {
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
      {canSet && (
        <fieldset aria-label="Engage a scoped kill switch">
          <legend>Stop a segment, a recipient domain, a template family or an evidence source</legend>
          <select
            aria-label="Scope"
            value={scoped.scope}
            onChange={(event) => setScoped({ ...scoped, scope: event.target.value as Scope })}
          >
            {SCOPED.map((option) => (
              <option key={option.scope} value={option.scope}>
                {option.label}
              </option>
            ))}
          </select>
          <input
            aria-label="Target"
            placeholder={SCOPED.find((option) => option.scope === scoped.scope)!.placeholder}
            value={scoped.target}
            onChange={(event) => setScoped({ ...scoped, target: event.target.value })}
          />
          <input
            aria-label="Reason for the scoped switch"
            value={reasons['scoped'] ?? ''}
            onChange={(event) => setReasons({ ...reasons, scoped: event.target.value })}
          />
          <button
            type="button"
            disabled={change.busy || scoped.target.trim() === ''}
            onClick={() => set(scoped.scope, scoped.target.trim(), true, 'scoped')}
          >
            Engage
          </button>
        </fieldset>
      )}
      <OutcomeLine outcome={change.outcome} />
    </section>
  );
}
