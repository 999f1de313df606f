import { useState } from 'react';
import type { PolicyCondition, RecordMatchesCondition, Tier, TimeWindow } from '../../../../shared/policy.ts';
import { MATRIX_OBJECT_TYPES, MATRIX_ROLES, MATRIX_TIERS } from '../../../../shared/views/policy-matrix.ts';
import {
  listFromText,
  RAISE_TIER_NAMES,
  RECORD_MATCH_OP_NAMES,
  WEEKDAY_NAMES,
  WINDOW_ACTIONS,
  withOptional,
} from '../../../../shared/views/policy-rules.ts';

/**
 * The fields of one condition or time window, as the HubSpot settings page has them
 * (extension/src/app/settings/ConditionFields.tsx, Windows.tsx), in plain form controls. Values go
 * into the draft as typed; the policy schema judges the whole draft before it can be published.
 */

/** Checkboxes for a list where none ticked means "all" (undefined) unless `required`. */
export function Checks<T extends string>(props: {
  legend: string;
  options: readonly T[];
  value: readonly T[] | undefined;
  onChange: (value: T[] | undefined) => void;
}) {
  const chosen = new Set(props.value ?? []);
  return (
    <fieldset className="checks">
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <label key={option}>
          <input
            type="checkbox"
            checked={chosen.has(option)}
            onChange={(event) => {
              const next = props.options.filter((candidate) =>
                candidate === option ? event.target.checked : chosen.has(candidate),
              );
              props.onChange(next.length > 0 ? next : undefined);
            }}
          />{' '}
          {option}
        </label>
      ))}
    </fieldset>
  );
}

/** A comma-separated list typed as text: "a, " on the way to "a, b" keeps its comma while typing. */
export function ListInput(props: {
  label: string;
  value: readonly string[] | undefined;
  onChange: (value: string[] | undefined) => void;
}) {
  const [text, setText] = useState((props.value ?? []).join(', '));
  return (
    <label>
      {props.label}{' '}
      <input
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          props.onChange(listFromText(event.target.value));
        }}
      />
    </label>
  );
}

export function Choice<T extends string>(props: {
  label: string;
  options: readonly T[];
  value: T;
  onChange: (value: T) => void;
}) {
  return (
    <label>
      {props.label}{' '}
      <select value={props.value} onChange={(event) => props.onChange(event.target.value as T)}>
        {props.options.map((option) => (
          <option key={option}>{option}</option>
        ))}
      </select>
    </label>
  );
}

/** A tier per cell: a select for those who may edit, the tier as text for the others. */
export function TierSelect(props: {
  label: string;
  value: Tier | '';
  editable: boolean;
  onChange: (tier: Tier | '') => void;
  allowNone?: boolean;
}) {
  if (!props.editable) return <>{props.value || '—'}</>;
  return (
    <select
      aria-label={props.label}
      value={props.value}
      onChange={(event) => props.onChange(event.target.value as Tier | '')}
    >
      {props.allowNone && <option value="">not named (deny)</option>}
      {MATRIX_TIERS.map((tier) => (
        <option key={tier} value={tier}>
          {tier}
        </option>
      ))}
    </select>
  );
}

export function ConditionFields(props: {
  condition: PolicyCondition;
  onChange: (condition: PolicyCondition | null) => void;
}) {
  const { condition, onChange } = props;
  return (
    <div className="actions rule-fields">
      <KindFields condition={condition} onChange={onChange} />
      <Choice
        label="Raise to"
        options={RAISE_TIER_NAMES}
        value={condition.raiseTo}
        onChange={(raiseTo) => onChange({ ...condition, raiseTo: raiseTo as PolicyCondition['raiseTo'] })}
      />
      <ListInput
        label="Properties (comma-separated; empty: all)"
        value={condition.properties}
        onChange={(properties) => onChange(withOptional(condition, 'properties', properties))}
      />
      <Checks
        legend="Agent roles (none: all)"
        options={MATRIX_ROLES}
        value={condition.roles}
        onChange={(roles) => onChange(withOptional(condition, 'roles', roles))}
      />
      <button type="button" onClick={() => onChange(null)}>
        Remove
      </button>
    </div>
  );
}

