import { useState } from 'react';
import {
  ALERT_CHANNEL_KINDS,
  ALERT_RULE_KINDS,
  type AlertChannelKind,
  type AlertChannelView,
  type AlertDeliveryView,
  type AlertRuleKind,
  type AlertRuleParams,
  type AlertRuleView,
  createAlertChannelSchema,
  createAlertRuleSchema,
} from '../../../../shared/alert-api.ts';
import { settingsControls } from '../../../../shared/views/decision-controls.ts';
import { listFromText } from '../../../../shared/views/policy-rules.ts';
import { getJson, postJson } from '../../api.ts';
import { useLoad } from '../../use-load.ts';
import { numberOrAbsent, OutcomeLine, RemoveCell, useSubmit, validate } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';
import { visibleText } from '../../../../shared/views/display-text.ts';
import { AgentText } from '../../AgentText.tsx';

interface Alerting {
  channels: AlertChannelView[];
  rules: AlertRuleView[];
  alerts: AlertDeliveryView[];
}

const loadAlerting = async (): Promise<Alerting> => {
  const [{ channels }, { rules }, { alerts }] = await Promise.all([
    getJson<{ channels: AlertChannelView[] }>('/console/api/alert-channels'),
    getJson<{ rules: AlertRuleView[] }>('/console/api/alert-rules'),
    getJson<{ alerts: AlertDeliveryView[] }>('/console/api/alerts?limit=50'),
  ]);
  return { channels, rules, alerts };
};

