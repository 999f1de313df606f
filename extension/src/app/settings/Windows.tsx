import { Button, Flex, Heading, Input, MultiSelect, Text } from '@hubspot/ui-extensions';
import type { Policy, TimeWindow } from '../../../../shared/policy.ts';
import { MATRIX_ROLES } from '../lib/views/policy-matrix.ts';
import {
  WEEKDAY_NAMES,
  WINDOW_ACTIONS,
  newWindow,
  windowSummary,
  withOptional,
  withWindow,
} from '../lib/views/policy-rules.ts';

interface WindowsProps {
  policy: Policy;
  editable: boolean;
  onChange: (policy: Policy) => void;
}

const options = (values: readonly string[]) => values.map((value) => ({ label: value, value }));

/** When agents may act: an action a window governs for a role happens only inside one of its windows. */
export function Windows({ policy, editable, onChange }: WindowsProps) {
  const update = (index: number, window: TimeWindow | null) => onChange(withWindow(policy, index, window));
  return (
    <Flex direction="column" gap="xs">
      <Heading>Time windows</Heading>
      {policy.windows.length === 0 ? <Text>No window: agents may act at any hour.</Text> : null}
      {policy.windows.map((window, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: entries have no identity but their place in the policy's list.
        <Flex key={index} direction="column" gap="xs">
          <Text format={{ fontWeight: 'demibold' }}>{windowSummary(window)}</Text>
          {editable ? <WindowFields index={index} window={window} onChange={(next) => update(index, next)} /> : null}
        </Flex>
      ))}
      {editable ? (
        <Button testId="add-window" size="xs" onClick={() => update(policy.windows.length, newWindow())}>
          Add a window
        </Button>
      ) : null}
    </Flex>
  );
}

function WindowFields({
  index,
  window,
  onChange,
}: {
  index: number;
  window: TimeWindow;
  onChange: (window: TimeWindow | null) => void;
}) {
  return (
    <Flex gap="sm" wrap="wrap" align="end">
      <MultiSelect
        name={`window.${index}.actions`}
        label="Actions"
        options={options(WINDOW_ACTIONS)}
        value={window.actions}
        onChange={(actions) => onChange({ ...window, actions: actions as TimeWindow['actions'] })}
      />
      <MultiSelect
        name={`window.${index}.roles`}
        label="Agent roles (none: all)"
        options={options(MATRIX_ROLES)}
        value={window.roles ?? []}
        onChange={(roles) =>
          onChange(
            withOptional(window, 'roles', roles.length > 0 ? (roles as NonNullable<TimeWindow['roles']>) : undefined),
          )
        }
      />
      <MultiSelect
        name={`window.${index}.days`}
        label="Days"
        options={options(WEEKDAY_NAMES)}
        value={window.days}
        onChange={(days) => onChange({ ...window, days: days as TimeWindow['days'] })}
      />
      <Input
        name={`window.${index}.start`}
        label="From (HH:MM)"
        value={window.start}
        onChange={(start: string) => onChange({ ...window, start })}
      />
      <Input
        name={`window.${index}.end`}
        label="Until (HH:MM)"
        value={window.end}
        onChange={(end: string) => onChange({ ...window, end })}
      />
      <Input
        name={`window.${index}.timezone`}
        label="Time zone (empty: the policy's)"
        value={window.timezone ?? ''}
        onChange={(timezone: string) => onChange(withOptional(window, 'timezone', timezone.trim() || undefined))}
      />
      <Button testId={`remove-window-${index}`} size="xs" variant="secondary" onClick={() => onChange(null)}>
        Remove
      </Button>
    </Flex>
  );
}
