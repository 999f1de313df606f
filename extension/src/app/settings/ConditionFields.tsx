import { useState } from 'react';
import { Button, Checkbox, Flex, Input, MultiSelect, Select } from '@hubspot/ui-extensions';
import type { PolicyCondition, RecordMatchesCondition } from '../../../../shared/policy.ts';
import { MATRIX_OBJECT_TYPES, MATRIX_ROLES } from '../lib/views/policy-matrix.ts';
import { RAISE_TIER_NAMES, RECORD_MATCH_OP_NAMES, listFromText, withOptional } from '../lib/views/policy-rules.ts';

const options = (values: readonly string[]) => values.map((value) => ({ label: value, value }));

interface ConditionFieldsProps {
  index: number;
  condition: PolicyCondition;
  onChange: (condition: PolicyCondition | null) => void;
}

/** One condition's fields: its own, the tier it raises to, and which properties and agent roles it covers (empty: all). */
export function ConditionFields({ index, condition, onChange }: ConditionFieldsProps) {
  const name = (field: string) => `condition.${index}.${field}`;
  return (
    <Flex gap="sm" wrap="wrap" align="end">
      <KindFields name={name} condition={condition} onChange={onChange} />
      <Select
        name={name('raiseTo')}
        label="Raise to"
        options={options(RAISE_TIER_NAMES)}
        value={condition.raiseTo}
        onChange={(raiseTo) => onChange({ ...condition, raiseTo: raiseTo as PolicyCondition['raiseTo'] })}
      />
      <Input
        name={name('properties')}
        label="Properties (comma-separated; empty: all)"
        value={(condition.properties ?? []).join(', ')}
        onChange={(text: string) => onChange(withOptional(condition, 'properties', listFromText(text)))}
      />
      <MultiSelect
        name={name('roles')}
        label="Agent roles (none: all)"
        options={options(MATRIX_ROLES)}
        value={condition.roles ?? []}
        onChange={(roles) =>
          onChange(
            withOptional(
              condition,
              'roles',
              roles.length > 0 ? (roles as NonNullable<PolicyCondition['roles']>) : undefined,
            ),
          )
        }
      />
      <Button testId={`remove-condition-${index}`} size="xs" variant="secondary" onClick={() => onChange(null)}>
        Remove
      </Button>
    </Flex>
  );
}

function KindFields({
  name,
  condition,
  onChange,
}: {
  name: (field: string) => string;
  condition: PolicyCondition;
  onChange: (condition: PolicyCondition) => void;
}) {
  // A threshold is typed as text: "0." on the way to "0.85" is not yet a number.
  const [threshold, setThreshold] = useState(condition.kind === 'confidence_below' ? String(condition.threshold) : '');
  switch (condition.kind) {
    case 'confidence_below':
      return (
        <Input
          name={name('threshold')}
          label="Confidence below (0–1)"
          value={threshold}
          onChange={(text: string) => {
            setThreshold(text);
            if (text.trim() !== '' && Number.isFinite(Number(text)))
              onChange({ ...condition, threshold: Number(text) });
          }}
        />
      );
    case 'record_matches':
      return <RecordMatchFields name={name} condition={condition} onChange={onChange} />;
    case 'evidence':
      return (
        <>
          <Checkbox
            name={name('requireUrl')}
            checked={condition.requireUrl ?? false}
            onChange={(checked: boolean) => onChange(withOptional(condition, 'requireUrl', checked || undefined))}
          >
            Require a source URL
          </Checkbox>
          <Input
            name={name('allowedSources')}
            label="Allowed sources (comma-separated)"
            value={(condition.allowedSources ?? []).join(', ')}
            onChange={(text: string) => onChange(withOptional(condition, 'allowedSources', listFromText(text)))}
          />
        </>
      );
    case 'overwrites_non_empty':
      return (
        <MultiSelect
          name={name('objectTypes')}
          label="Objects (none: all)"
          options={options(MATRIX_OBJECT_TYPES)}
          value={condition.objectTypes ?? []}
          onChange={(types) =>
            onChange(
              withOptional(
                condition,
                'objectTypes',
                types.length > 0 ? (types as NonNullable<typeof condition.objectTypes>) : undefined,
              ),
            )
          }
        />
      );
  }
}

function RecordMatchFields({
  name,
  condition,
  onChange,
}: {
  name: (field: string) => string;
  condition: RecordMatchesCondition;
  onChange: (condition: PolicyCondition) => void;
}) {
  const listOp = condition.op === 'in';
  const noOperand = condition.op === 'is_empty' || condition.op === 'not_empty';
  return (
    <>
      <Select
        name={name('objectType')}
        label="Record"
        options={options(MATRIX_OBJECT_TYPES)}
        value={condition.objectType}
        onChange={(objectType) =>
          onChange({ ...condition, objectType: objectType as RecordMatchesCondition['objectType'] })
        }
      />
      <Input
        name={name('property')}
        label="Property"
        value={condition.property}
        onChange={(property: string) => onChange({ ...condition, property: property.trim() })}
      />
      <Select
        name={name('op')}
        label="Is"
        options={options(RECORD_MATCH_OP_NAMES)}
        value={condition.op}
        onChange={(op) => onChange({ ...condition, op: op as RecordMatchesCondition['op'] })}
      />
      {noOperand ? null : (
        <Input
          name={name(listOp ? 'values' : 'value')}
          label={listOp ? 'Values (comma-separated)' : 'Value'}
          value={listOp ? (condition.values ?? []).join(', ') : String(condition.value ?? '')}
          onChange={(text: string) =>
            onChange(listOp ? withOptional(condition, 'values', listFromText(text)) : { ...condition, value: text })
          }
        />
      )}
    </>
  );
}
