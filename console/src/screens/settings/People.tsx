import { useState } from 'react';
import { crmUserIdParamSchema, setPersonSchema } from '../../../../shared/approval-api.ts';
import {
  type HubSpotTeam,
  type PersonRoleName,
  setTeamRoleSchema,
  teamIdParamSchema,
} from '../../../../shared/extension-api.ts';
import { assignableRoles, mayChangeAssignment, roleSourceText, teamName } from '../../../../shared/views/access.ts';
import { deleteJson, getJson, putJson } from '../../api.ts';
import { useLoad } from '../../use-load.ts';
import { OutcomeLine, useSubmit, validate } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';
import { visibleText } from '../../../../shared/views/display-text.ts';

/** Who has which role, by CRM user and by team; only an owner grants or takes away the owner role. */
export function People({ view, reload }: SectionProps) {
  const { permissions } = view.caller;
  const manage = permissions.managePeople;
  const [teams] = useLoad(
    () => (manage ? getJson<{ teams: HubSpotTeam[] }>('/console/api/teams') : Promise.resolve({ teams: [] })),
    'teams',
  );
  const teamList = teams.state === 'ready' ? teams.data.teams : null;
  const change = useSubmit();
  const call = (request: () => Promise<unknown>, done: string) =>
    change.run(request, async () => {
      await reload();
      return done;
    });
  const roles = assignableRoles(permissions.role);
  return (
    <>
      <p>{roleSourceText(permissions.role, view.access.source, teamList)}</p>
      <section aria-label="People" className="card">
        <h2>People</h2>
        <table>
          <thead>
            <tr>
              <th>CRM user</th>
              <th>Role</th>
              <th>Owner id</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {view.access.people.map((person) => {
              const changeable = manage && mayChangeAssignment(permissions.role, person.role);
              return (
                <tr key={person.crmUserId}>
                  <td>{person.crmUserId}</td>
                  <td>
                    {changeable ? (
                      <RoleSelect
                        label={`Role of ${person.crmUserId}`}
                        roles={roles}
                        value={person.role}
                        onPick={(role) =>
                          call(
                            () => putJson(`/console/api/people/${person.crmUserId}`, { role }),
                            `CRM user ${person.crmUserId} is now ${role}.`,
                          )
                        }
                      />
                    ) : (
                      person.role
                    )}
                  </td>
                  <td>{person.crmOwnerId ?? '—'}</td>
                  <td>
                    {changeable && (
                      <button
                        type="button"
                        onClick={() =>
                          call(
                            () => deleteJson(`/console/api/people/${person.crmUserId}`),
                            `CRM user ${person.crmUserId} has no role of their own any more.`,
                          )
                        }
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {manage && (
          <AddAssignment
            what="person"
            roles={roles}
            check={(id, role) => {
              const user = validate(crmUserIdParamSchema, id);
              if (!user.ok) return `The CRM user id ${user.message}`;
              const body = validate(setPersonSchema, { role });
              return body.ok ? null : body.message;
            }}
            onAdd={(id, role) =>
              call(() => putJson(`/console/api/people/${id}`, { role }), `CRM user ${id} is now ${role}.`)
            }
          />
        )}
      </section>
      <section aria-label="Team roles" className="card">
        <h2>Team roles</h2>
        <p className="muted">A person without a role of their own gets their team's.</p>
        <table>
          <tbody>
            {view.access.teamRoles.map((team) => (
              <tr key={team.teamId}>
                <td>{teamName(teamList, team.teamId)}</td>
                <td>{team.role}</td>
                <td>
                  {manage && mayChangeAssignment(permissions.role, team.role) && (
                    <button
                      type="button"
                      onClick={() =>
                        call(() => deleteJson(`/console/api/team-roles/${team.teamId}`), `The team role is removed.`)
                      }
                    >
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {manage && (
          <AddAssignment
            what="team"
            roles={roles}
            teams={teamList}
            check={(id, role) => {
              const team = validate(teamIdParamSchema, id);
              if (!team.ok) return `The team id ${team.message}`;
              const body = validate(setTeamRoleSchema, { role });
              return body.ok ? null : body.message;
            }}
            onAdd={(id, role) =>
              call(() => putJson(`/console/api/team-roles/${id}`, { role }), `Team ${id} is now ${role}.`)
            }
          />
        )}
      </section>
      <OutcomeLine outcome={change.outcome} />
    </>
  );
}

function RoleSelect(props: {
  label: string;
  roles: PersonRoleName[];
  value: PersonRoleName;
  onPick: (role: PersonRoleName) => void;
}) {
  return (
    <select
      aria-label={props.label}
      value={props.value}
      onChange={(event) => props.onPick(event.target.value as PersonRoleName)}
    >
      {props.roles.map((role) => (
        <option key={role}>{role}</option>
      ))}
    </select>
  );
}

function AddAssignment(props: {
  what: 'person' | 'team';
  roles: PersonRoleName[];
  teams?: HubSpotTeam[] | null;
  check: (id: string, role: PersonRoleName) => string | null;
  onAdd: (id: string, role: PersonRoleName) => Promise<unknown>;
}) {
  const [id, setId] = useState('');
  const [role, setRole] = useState<PersonRoleName>('approver');
  const [error, setError] = useState<string | null>(null);
  const label = props.what === 'person' ? 'CRM user id' : 'Team id';
  return (
    <div className="actions">
      <label>
        {label}{' '}
        <input
          list={props.teams ? 'team-ids' : undefined}
          value={id}
          onChange={(event) => setId(event.target.value.trim())}
        />
      </label>
      {props.teams && (
        <datalist id="team-ids">
          {props.teams.map((team) => (
            <option key={team.id} value={team.id}>
              {visibleText(team.name)}
            </option>
          ))}
        </datalist>
      )}
      <RoleSelect label={`Role for the new ${props.what}`} roles={props.roles} value={role} onPick={setRole} />
      <button
        type="button"
        onClick={() => {
          const problem = props.check(id, role);
          setError(problem);
          if (!problem) props.onAdd(id, role).then(() => setId(''));
        }}
      >
        Give role
      </button>
      {error && <span role="alert">{error}</span>}
    </div>
  );
}
