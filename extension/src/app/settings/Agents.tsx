import { useState } from 'react';
import {
  Alert,
  Button,
  ButtonRow,
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
import type { CreatedAgent } from '../../../../shared/admin-api.ts';
import type { AgentRole } from '../../../../shared/crm-names.ts';
import type { SettingsView } from '../../../../shared/extension-api.ts';
import {
  AGENT_ACTION_LABEL,
  REVOKE_WARNING,
  TOKEN_WARNING,
  agentActions,
  budgetUsageText,
  type AgentAction,
} from '../lib/views/agents.ts';
import { MATRIX_ROLES } from '../lib/views/policy-matrix.ts';
import { visibleText } from '../lib/views/display-text.ts';

export type AgentCommand =
  | { kind: 'create'; name: string; role: AgentRole }
  | { kind: AgentAction; id: string; name: string };

interface AgentsProps {
  view: SettingsView;
  editable: boolean;
  busy: boolean;
  /** The agent just created, with its token: shown until the person says they copied it, never again. */
  created: CreatedAgent | null;
  onCommand: (command: AgentCommand) => void;
  onTokenCopied: () => void;
}

/**
 * The agents that write to the CRM, with the CRM calls and spend each used today against the
 * policy's budgets: owners and RevOps admins create, pause, resume and revoke them; others read the list.
 */
export function Agents({ view, editable, busy, created, onCommand, onTokenCopied }: AgentsProps) {
  const [confirmingRevoke, setConfirmingRevoke] = useState<string | null>(null);
  const usage = new Map(view.budgetUsage?.agents.map((today) => [today.agentId, today]));
  const controls = (agent: SettingsView['agents'][number]) => {
    if (confirmingRevoke === agent.id) {
      return (
        <Flex direction="column" gap="xs">
          <Text variant="microcopy">{REVOKE_WARNING}</Text>
          <ButtonRow>
            <Button
              testId={`agent-revoke-confirm-${agent.id}`}
              size="xs"
              variant="destructive"
              disabled={busy}
              onClick={() => {
                setConfirmingRevoke(null);
                onCommand({ kind: 'revoke', id: agent.id, name: agent.name });
              }}
            >
              {`Revoke ${visibleText(agent.name)} for good`}
            </Button>
            <Button
              testId={`agent-revoke-keep-${agent.id}`}
              size="xs"
              variant="secondary"
              onClick={() => setConfirmingRevoke(null)}
            >
              Keep it
            </Button>
          </ButtonRow>
        </Flex>
      );
    }
    const possible = agentActions(agent.status);
    if (possible.length === 0) return <Text variant="microcopy">Revoked for good</Text>;
    return (
      <ButtonRow>
        {possible.map((action) => (
          <Button
            key={action}
            testId={`agent-${action}-${agent.id}`}
            size="xs"
            variant={action === 'revoke' ? 'destructive' : 'secondary'}
            disabled={busy}
            onClick={() =>
              action === 'revoke'
                ? setConfirmingRevoke(agent.id)
                : onCommand({ kind: action, id: agent.id, name: agent.name })
            }
          >
            {AGENT_ACTION_LABEL[action]}
          </Button>
        ))}
      </ButtonRow>
    );
  };
  return (
    <Flex direction="column" gap="xs">
      <Heading>Agents</Heading>
      {created ? (
        <Alert title={`${created.name} is created: copy its token now`} variant="warning">
          <Input name="created-agent-token" label="Bearer token" value={created.token} readOnly={true} />
          <Text>{TOKEN_WARNING}</Text>
          <Button testId="token-copied" size="xs" onClick={onTokenCopied}>
            I have copied it
          </Button>
        </Alert>
      ) : null}
      <Table bordered={true}>
        <TableHead>
          <TableRow>
            <TableHeader>Name</TableHeader>
            <TableHeader>Role</TableHeader>
            <TableHeader>Status</TableHeader>
            <TableHeader>Created</TableHeader>
            <TableHeader>Used today</TableHeader>
            {editable ? <TableHeader>Actions</TableHeader> : null}
          </TableRow>
        </TableHead>
        <TableBody>
          {view.agents.length === 0 ? (
            <TableRow>
              <TableCell>No agent yet.</TableCell>
            </TableRow>
          ) : null}
          {view.agents.map((agent) => (
            <TableRow key={agent.id}>
              <TableCell>{visibleText(agent.name)}</TableCell>
              <TableCell>{agent.role}</TableCell>
              <TableCell>{agent.status}</TableCell>
              <TableCell>{new Date(agent.createdAt).toLocaleString()}</TableCell>
              <TableCell>{budgetUsageText(usage.get(agent.id), view.policy?.policy.budgets)}</TableCell>
              {editable ? <TableCell>{controls(agent)}</TableCell> : null}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {/* Keyed on the last created agent, so the form starts empty again once one is made. */}
      {editable ? (
        <CreateAgent
          key={created?.id ?? 'none'}
          busy={busy}
          onCreate={(agent) => onCommand({ kind: 'create', ...agent })}
        />
      ) : (
        <Text variant="microcopy">Owners and RevOps admins create, pause and revoke agents.</Text>
      )}
    </Flex>
  );
}

function CreateAgent({
  busy,
  onCreate,
}: {
  busy: boolean;
  onCreate: (agent: { name: string; role: AgentRole }) => void;
}) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<AgentRole>('enrichment');
  return (
    <Flex gap="sm" wrap="wrap" align="end">
      <Input name="new-agent-name" label="New agent's name" value={name} onChange={setName} />
      <Select
        name="new-agent-role"
        label="Role"
        options={MATRIX_ROLES.map((value) => ({ label: value, value }))}
        value={role}
        onChange={(value) => setRole(value as AgentRole)}
      />
      <Button
        testId="create-agent"
        size="xs"
        variant="primary"
        disabled={busy || name.trim() === ''}
        onClick={() => onCreate({ name: name.trim(), role })}
      >
        Create agent
      </Button>
    </Flex>
  );
}
