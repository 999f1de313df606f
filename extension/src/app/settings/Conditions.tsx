import { useState } from 'react';
import { Button, Flex, Heading, Select, Text } from '@hubspot/ui-extensions';
import type { Policy, PolicyCondition } from '../../../../shared/policy.ts';
import { CONDITION_KIND_NAMES, conditionSummary, newCondition, withCondition } from '../lib/views/policy-rules.ts';
import { ConditionFields } from './ConditionFields.tsx';

interface ConditionsProps {
  policy: Policy;
  editable: boolean;
  onChange: (policy: Policy) => void;
}

/** Conditions raise a write's tier (never lower it): low confidence, a matching record, an overwrite, thin evidence. */
export function Conditions({ policy, editable, onChange }: ConditionsProps) {
  const [kind, setKind] = useState<PolicyCondition['kind']>('confidence_below');
  const update = (index: number, condition: PolicyCondition | null) =>
    onChange(withCondition(policy, index, condition));
  return (
    <Flex direction="column" gap="xs">
      <Heading>Conditions</Heading>
      {policy.conditions.length === 0 ? <Text>No condition: each write gets the tier the matrix gives it.</Text> : null}
      {policy.conditions.map((condition, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: entries have no identity but their place in the policy's list.
        <Flex key={index} direction="column" gap="xs">
          <Text format={{ fontWeight: 'demibold' }}>{conditionSummary(condition)}</Text>
          {editable ? (
            <ConditionFields index={index} condition={condition} onChange={(next) => update(index, next)} />
          ) : null}
        </Flex>
      ))}
      {editable ? (
        <Flex gap="sm" align="end">
          <Select
            name="new-condition-kind"
            label="New condition"
            options={CONDITION_KIND_NAMES.map((value) => ({ label: value, value }))}
            value={kind}
            onChange={(value) => setKind(value as PolicyCondition['kind'])}
          />
          <Button testId="add-condition" size="xs" onClick={() => update(policy.conditions.length, newCondition(kind))}>
            Add
          </Button>
        </Flex>
      ) : null}
    </Flex>
  );
}
