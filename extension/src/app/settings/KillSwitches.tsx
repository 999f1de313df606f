import { useState } from 'react';
import { Button, Flex, Heading, Input, Text } from '@hubspot/ui-extensions';
import type { SettingsView } from '../../../../shared/extension-api.ts';

export interface KillSwitchChange {
  scope: 'workspace' | 'agent';
  target?: string;
  engaged: boolean;
  reason: string;
}

/** Stop or release all agents, or one; a reason is required, because the audit log keeps it. */
export function KillSwitches({
  view,
  editable,
  onChange,
}: {
  view: SettingsView;
  editable: boolean;
  onChange: (change: KillSwitchChange) => void;
}) {
  const [reason, setReason] = useState('');
  const engaged = (scope: 'workspace' | 'agent', target: string | null) =>
    view.killSwitches.some((row) => row.scope === scope && row.target === target && row.engaged);
  const toggle = (scope: 'workspace' | 'agent', target: string | null) => {
    const on = engaged(scope, target);
    onChange({ scope, ...(target ? { target } : {}), engaged: !on, reason: reason.trim() });
  };
  const targets: { scope: 'workspace' | 'agent'; target: string | null; label: string }[] = [
    { scope: 'workspace', target: null, label: 'All agents' },
    ...view.agents
      .filter((agent) => agent.status !== 'revoked')
      .map((agent) => ({ scope: 'agent' as const, target: agent.id, label: `${agent.name} (${agent.role})` })),
  ];
  return (
    <Flex direction="column" gap="xs">
      <Heading>Kill switches</Heading>
      {editable ? (
        <Input name="kill-switch-reason" label="Reason (required)" value={reason} onChange={setReason} />
      ) : null}
      {targets.map(({ scope, target, label }) => (
        <Flex key={`${scope}:${target ?? ''}`} gap="sm" align="center">
          <Text>{`${label}: ${engaged(scope, target) ? 'stopped' : 'running'}`}</Text>
          {editable ? (
            <Button
              testId={`kill-${scope}-${target ?? 'all'}`}
              size="xs"
              variant={engaged(scope, target) ? 'secondary' : 'destructive'}
              disabled={reason.trim() === ''}
              onClick={() => toggle(scope, target)}
            >
              {engaged(scope, target) ? 'Release' : 'Stop'}
            </Button>
          ) : null}
        </Flex>
      ))}
    </Flex>
  );
}
