import { useEffect, useState } from 'react';
import { DEFAULT_MONITORING, type MonitoringSettings, type Policy } from '../../../../shared/policy.ts';

interface EditorProps {
  policy: Policy;
  editable: boolean;
  onChange: (policy: Policy) => void;
}

type KillTriggers = MonitoringSettings['killTriggers'];

/** A typed number, nothing (the field was cleared), or null when the text is no number (the draft keeps its value). */
function numberInput(text: string): number | undefined | null {
  if (text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** How long a held change waits for a person before it expires (the policy's `approvals.expiryHours`). */
export function ApprovalExpiry({ policy, editable, onChange }: EditorProps) {
  return (
    <section aria-label="Approval expiry" className="card">
      <h2>Approval expiry</h2>
      <label>
        A held change expires after (hours){' '}
        <input
          inputMode="decimal"
          size={6}
          disabled={!editable}
          defaultValue={policy.approvals.expiryHours}
          onBlur={(event) => {
            const value = numberInput(event.target.value);
            // Cleared: the schema's default (72 hours) applies, as in a document that leaves it out.
            const expiryHours = value === undefined ? 72 : value;
            if (expiryHours === null || expiryHours === policy.approvals.expiryHours) return;
            onChange({ ...policy, approvals: { expiryHours } });
          }}
        />
      </label>
    </section>
  );
}

/**
 * What the server does about changes it sees in the CRM afterwards: reverting writes that went
 * around the governance API, which integrations are agents' own, and the kill triggers.
 */
export function Monitoring({ policy, editable, onChange }: EditorProps) {
  const monitoring = policy.monitoring ?? DEFAULT_MONITORING;
  const set = (next: MonitoringSettings) => onChange({ ...policy, monitoring: next });
  const setTriggers = (killTriggers: KillTriggers) => set({ ...monitoring, killTriggers });
  const triggers = monitoring.killTriggers;
  return (
    <section aria-label="Monitoring" className="card">
      <h2>Monitoring of CRM changes</h2>
      <label>
        <input
          type="checkbox"
          disabled={!editable}
          checked={monitoring.revertBypassWrites}
          onChange={(event) => set({ ...monitoring, revertBypassWrites: event.target.checked })}
        />{' '}
        Write a bypass write back to the value before it
      </label>
      <label>
        Agents’ own integrations, one a line as <code>source id = agent name</code> (their writes around the API count
        against that agent)
        <textarea
          rows={3}
          disabled={!editable}
          defaultValue={Object.entries(monitoring.integrations)
            .map(([sourceId, agent]) => `${sourceId} = ${agent}`)
            .join('\n')}
          onBlur={(event) => {
            const integrations = integrationsFrom(event.target.value);
            if (JSON.stringify(integrations) !== JSON.stringify(monitoring.integrations))
              set({ ...monitoring, integrations });
          }}
        />
      </label>
      <h3>Kill triggers (a field left empty turns its trigger off)</h3>
      <table>
        <thead>
          <tr>
            <th>Engage an agent’s kill switch when</th>
            <th>Setting</th>
          </tr>
        </thead>
        <tbody>
          <TriggerRow
            label="bypass writes in the window reach"
            field="Bypass writes threshold"
            value={triggers.bypassWrites?.threshold}
            editable={editable}
            onValue={(threshold) => {
              const { bypassWrites, ...rest } = triggers;
              setTriggers(
                threshold === undefined
                  ? rest
                  : { ...rest, bypassWrites: { threshold, windowMinutes: bypassWrites?.windowMinutes ?? 60 } },
              );
            }}
          />
          <TriggerRow
            label="… counted over (minutes)"
            field="Bypass writes window minutes"
            value={triggers.bypassWrites?.windowMinutes}
            editable={editable && triggers.bypassWrites !== undefined}
            onValue={(windowMinutes) => {
              if (!triggers.bypassWrites) return;
              setTriggers({
                ...triggers,
                bypassWrites: { threshold: triggers.bypassWrites.threshold, windowMinutes: windowMinutes ?? 60 },
              });
            }}
          />
          <TriggerRow
            label="its writes landing in the CRM in one minute exceed"
            field="Write velocity per minute"
            value={triggers.writeVelocity?.perMinute}
            editable={editable}
            onValue={(perMinute) => {
              const { writeVelocity: _old, ...rest } = triggers;
              setTriggers(perMinute === undefined ? rest : { ...rest, writeVelocity: { perMinute } });
            }}
          />
          <TriggerRow
            label="people reject more than this share (0–1) of a batch’s decided proposals"
            field="Rejection rate threshold"
            value={triggers.rejectionRate?.threshold}
            editable={editable}
            onValue={(threshold) => {
              const { rejectionRate, ...rest } = triggers;
              setTriggers(
                threshold === undefined
                  ? rest
                  : { ...rest, rejectionRate: { threshold, minDecided: rejectionRate?.minDecided ?? 10 } },
              );
            }}
          />
          <TriggerRow
            label="… once at least this many are decided"
            field="Rejection rate minimum decided"
            value={triggers.rejectionRate?.minDecided}
            editable={editable && triggers.rejectionRate !== undefined}
            onValue={(minDecided) => {
              if (!triggers.rejectionRate) return;
              setTriggers({
                ...triggers,
                rejectionRate: { threshold: triggers.rejectionRate.threshold, minDecided: minDecided ?? 10 },
              });
            }}
          />
        </tbody>
      </table>
    </section>
  );
}

/** A trigger's number, put in the draft as it is typed: a threshold typed turns its trigger on, enabling the fields beside it. */
function TriggerRow(props: {
  label: string;
  field: string;
  value: number | undefined;
  editable: boolean;
  onValue: (value: number | undefined) => void;
}) {
  const [text, setText] = useState(props.value === undefined ? '' : String(props.value));
  // A change made elsewhere (a trigger turned off empties the fields beside it) shows here; what is being typed stays.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a new value from the draft resets the text
  useEffect(() => {
    if (numberInput(text) !== props.value) setText(props.value === undefined ? '' : String(props.value));
  }, [props.value]);
  return (
    <tr>
      <td>{props.label}</td>
      <td>
        <input
          aria-label={props.field}
          inputMode="decimal"
          size={6}
          disabled={!props.editable}
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            const value = numberInput(event.target.value);
            if (value !== null && value !== props.value) props.onValue(value);
          }}
        />
      </td>
    </tr>
  );
}

/**
 * `source id = agent name` lines to the policy's map. Blank lines are left out; a line without a
 * name keeps an empty one, which the policy's schema refuses with its sentence before publishing.
 */
function integrationsFrom(text: string): Record<string, string> {
  const entries = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [sourceId = '', ...name] = line.split('=');
      return [sourceId.trim(), name.join('=').trim()] as const;
    });
  return Object.fromEntries(entries);
}
