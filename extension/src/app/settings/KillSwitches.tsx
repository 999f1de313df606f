import { useState } from 'react';
import { Button, Flex, Heading, Input, Text } from '@hubspot/ui-extensions';
import type { SettingsView } from '../../../../shared/extension-api.ts';
import type { KillSwitchScope } from '../../../../shared/kill-switch.ts';

type Scope = KillSwitchScope;

export interface KillSwitchChange {
  scope: Scope;
  target?: string;
  engaged: boolean;
  reason: string;
}

/** The scoped stops (issue 21) a person sets here by naming them; a segment is a HubSpot list id. */
const SCOPED: { scope: Scope; label: string; prefix: string }[] = [
  { scope: 'segment', label: 'List', prefix: 'list:' },
  { scope: 'recipient_domain', label: 'Recipient domain', prefix: '' },
  { scope: 'template', label: 'Template family', prefix: '' },
  { scope: 'evidence_source', label: 'Evidence source', prefix: '' },
];

/**
 * Stop or release all agents, or one, or a scoped stop (a list, a recipient domain, a template
 * family, an evidence source); a reason is required, because the audit log keeps it.
 */
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
  const [scopedTargets, setScopedTargets] = useState<Record<string, string>>({});
  const engaged = (scope: Scope, target: string | null) =>
    view.killSwitches.some((row) => row.scope === scope && row.target === target && row.engaged);
  const toggle = (scope: Scope, target: string | null) => {
    const on = engaged(scope, target);
    onChange({ scope, ...(target ? { target } : {}), engaged: !on, reason: reason.trim() });
  };
  const targets: { scope: Scope; target: string | null; label: string }[] = [
    { scope: 'workspace', target: null, label: 'All agents' },
    ...view.agents
      .filter((agent) => agent.status !== 'revoked')
      .map((agent) => ({ scope: 'agent' as const, target: agent.id, label: `${agent.name} (${agent.role})` })),
    ...view.killSwitches
      .filter((row) => SCOPED.some((scoped) => scoped.scope === row.scope))
      .map((row) => ({
        scope: row.scope,
        target: row.target,
        label: `${SCOPED.find((scoped) => scoped.scope === row.scope)!.label} ${row.target ?? ''}`,
      })),
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
      {editable
        ? SCOPED.map(({ scope, label, prefix }) => (
            <Flex key={scope} gap="sm" align="end">
              <Input
                name={`kill-${scope}-target`}
                label={`${label} to stop${prefix ? ' (list id)' : ''}`}
                value={scopedTargets[scope] ?? ''}
                onChange={(value) => setScopedTargets({ ...scopedTargets, [scope]: value })}
              />
              <Button
                testId={`kill-${scope}-new`}
                size="xs"
                variant="destructive"
                disabled={reason.trim() === '' || (scopedTargets[scope] ?? '').trim() === ''}
                onClick={() =>
                  onChange({
                    scope,
                    target: `${prefix}${(scopedTargets[scope] ?? '').trim()}`,
                    engaged: true,
                    reason: reason.trim(),
                  })
                }
              >
                Stop
              </Button>
            </Flex>
          ))
        : null}
    </Flex>
  );
}
