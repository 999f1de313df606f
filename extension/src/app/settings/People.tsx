import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Button,
  Flex,
  Heading,
  Input,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import type { HubSpotTeam, PersonRoleName, SettingsView } from '../../../../shared/extension-api.ts';
import type { Fetcher } from '../lib/api.ts';
import { createUseBackendData } from '../lib/load-state.ts';
import { assignableRoles, mayChangeAssignment, roleSourceText, teamName } from '../lib/views/access.ts';

const useBackendData = createUseBackendData({ useEffect, useRef, useState, useCallback });

/** A change to who has which role; the page sends it and reloads. */
export type RoleChange = { kind: 'person' | 'team'; id: string; role: PersonRoleName | null };

interface PeopleProps {
  view: SettingsView;
  fetcher: Fetcher;
  onChange: (change: RoleChange) => void;
}

/**
 * Roles by HubSpot user and by HubSpot team. A person's own role wins; without one, the strongest
 * role among the teams HubSpot says they are in applies.
 */
export function People({ view, fetcher, onChange }: PeopleProps) {
  const callerRole = view.caller.permissions.role;
  const editable = view.caller.permissions.managePeople;
  const teamsState = useBackendData<{ teams: HubSpotTeam[] }>(fetcher, editable ? '/teams' : null).state;
  const teams = teamsState.kind === 'ready' ? teamsState.data.teams : null;
  const roleOptions = assignableRoles(callerRole).map((role) => ({ label: role, value: role }));
  const roleCell = (kind: RoleChange['kind'], id: string, role: PersonRoleName) =>
    editable && mayChangeAssignment(callerRole, role) ? (
      <Flex gap="xs" align="center">
        <Select
          name={`${kind}-role.${id}`}
          label=""
          options={roleOptions}
          value={role}
          onChange={(next) => onChange({ kind, id, role: next as PersonRoleName })}
        />
        <Button
          testId={`remove-${kind}-${id}`}
          size="xs"
          variant="secondary"
          onClick={() => onChange({ kind, id, role: null })}
        >
          Remove
        </Button>
      </Flex>
    ) : (
      <Text>{role}</Text>
    );
  return (
    <Flex direction="column" gap="xs">
      <Heading>People and teams</Heading>
      <Text variant="microcopy">{`${roleSourceText(callerRole, view.access.source, teams)} A person's own role wins over their teams'; otherwise the strongest role among their HubSpot teams applies (owner, revops_admin, approver, rep, auditor).`}</Text>
      <Table bordered={true}>
        <TableHead>
          <TableRow>
            <TableHeader>HubSpot user</TableHeader>
            <TableHeader>Owner id</TableHeader>
            <TableHeader>Role</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {view.access.people.map((person) => (
            <TableRow key={person.crmUserId}>
              <TableCell>{person.crmUserId}</TableCell>
              <TableCell>{person.crmOwnerId ?? '—'}</TableCell>
              <TableCell>{roleCell('person', person.crmUserId, person.role)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Table bordered={true}>
        <TableHead>
          <TableRow>
            <TableHeader>HubSpot team</TableHeader>
            <TableHeader>Role</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {view.access.teamRoles.length === 0 ? (
            <TableRow>
              <TableCell>No team has a role.</TableCell>
              <TableCell>—</TableCell>
            </TableRow>
          ) : null}
          {view.access.teamRoles.map((team) => (
            <TableRow key={team.teamId}>
              <TableCell>{teamName(teams, team.teamId)}</TableCell>
              <TableCell>{roleCell('team', team.teamId, team.role)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {editable ? <AddAssignment teams={teams} roleOptions={roleOptions} onAdd={onChange} /> : null}
    </Flex>
  );
}

/** Give a role to a HubSpot user (by id) or a team (picked from HubSpot's list, or by id when it could not be read). */
function AddAssignment({
  teams,
  roleOptions,
  onAdd,
}: {
  teams: HubSpotTeam[] | null;
  roleOptions: { label: string; value: string }[];
  onAdd: (change: RoleChange) => void;
}) {
  const [userId, setUserId] = useState('');
  const [teamId, setTeamId] = useState('');
  const [role, setRole] = useState<PersonRoleName>('approver');
  const digits = (text: string) => /^[0-9]{1,18}$/.test(text.trim());
  return (
    <Flex gap="sm" wrap="wrap" align="end">
      <Select
        name="assign-role"
        label="Role"
        options={roleOptions}
        value={role}
        onChange={(value) => setRole(value as PersonRoleName)}
      />
      <Input name="assign-user-id" label="HubSpot user id" value={userId} onChange={setUserId} />
      <Button
        testId="assign-user"
        size="xs"
        disabled={!digits(userId)}
        onClick={() => onAdd({ kind: 'person', id: userId.trim(), role })}
      >
        Give to user
      </Button>
      {teams ? (
        <Select
          name="assign-team-id"
          label="HubSpot team"
          options={teams.map((team) => ({ label: team.name, value: team.id }))}
          value={teamId}
          onChange={(value) => setTeamId(String(value))}
        />
      ) : (
        <Input name="assign-team-id" label="HubSpot team id" value={teamId} onChange={setTeamId} />
      )}
      <Button
        testId="assign-team"
        size="xs"
        disabled={!digits(teamId)}
        onClick={() => onAdd({ kind: 'team', id: teamId.trim(), role })}
      >
        Give to team
      </Button>
    </Flex>
  );
}