/** Alerts to people (issue 22; docs/alerts.md): where they go, what raises them, and what was raised lately. */
export function Alerts({ view }: SectionProps) {
  const editable = settingsControls(view.caller.permissions).configureStreamingAndAlerts;
  const [alerting, reload] = useLoad(loadAlerting, 'alerting');
  if (alerting.state === 'loading') return <p className="notice">Loading…</p>;
  if (alerting.state === 'failed') return <p role="alert">{alerting.message}</p>;
  const { channels, rules, alerts } = alerting.data;
  const channelName = new Map(channels.map((channel) => [channel.id, channel.name]));
  return (
    <>
      <Channels channels={channels} editable={editable} reload={reload} />
      {editable && <AddChannel reload={reload} />}
      <Rules rules={rules} channelName={channelName} editable={editable} reload={reload} />
      {editable && channels.length > 0 && <AddRule channels={channels} reload={reload} />}
      <section aria-label="Recent alerts" className="card">
        <h2>Recent alerts</h2>
        {alerts.length === 0 ? (
          <p>No alert raised yet.</p>
        ) : (
          <table aria-label="Alerts raised">
            <thead>
              <tr>
                <th>Raised</th>
                <th>Rule</th>
                <th>Alert</th>
                <th>Channel</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((alert) => (
                <tr key={alert.id}>
                  <td>{new Date(alert.raisedAt).toLocaleString()}</td>
                  <td>{alert.rule}</td>
                  <td>{alert.title}</td>
                  <td>{channelName.get(alert.channelId) ?? alert.channelId}</td>
                  <td>{alert.status}</td>
                  <td>{alert.attempts}</td>
                  <td>{alert.lastError ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="actions">
          <button type="button" onClick={() => void reload()}>
            Refresh alerts
          </button>
        </div>
      </section>
    </>
  );
}

function channelSettingsText(channel: AlertChannelView): string {
  const { settings } = channel;
  if (channel.kind !== 'email') return 'webhook URL kept secret';
  const server = `${settings.smtpHost}:${settings.smtpPort}${settings.smtpSecure ? ' (TLS)' : ''}`;
  return `${settings.from} → ${settings.to?.join(', ')} via ${server}`;
}

function Channels(props: { channels: AlertChannelView[]; editable: boolean; reload: () => Promise<void> }) {
  const remove = useSubmit();
  return (
    <section aria-label="Alert channels" className="card">
      <h2>Alert channels</h2>
      {props.channels.length === 0 ? (
        <p>No channel: alerts go nowhere.</p>
      ) : (
        <table aria-label="Channels">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Settings</th>
              {props.editable && <th />}
            </tr>
          </thead>
          <tbody>
            {props.channels.map((channel) => (
              <tr key={channel.id}>
                <td>
                  <AgentText>{channel.name}</AgentText>
                </td>
                <td>{channel.kind}</td>
                <td>{channelSettingsText(channel)}</td>
                {props.editable && (
                  <RemoveCell
                    what={visibleText(channel.name)}
                    warning="Alerts stop going there."
                    path={`/console/api/alert-channels/${channel.id}`}
                    removed={`${visibleText(channel.name)} is removed.`}
                    submit={remove}
                    reload={props.reload}
                  />
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <OutcomeLine outcome={remove.outcome} />
    </section>
  );
}

function AddChannel({ reload }: { reload: () => Promise<void> }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<AlertChannelKind>('slack');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [smtp, setSmtp] = useState({ host: '', port: '587', secure: false, user: '', password: '' });
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const add = useSubmit();
  const input = () => {
    if (kind === 'email')
      return {
        name,
        kind,
        smtp: {
          host: smtp.host,
          port: numberOrAbsent(smtp.port),
          secure: smtp.secure,
          ...(smtp.user === '' ? {} : { user: smtp.user }),
          ...(smtp.password === '' ? {} : { password: smtp.password }),
        },
        from,
        to: listFromText(to) ?? [],
      };
    return { name, kind, url, ...(kind === 'webhook' ? { secret } : {}) };
  };
  const submit = () => {
    const checked = validate(createAlertChannelSchema, input());
    if (!checked.ok) return add.setOutcome({ kind: 'failed', message: `The channel: ${checked.message}` });
    return add.run(
      () => postJson<AlertChannelView>('/console/api/alert-channels', checked.value),
      async (added) => {
        setName('');
        setUrl('');
        setSecret('');
        setSmtp({ ...smtp, password: '' });
        await reload();
        return `${visibleText(added.name)} is added.`;
      },
    );
  };
  return (
    <section aria-label="Add an alert channel" className="card">
      <h2>Add an alert channel</h2>
      <div className="actions">
        <label>
          Name <input value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label>
          Kind{' '}
          <select value={kind} onChange={(event) => setKind(event.target.value as AlertChannelKind)}>
            {ALERT_CHANNEL_KINDS.map((candidate) => (
              <option key={candidate}>{candidate}</option>
            ))}
          </select>
        </label>
        {kind !== 'email' && (
          <label>
            Webhook URL (kept secret){' '}
            <input
              type="password"
              autoComplete="off"
              size={40}
              value={url}
              onChange={(event) => setUrl(event.target.value)}
            />
          </label>
        )}
        {kind === 'webhook' && (
          <label>
            Signing secret (32 characters or more){' '}
            <input
              type="password"
              autoComplete="off"
              value={secret}
              onChange={(event) => setSecret(event.target.value)}
            />
          </label>
        )}
      </div>
      {kind === 'email' && (
        <div className="actions">
          <label>
            SMTP host <input value={smtp.host} onChange={(event) => setSmtp({ ...smtp, host: event.target.value })} />
          </label>
          <label>
            Port{' '}
            <input
              inputMode="numeric"
              size={5}
              value={smtp.port}
              onChange={(event) => setSmtp({ ...smtp, port: event.target.value })}
            />
          </label>
          <label>
            <input
              type="checkbox"
              checked={smtp.secure}
              onChange={(event) => setSmtp({ ...smtp, secure: event.target.checked })}
            />{' '}
            TLS from the start
          </label>
          <label>
            SMTP user <input value={smtp.user} onChange={(event) => setSmtp({ ...smtp, user: event.target.value })} />
          </label>
          <label>
            SMTP password{' '}
            <input
              type="password"
              autoComplete="off"
              value={smtp.password}
              onChange={(event) => setSmtp({ ...smtp, password: event.target.value })}
            />
          </label>
          <label>
            From <input value={from} onChange={(event) => setFrom(event.target.value)} />
          </label>
          <label>
            To (comma-separated) <input size={40} value={to} onChange={(event) => setTo(event.target.value)} />
          </label>
        </div>
      )}
      <div className="actions">
        <button type="button" disabled={add.busy} onClick={submit}>
          Add channel
        </button>
      </div>
      <OutcomeLine outcome={add.outcome} />
    </section>
  );
}

const PARAM_FIELDS: { key: keyof AlertRuleParams; label: string; kinds: readonly AlertRuleKind[] }[] = [
  { key: 'threshold', label: 'Threshold (share, 0–1)', kinds: ['rejection_rate', 'qa_error_rate', 'api_budget'] },
  { key: 'minCount', label: 'At least (count)', kinds: ['rejection_rate', 'qa_error_rate'] },
  {
    key: 'lookbackMinutes',
    label: 'Looking back (minutes)',
    kinds: ['rejection_rate', 'qa_error_rate', 'approvals_unwritten'],
  },
  { key: 'hours', label: 'After (hours)', kinds: ['approvals_waiting', 'approvals_unwritten'] },
];

/** The parameters the rule's kind uses (the schema fills `lookbackMinutes` in for every kind). */
function paramsText({ kind, params }: AlertRuleView): string {
  return PARAM_FIELDS.filter((field) => field.kinds.includes(kind) && params[field.key] !== undefined)
    .map(({ key }) => `${key} ${params[key]}`)
    .join(', ');
}

function Rules(props: {
  rules: AlertRuleView[];
  channelName: Map<string, string>;
  editable: boolean;
  reload: () => Promise<void>;
}) {
  const remove = useSubmit();
  return (
    <section aria-label="Alert rules" className="card">
      <h2>Alert rules</h2>
      {props.rules.length === 0 ? (
        <p>No rule: nothing raises an alert.</p>
      ) : (
        <table aria-label="Rules">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Parameters</th>
              <th>Channels</th>
              <th>At most one alert per subject every</th>
              {props.editable && <th />}
            </tr>
          </thead>
          <tbody>
            {props.rules.map((rule) => (
              <tr key={rule.id}>
                <td>
                  <AgentText>{rule.name}</AgentText>
                </td>
                <td>{rule.kind}</td>
                <td>{paramsText(rule)}</td>
                <td>{rule.channelIds.map((id) => props.channelName.get(id) ?? id).join(', ')}</td>
                <td>{rule.windowMinutes} min</td>
                {props.editable && (
                  <RemoveCell
                    what={visibleText(rule.name)}
                    warning="It raises no more alerts."
                    path={`/console/api/alert-rules/${rule.id}`}
                    removed={`${visibleText(rule.name)} is removed.`}
                    submit={remove}
                    reload={props.reload}
                  />
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <OutcomeLine outcome={remove.outcome} />
    </section>
  );
}

function AddRule(props: { channels: AlertChannelView[]; reload: () => Promise<void> }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<AlertRuleKind>('kill_switch_engaged');
  const [params, setParams] = useState<Record<keyof AlertRuleParams, string>>({
    threshold: '',
    minCount: '',
    lookbackMinutes: '',
    hours: '',
  });
  const [channelIds, setChannelIds] = useState<string[]>([]);
  const [windowMinutes, setWindowMinutes] = useState('60');
  const [startFrom, setStartFrom] = useState<'now' | 'beginning'>('now');
  const add = useSubmit();
  const fields = PARAM_FIELDS.filter((field) => field.kinds.includes(kind));
  const submit = () => {
    const checked = validate(createAlertRuleSchema, {
      name,
      kind,
      params: Object.fromEntries(fields.map(({ key }) => [key, numberOrAbsent(params[key])])),
      channels: channelIds,
      windowMinutes: numberOrAbsent(windowMinutes),
      startFrom,
    });
    if (!checked.ok) return add.setOutcome({ kind: 'failed', message: `The rule: ${checked.message}` });
    return add.run(
      () => postJson<AlertRuleView>('/console/api/alert-rules', checked.value),
      async (added) => {
        setName('');
        await props.reload();
        return `${visibleText(added.name)} is added.`;
      },
    );
  };
  return (
    <section aria-label="Add an alert rule" className="card">
      <h2>Add an alert rule</h2>
      <div className="actions">
        <label>
          Name <input value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label>
          Kind{' '}
          <select value={kind} onChange={(event) => setKind(event.target.value as AlertRuleKind)}>
            {ALERT_RULE_KINDS.map((candidate) => (
              <option key={candidate}>{candidate}</option>
            ))}
          </select>
        </label>
        {fields.map(({ key, label }) => (
          <label key={key}>
            {label}{' '}
            <input
              inputMode="decimal"
              size={7}
              value={params[key]}
              onChange={(event) => setParams({ ...params, [key]: event.target.value })}
            />
          </label>
        ))}
        <label>
          One alert per subject every (minutes){' '}
          <input
            inputMode="numeric"
            size={6}
            value={windowMinutes}
            onChange={(event) => setWindowMinutes(event.target.value)}
          />
        </label>
        <label>
          Audit events{' '}
          <select value={startFrom} onChange={(event) => setStartFrom(event.target.value as 'now' | 'beginning')}>
            <option value="now">from now on</option>
            <option value="beginning">from the beginning</option>
          </select>
        </label>
      </div>
      <fieldset className="checks">
        <legend>Send to</legend>
        {props.channels.map((channel) => (
          <label key={channel.id}>
            <input
              type="checkbox"
              checked={channelIds.includes(channel.id)}
              onChange={(event) =>
                setChannelIds(
                  event.target.checked ? [...channelIds, channel.id] : channelIds.filter((id) => id !== channel.id),
                )
              }
            />{' '}
            <AgentText>{channel.name}</AgentText>
          </label>
        ))}
      </fieldset>
      <div className="actions">
        <button type="button" disabled={add.busy} onClick={submit}>
          Add rule
        </button>
      </div>
      <OutcomeLine outcome={add.outcome} />
    </section>
  );
}
