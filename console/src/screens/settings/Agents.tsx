import { useState } from 'react';
import { createAgentSchema, createDelegationSchema } from '../../../../shared/admin-api.ts';
import { AGENT_ROLES } from '../../../../shared/crm-names.ts';
import {
  AGENT_ACTION_LABEL,
  agentActionDone,
  agentActions,
  budgetUsageText,
  REVOKE_WARNING,
  TOKEN_WARNING,
} from '../../../../shared/views/agents.ts';
import type { DelegationView } from '../../../../shared/admin-api.ts';
import { visibleText } from '../../../../shared/views/display-text.ts';
import { AgentText } from '../../AgentText.tsx';
import { getJson, postJson } from '../../api.ts';
import { useLoad } from '../../use-load.ts';
import { AgentSafety } from './AgentSafety.tsx';
import { OutcomeLine, useSubmit, validate } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';

/** Agents: create (the token shown once), pause, resume, revoke, and let one act for a person until a date. */
export function Agents({ view, reload }: SectionProps) {
  const manage = view.caller.permissions.manageAgents;
  const action = useSubmit();
  const [revoking, setRevoking] = useState<string | null>(null);
  const usage = new Map(view.budgetUsage?.agents.map((today) => [today.agentId, today]));
  return (
    <>
      <section aria-label="Agents" className="card">
        <h2>Agents</h2>
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Status</th>
              <th>Created</th>
              <th title="CRM calls made for the agent and spend it reported today, counted against the policy's budgets">
                Today
              </th>
              <th />
            </tr>
          </thead>
          <tbody>
            {view.agents.map((agent) => (
              <tr key={agent.id}>
                <td>
                  <AgentText>{agent.name}</AgentText>
                </td>
                <td>{agent.role}</td>
                <td>{agent.status}</td>
                <td>{new Date(agent.createdAt).toLocaleString()}</td>
                <td>{budgetUsageText(usage.get(agent.id), view.policy?.policy.budgets)}</td>
                <td className="actions">
                  {manage &&
                    agentActions(agent.status).map((next) =>
                      next === 'revoke' && revoking !== agent.id ? (
                        <button key={next} type="button" onClick={() => setRevoking(agent.id)}>
                          Revoke…
                        </button>
                      ) : (
                        <button
                          key={next}
                          type="button"
                          disabled={action.busy}
                          onClick={() =>
                            action.run(
                              () => postJson(`/console/api/agents/${agent.id}/${next}`),
                              async () => {
                                setRevoking(null);
                                await reload();
                                return agentActionDone(next, visibleText(agent.name));
                              },
                            )
                          }
                        >
                          {next === 'revoke' ? 'Confirm revoke' : AGENT_ACTION_LABEL[next]}
                        </button>
                      ),
                    )}
                  {revoking === agent.id && <span className="warning">{REVOKE_WARNING}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <OutcomeLine outcome={action.outcome} />
      </section>
      {manage && <CreateAgent reload={reload} />}
      <AgentSafety view={view} reload={reload} />
      <Delegations view={view} reload={reload} />
    </>
  );
}

function CreateAgent({ reload }: { reload: () => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<string>('enrichment');
  const [token, setToken] = useState<string | null>(null);
  const create = useSubmit();
  const submit = () => {
    const checked = validate(createAgentSchema, { name, role });
    if (!checked.ok) return create.setOutcome({ kind: 'failed', message: `The agent: ${checked.message}` });
    return create.run(
      () => postJson<{ name: string; token: string }>('/console/api/agents', checked.value),
      async (agent) => {
        setToken(agent.token);
        setName('');
        await reload();
        return `${visibleText(agent.name)} is created.`;
      },
    );
  };
  return (
    <section aria-label="Create an agent" className="card">
      <h2>Create an agent</h2>
      <div className="actions">
        <label>
          Name <input value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label>
          Role{' '}
          <select value={role} onChange={(event) => setRole(event.target.value)}>
            {AGENT_ROLES.map((candidate) => (
              <option key={candidate}>{candidate}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={create.busy} onClick={submit}>
          Create
        </button>
      </div>
      <OutcomeLine outcome={create.outcome} />
      {token && (
        <section className="warning" aria-label="New agent token">
          <p>{TOKEN_WARNING}</p>
          <code className="token">{token}</code>
          <div>
            <button type="button" onClick={() => setToken(null)}>
              I have copied it
            </button>
          </div>
        </section>
      )}
    </section>
  );
}

/** Who each agent acts for now; those who manage agents add a delegation or end one early. */
function Delegations({ view, reload }: SectionProps) {
  const manage = view.caller.permissions.manageAgents;
  const active = view.agents.filter((agent) => agent.status !== 'revoked');
  const [agentId, setAgentId] = useState(active[0]?.id ?? '');
  const [crmUserId, setCrmUserId] = useState('');
  const [until, setUntil] = useState('');
  const delegate = useSubmit();
  const end = useSubmit();
  const [live, reloadLive] = useLoad(
    () => getJson<{ delegations: DelegationView[] }>('/console/api/delegations'),
    'delegations',
  );
  const nameOf = new Map(view.agents.map((agent) => [agent.id, visibleText(agent.name)]));
  const submit = () => {
    const expiresAt = until && !Number.isNaN(Date.parse(until)) ? new Date(until).toISOString() : until;
    const checked = validate(createDelegationSchema, { crmUserId, expiresAt });
    if (!checked.ok) return delegate.setOutcome({ kind: 'failed', message: `The delegation: ${checked.message}` });
    return delegate.run(
      () => postJson(`/console/api/agents/${agentId}/delegations`, checked.value),
      async () => {
        await Promise.all([reload(), reloadLive()]);
        return `The agent may act for CRM user ${crmUserId} until ${new Date(expiresAt).toLocaleString()}.`;
      },
    );
  };
  return (
    <section aria-label="Delegations" className="card">
      <h2>Agents acting for a person</h2>
      {live.state === 'failed' && <p role="alert">{live.message}</p>}
      {live.state === 'ready' &&
        (live.data.delegations.length === 0 ? (
          <p>No agent acts for anyone now.</p>
        ) : (
          <table aria-label="Delegations in force">
            <thead>
              <tr>
                <th>Agent</th>
                <th>Acts for CRM user</th>
                <th>Until</th>
                {manage && <th />}
              </tr>
            </thead>
            <tbody>
              {live.data.delegations.map((delegation) => (
                <tr key={delegation.id}>
                  <td>{nameOf.get(delegation.agentId) ?? delegation.agentId}</td>
                  <td>{delegation.crmUserId}</td>
                  <td>{new Date(delegation.expiresAt).toLocaleString()}</td>
                  {manage && (
                    <td className="actions">
                      <button
                        type="button"
                        disabled={end.busy}
                        onClick={() =>
                          end.run(
                            () => postJson(`/console/api/delegations/${delegation.id}/revoke`),
                            async () => {
                              await reloadLive();
                              return `The agent no longer acts for CRM user ${delegation.crmUserId}.`;
                            },
                          )
                        }
                      >
                        End now
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      <OutcomeLine outcome={end.outcome} />
      {manage && active.length > 0 && (
        <div className="actions">
          <label>
            Agent{' '}
            <select value={agentId} onChange={(event) => setAgentId(event.target.value)}>
              {active.map((agent) => (
                <option key={agent.id} value={agent.id}>
                  {visibleText(agent.name)}
                </option>
              ))}
            </select>
          </label>
          <label>
            CRM user id <input value={crmUserId} onChange={(event) => setCrmUserId(event.target.value)} />
          </label>
          <label>
            Until <input type="datetime-local" value={until} onChange={(event) => setUntil(event.target.value)} />
          </label>
          <button type="button" disabled={delegate.busy} onClick={submit}>
            Delegate
          </button>
        </div>
      )}
      <OutcomeLine outcome={delegate.outcome} />
    </section>
  );
}
