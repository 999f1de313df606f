import { useState } from 'react';
import { Alert, Button, Flex, Heading, Input, Select, Text } from '@hubspot/ui-extensions';
import type { SettingsView } from '../../../../shared/extension-api.ts';
import type { KillSwitchScope, SegmentCondition } from '../../../../shared/kill-switch.ts';
import { MATRIX_OBJECT_TYPES } from '../lib/views/policy-matrix.ts';
import { visibleText } from '../lib/views/display-text.ts';
import {
  RECORD_MATCH_OP_NAMES,
  recordMatchText,
  type SegmentConditionFields,
  segmentConditionFrom,
} from '../lib/views/policy-rules.ts';

type Scope = KillSwitchScope;

export interface KillSwitchChange {
  scope: Scope;
  target?: string;
  /** A segment by record condition (issue 21) instead of a target. */
  condition?: SegmentCondition;
  engaged: boolean;
  reason: string;
  /** Release an agent a kill trigger stopped although its regression set fails (owners only). */
  force?: boolean;
}

/** A release the server refused because the agent's regression set fails (409 REGRESSION_FAILED), with its failures. */
export interface RefusedRelease {
  change: KillSwitchChange;
  failures: string[];
}

/** The scoped stops (issue 21) a person sets here by naming them; a segment is a HubSpot list id. */
const SCOPED: { scope: Scope; label: string; prefix: string }[] = [
  { scope: 'segment', label: 'List', prefix: 'list:' },
  { scope: 'recipient_domain', label: 'Recipient domain', prefix: '' },
  { scope: 'template', label: 'Template family', prefix: '' },
  { scope: 'evidence_source', label: 'Evidence source', prefix: '' },
];

const options = (values: readonly string[]) => values.map((value) => ({ label: value, value }));

function scopedLabel(row: SettingsView['killSwitches'][number]): string {
  if (row.scope === 'segment' && row.condition) return `Records where ${recordMatchText(row.condition)}`;
  return `${SCOPED.find((scoped) => scoped.scope === row.scope)!.label} ${row.target ?? ''}`;
}

interface KillSwitchesProps {
  view: SettingsView;
  editable: boolean;
  /** An owner may release an agent past a failing regression set. */
  canForce: boolean;
  refused: RefusedRelease | null;
  onChange: (change: KillSwitchChange) => void;
}

/**
 * Stop or release all agents, or one, or a scoped stop (a list, records matching a condition, a
 * recipient domain, a template family, an evidence source); a reason is required, because the
 * audit log keeps it. An agent a kill trigger stopped is released only once its regression set
 * passes, or by an owner forcing it past the failures the server names.
 */
export function KillSwitches({ view, editable, canForce, refused, onChange }: KillSwitchesProps) {
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
      .map((agent) => ({
        scope: 'agent' as const,
        target: agent.id,
        label: `${visibleText(agent.name)} (${agent.role})`,
      })),
    ...view.killSwitches
      .filter((row) => SCOPED.some((scoped) => scoped.scope === row.scope))
      .map((row) => ({ scope: row.scope, target: row.target, label: scopedLabel(row) })),
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
      {view.killSwitches
        .filter((row) => row.engaged && row.notUnderstood)
        .map((row) => (
          <Alert
            key={`not-understood:${row.scope}:${row.target ?? ''}`}
            title="A stored kill switch is not understood"
            variant="danger"
          >
            {visibleText(row.notUnderstood!)}
          </Alert>
        ))}
      {refused ? (
        <Alert title="Not released: its regression set fails under the policy in force" variant="danger">
          {refused.failures.map((failure) => (
            <Text key={failure}>{failure}</Text>
          ))}
          {canForce ? (
            <Button
              testId="force-release"
              size="xs"
              variant="destructive"
              onClick={() => onChange({ ...refused.change, force: true })}
            >
              Release anyway (audited with these failures)
            </Button>
          ) : (
            <Text variant="microcopy">Fix the policy or the cases, or ask an owner to release it anyway.</Text>
          )}
        </Alert>
      ) : null}
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
      {editable ? (
        <SegmentByCondition
          disabled={reason.trim() === ''}
          onStop={(condition) => onChange({ scope: 'segment', condition, engaged: true, reason: reason.trim() })}
        />
      ) : null}
    </Flex>
  );
}

/** A segment by record condition (issue 21): agents stop acting on the records it matches when read. */
function SegmentByCondition({
  disabled,
  onStop,
}: {
  disabled: boolean;
  onStop: (condition: SegmentCondition) => void;
}) {
  const [condition, setCondition] = useState<SegmentConditionFields>({
    objectType: 'contacts',
    property: '',
    op: 'eq',
    operand: '',
  });
  const noOperand = condition.op === 'is_empty' || condition.op === 'not_empty';
  const built = segmentConditionFrom(condition);
  return (
    <Flex gap="sm" align="end" wrap="wrap">
      <Select
        name="kill-condition-objectType"
        label="Stop records where"
        options={options(MATRIX_OBJECT_TYPES)}
        value={condition.objectType}
        onChange={(value) => setCondition({ ...condition, objectType: value as typeof condition.objectType })}
      />
      <Input
        name="kill-condition-property"
        label="Property"
        value={condition.property}
        onChange={(property: string) => setCondition({ ...condition, property })}
      />
      <Select
        name="kill-condition-op"
        label="Is"
        options={options(RECORD_MATCH_OP_NAMES)}
        value={condition.op}
        onChange={(op) => setCondition({ ...condition, op: op as SegmentCondition['op'] })}
      />
      {noOperand ? null : (
        <Input
          name="kill-condition-operand"
          label={condition.op === 'in' ? 'Values (comma-separated)' : 'Value'}
          value={condition.operand}
          onChange={(operand: string) => setCondition({ ...condition, operand })}
        />
      )}
      <Button
        testId="kill-segment-condition"
        size="xs"
        variant="destructive"
        disabled={disabled || built.property === ''}
        onClick={() => onStop(built)}
      >
        Stop
      </Button>
    </Flex>
  );
}
