import { useState } from 'react';
import { killSwitchChangeSchema } from '../../../../shared/admin-api.ts';
import type { SegmentCondition } from '../../../../shared/kill-switch.ts';
import { regressionFailures } from '../../../../shared/views/agents.ts';
import { settingsControls } from '../../../../shared/views/decision-controls.ts';
import { MATRIX_OBJECT_TYPES } from '../../../../shared/views/policy-matrix.ts';
import { visibleText } from '../../../../shared/views/display-text.ts';
import {
  RECORD_MATCH_OP_NAMES,
  recordMatchText,
  type SegmentConditionFields,
  segmentConditionFrom,
} from '../../../../shared/views/policy-rules.ts';
import { ApiError, putJson } from '../../api.ts';
import { OutcomeLine, useSubmit, validate } from './forms.tsx';
import { heldForSecondAdmin, isHeld, SECOND_ADMIN_NOTE } from './GovernanceRequests.tsx';
import type { SectionProps } from './Settings.tsx';
import type { KillSwitchScope as Scope } from '../../../../shared/kill-switch.ts';

/** The scoped switches (issue 21) one engages by naming a target; a segment by record condition has its own form. */
const SCOPED: { scope: Scope; label: string; placeholder: string }[] = [
  { scope: 'segment', label: 'Segment (CRM list)', placeholder: 'list:42' },
  { scope: 'recipient_domain', label: 'Recipient domain', placeholder: 'acme.com' },
  { scope: 'template', label: 'Template family', placeholder: 'pricing-v2' },
  { scope: 'evidence_source', label: 'Evidence source', placeholder: 'apollo' },
];

/** What a release is sent again with when an owner forces it past a failing regression set. */
interface Release {
  scope: Scope;
  target: string | null;
  key: string;
}

/**
 * Every kill switch one may set: the workspace's, each agent's, each action kind's, and every
 * scoped switch ever set (a segment, a domain, a template family, an evidence source), with forms
 * to engage a new scoped one and to stop the records matching a condition. An agent a kill trigger
 * stopped is released only once its regression set passes, or by an owner forcing it past the
 * failures the server names (as on the HubSpot settings page).
 */
export function KillSwitches({ view, reload }: SectionProps) {
  const canSet = view.caller.permissions.setKillSwitches;
  const { forceRelease } = settingsControls(view.caller.permissions);
  const change = useSubmit();
  const [refused, setRefused] = useState<{ release: Release; reason: string; failures: string[] } | null>(null);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const switches: { scope: Scope; target: string | null; label: string }[] = [
    { scope: 'workspace', target: null, label: 'The whole workspace' },
    ...view.agents
      .filter((agent) => agent.status !== 'revoked')
      .map((agent) => ({ scope: 'agent' as const, target: agent.id, label: `Agent ${visibleText(agent.name)}` })),
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
  const send = (
    input: { scope: Scope; target?: string; condition?: SegmentCondition; engaged: boolean; force?: boolean },
    key: string,
    reason: string,
  ) => {
    const checked = validate(killSwitchChangeSchema, { ...input, reason });
    if (!checked.ok) return change.setOutcome({ kind: 'failed', message: `Give a reason: ${checked.message}` });
    setRefused(null);
    return change.run(
      () =>
        heldForSecondAdmin(putJson('/console/api/kill-switches', checked.value)).catch((error: unknown) => {
          const failures = error instanceof ApiError ? regressionFailures(error) : null;
          if (failures && input.target)
            setRefused({ release: { scope: input.scope, target: input.target, key }, reason, failures });
          throw error;
        }),
      async (result) => {
        await reload();
        setReasons({ ...reasons, [key]: '' });
        if (isHeld(result)) return `Not released yet: ${SECOND_ADMIN_NOTE}`;
        if (input.force) return 'Released past its failing regression set; the audit log keeps the failures.';
        return input.engaged ? 'Engaged: it stops at once.' : 'Released.';
      },
    );
  };
  const set = (scope: Scope, target: string | null, engaged: boolean, key = `${scope}:${target ?? ''}`) =>
    send({ scope, ...(target ? { target } : {}), engaged }, key, reasons[key] ?? '');
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
                  {state
                    ? `${visibleText(state.reason)} (${visibleText(state.changedBy)}, ${new Date(state.changedAt).toLocaleString()})`
                    : '—'}
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
      {refused && (
        <section aria-label="Release refused" className="warning">
          <p>Not released: its regression set fails under the policy in force.</p>
          <ul>
            {refused.failures.map((failure) => (
              <li key={failure}>{failure}</li>
            ))}
          </ul>
          {forceRelease ? (
            <button
              type="button"
              disabled={change.busy}
              onClick={() =>
                send(
                  {
                    scope: refused.release.scope,
                    target: refused.release.target ?? undefined,
                    engaged: false,
                    force: true,
                  },
                  refused.release.key,
                  refused.reason,
                )
              }
            >
              Release anyway (audited with these failures)
            </button>
          ) : (
            <p className="muted">Fix the policy or the cases, or ask an owner to release it anyway.</p>
          )}
        </section>
      )}
      {canSet && (
        <SegmentByCondition
          busy={change.busy}
          reason={reasons['condition'] ?? ''}
          onReason={(reason) => setReasons({ ...reasons, condition: reason })}
          onStop={(condition) =>
            send({ scope: 'segment', condition, engaged: true }, 'condition', reasons['condition'] ?? '')
          }
        />
      )}
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

/** A segment by record condition (issue 21): agents stop acting on the records it matches when read. */
function SegmentByCondition(props: {
  busy: boolean;
  reason: string;
  onReason: (reason: string) => void;
  onStop: (condition: SegmentCondition) => void;
}) {
  const [fields, setFields] = useState<SegmentConditionFields>({
    objectType: 'contacts',
    property: '',
    op: 'eq',
    operand: '',
  });
  const noOperand = fields.op === 'is_empty' || fields.op === 'not_empty';
  const condition = segmentConditionFrom(fields);
  return (
    <fieldset aria-label="Stop records matching a condition">
      <legend>Stop the records matching a condition (checked when an agent reads or writes one)</legend>
      <select
        aria-label="Object type"
        value={fields.objectType}
        onChange={(event) =>
          setFields({ ...fields, objectType: event.target.value as SegmentConditionFields['objectType'] })
        }
      >
        {MATRIX_OBJECT_TYPES.map((objectType) => (
          <option key={objectType} value={objectType}>
            {objectType}
          </option>
        ))}
      </select>
      <input
        aria-label="Property"
        placeholder="lifecyclestage"
        value={fields.property}
        onChange={(event) => setFields({ ...fields, property: event.target.value })}
      />
      <select
        aria-label="Is"
        value={fields.op}
        onChange={(event) => setFields({ ...fields, op: event.target.value as SegmentConditionFields['op'] })}
      >
        {RECORD_MATCH_OP_NAMES.map((op) => (
          <option key={op} value={op}>
            {op}
          </option>
        ))}
      </select>
      {!noOperand && (
        <input
          aria-label={fields.op === 'in' ? 'Values (comma-separated)' : 'Value'}
          value={fields.operand}
          onChange={(event) => setFields({ ...fields, operand: event.target.value })}
        />
      )}
      <input
        aria-label="Reason for stopping these records"
        value={props.reason}
        onChange={(event) => props.onReason(event.target.value)}
      />
      <span className="muted">{condition.property ? `Records where ${recordMatchText(condition)}` : ''}</span>
      <button type="button" disabled={props.busy || condition.property === ''} onClick={() => props.onStop(condition)}>
        Stop these records
      </button>
    </fieldset>
  );
}
