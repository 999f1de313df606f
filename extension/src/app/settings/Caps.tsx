import { useState } from 'react';
import {
  Flex,
  Heading,
  Input,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import type { AgentRole } from '../../../../shared/crm-names.ts';
import type { Caps as CapValues, Policy } from '../../../../shared/policy.ts';
import { MATRIX_ROLES } from '../lib/views/policy-matrix.ts';
import { CAP_LABELS, CAP_NAMES, parseCapInput, withCap, type CapName } from '../lib/views/policy-rules.ts';

interface CapsProps {
  policy: Policy;
  editable: boolean;
  onChange: (policy: Policy) => void;
}

/** Daily caps for the workspace and per agent role; an empty field is no cap. What is typed stays as typed until it is a number. */
export function Caps({ policy, editable, onChange }: CapsProps) {
  const [typed, setTyped] = useState<Record<string, string>>({});
  const scopes: { role: AgentRole | undefined; label: string; caps: CapValues | undefined }[] = [
    { role: undefined, label: 'Every agent', caps: policy.caps },
    ...MATRIX_ROLES.map((role) => ({ role, label: `${role} agents`, caps: policy.caps.roleCaps?.[role] })),
  ];
  const field = (role: AgentRole | undefined, cap: CapName, current: number | undefined) => {
    const name = `cap.${role ?? 'all'}.${cap}`;
    const text = typed[name] ?? (current === undefined ? '' : String(current));
    if (!editable) return <Text>{text === '' ? 'no cap' : text}</Text>;
    const parsed = parseCapInput(text);
    return (
      <Input
        name={name}
        label=""
        placeholder="no cap"
        value={text}
        error={!parsed.ok}
        validationMessage={parsed.ok ? '' : parsed.message}
        onChange={(value: string) => {
          setTyped({ ...typed, [name]: value });
          const next = parseCapInput(value);
          if (next.ok) onChange(withCap(policy, { ...(role ? { role } : {}), cap, value: next.value }));
        }}
      />
    );
  };
  return (
    <Flex direction="column" gap="xs">
      <Heading>Caps</Heading>
      <Text variant="microcopy">
        A write that would pass a daily cap is refused. A role's cap replaces the one for every agent; an empty field is
        no cap.
      </Text>
      <Table bordered={true}>
        <TableHead>
          <TableRow>
            <TableHeader>Applies to</TableHeader>
            {CAP_NAMES.map((cap) => (
              <TableHeader key={cap}>{CAP_LABELS[cap]}</TableHeader>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {scopes.map(({ role, label, caps }) => (
            <TableRow key={label}>
              <TableCell>{label}</TableCell>
              {CAP_NAMES.map((cap) => (
                <TableCell key={cap}>{field(role, cap, caps?.[cap])}</TableCell>
              ))}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Flex>
  );
}