function KindFields({
  condition,
  onChange,
}: {
  condition: PolicyCondition;
  onChange: (condition: PolicyCondition) => void;
}) {
  // A threshold is typed as text: "0." on the way to "0.85" is not yet a number.
  const [threshold, setThreshold] = useState(condition.kind === 'confidence_below' ? String(condition.threshold) : '');
  switch (condition.kind) {
    case 'confidence_below':
      return (
        <label>
          Confidence below (0–1){' '}
          <input
            inputMode="decimal"
            size={6}
            value={threshold}
            onChange={(event) => {
              setThreshold(event.target.value);
              const value = event.target.value.trim();
              if (value !== '' && Number.isFinite(Number(value))) onChange({ ...condition, threshold: Number(value) });
            }}
          />
        </label>
      );
    case 'record_matches':
      return <RecordMatchFields condition={condition} onChange={onChange} />;
    case 'evidence':
      return (
        <>
          <label>
            <input
              type="checkbox"
              checked={condition.requireUrl ?? false}
              onChange={(event) => onChange(withOptional(condition, 'requireUrl', event.target.checked || undefined))}
            />{' '}
            Require a source URL
          </label>
          <ListInput
            label="Allowed sources (comma-separated)"
            value={condition.allowedSources}
            onChange={(sources) => onChange(withOptional(condition, 'allowedSources', sources))}
          />
        </>
      );
    case 'overwrites_non_empty':
      return (
        <Checks
          legend="Objects (none: all)"
          options={MATRIX_OBJECT_TYPES}
          value={condition.objectTypes}
          onChange={(types) => onChange(withOptional(condition, 'objectTypes', types))}
        />
      );
  }
}

function RecordMatchFields({
  condition,
  onChange,
}: {
  condition: RecordMatchesCondition;
  onChange: (condition: PolicyCondition) => void;
}) {
  const listOp = condition.op === 'in';
  const noOperand = condition.op === 'is_empty' || condition.op === 'not_empty';
  return (
    <>
      <Choice
        label="Record"
        options={MATRIX_OBJECT_TYPES}
        value={condition.objectType}
        onChange={(objectType) => onChange({ ...condition, objectType })}
      />
      <label>
        Property{' '}
        <input
          value={condition.property}
          onChange={(event) => onChange({ ...condition, property: event.target.value.trim() })}
        />
      </label>
      <Choice
        label="Is"
        options={RECORD_MATCH_OP_NAMES}
        value={condition.op}
        onChange={(op) => onChange({ ...condition, op })}
      />
      {noOperand ? null : listOp ? (
        <ListInput
          label="Values (comma-separated)"
          value={condition.values}
          onChange={(values) => onChange(withOptional(condition, 'values', values))}
        />
      ) : (
        <label>
          Value{' '}
          <input
            value={String(condition.value ?? '')}
            onChange={(event) => onChange({ ...condition, value: event.target.value })}
          />
        </label>
      )}
    </>
  );
}

export function WindowFields(props: { window: TimeWindow; onChange: (window: TimeWindow | null) => void }) {
  const { window, onChange } = props;
  return (
    <div className="actions rule-fields">
      <Checks
        legend="Actions"
        options={WINDOW_ACTIONS}
        value={window.actions}
        onChange={(actions) => onChange({ ...window, actions: actions ?? [] })}
      />
      <Checks
        legend="Agent roles (none: all)"
        options={MATRIX_ROLES}
        value={window.roles}
        onChange={(roles) => onChange(withOptional(window, 'roles', roles))}
      />
      <Checks
        legend="Days"
        options={WEEKDAY_NAMES}
        value={window.days}
        onChange={(days) => onChange({ ...window, days: days ?? [] })}
      />
      <label>
        From (HH:MM){' '}
        <input size={5} value={window.start} onChange={(event) => onChange({ ...window, start: event.target.value })} />
      </label>
      <label>
        Until (HH:MM){' '}
        <input size={5} value={window.end} onChange={(event) => onChange({ ...window, end: event.target.value })} />
      </label>
      <label>
        Time zone (empty: the policy's){' '}
        <input
          value={window.timezone ?? ''}
          onChange={(event) => onChange(withOptional(window, 'timezone', event.target.value.trim() || undefined))}
        />
      </label>
      <button type="button" onClick={() => onChange(null)}>
        Remove
      </button>
    </div>
  );
}
