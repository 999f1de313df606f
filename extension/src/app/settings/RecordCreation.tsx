import { useState } from 'react';
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
import type { AgentRole, ObjectType } from '../../../../shared/crm-names.ts';
import type { ObjectPolicy, Policy, Tier } from '../../../../shared/policy.ts';
import { MATRIX_ROLES, MATRIX_TIERS } from '../lib/views/policy-matrix.ts';
import {
  DUPLICATE_CHOICES,
  READ_ROLE_NAMES,
  withObjectSetting,
  withOptional,
  withReadAccess,
} from '../lib/views/policy-rules.ts';

const NONE = 'none';
const CREATE_OPTIONS = [
  { label: 'may not create', value: NONE },
  ...MATRIX_TIERS.map((tier) => ({ label: tier, value: tier })),
];
const READ_OPTIONS = [
  { label: 'not read', value: NONE },
  { label: 'full', value: 'full' },
  { label: 'masked', value: 'masked' },
];

interface RecordCreationProps {
  objectType: ObjectType;
  policy: Policy;
  editable: boolean;
  onChange: (policy: Policy) => void;
}

/**
 * Record creation and governed reads for one object type (issue 21): who may create a record and
 * at what tier, what a likely duplicate of an existing one does, and which properties each agent
 * role reads through the governance API, in full or masked.
 */
export function RecordCreation({ objectType, policy, editable, onChange }: RecordCreationProps) {
  const object = policy.objects[objectType];
  const duplicate = object?.onDuplicate ?? 'deny';
  const singular = objectType.slice(0, -1);
  const setCreate = (role: AgentRole, tier: string) => {
    const create = withOptional(object?.create ?? {}, role, tier === NONE ? undefined : (tier as Tier));
    // An empty map of tiers is left out, as a document that never named any.
    onChange(withObjectSetting(policy, objectType, 'create', Object.keys(create).length > 0 ? create : undefined));
  };
  return (
    <Flex direction="column" gap="xs">
      <Heading>{`${objectType}: creating records and governed reads`}</Heading>
      <Table bordered={true}>
        <TableHead>
          <TableRow>
            <TableHeader>Create (a role not named may not)</TableHeader>
            {MATRIX_ROLES.map((role) => (
              <TableHeader key={role}>{role}</TableHeader>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          <TableRow>
            <TableCell>{`a new ${singular}`}</TableCell>
            {MATRIX_ROLES.map((role) => (
              <TableCell key={role}>
                {editable ? (
                  <Select
                    name={`create.${objectType}.${role}`}
                    label=""
                    options={CREATE_OPTIONS}
                    value={object?.create?.[role] ?? NONE}
                    onChange={(tier) => setCreate(role, String(tier))}
                  />
                ) : (
                  <Text>{object?.create?.[role] ?? 'may not create'}</Text>
                )}
              </TableCell>
            ))}
          </TableRow>
        </TableBody>
      </Table>
      {editable ? (
        <Select
          name={`duplicate.${objectType}`}
          label={`A likely duplicate of an existing ${singular} is`}
          options={DUPLICATE_CHOICES.map(([value, label]) => ({ label, value }))}
          value={duplicate}
          onChange={(value) =>
            onChange(
              withObjectSetting(
                policy,
                objectType,
                'onDuplicate',
                // The default left out, as a document that never set it.
                value === 'deny' ? undefined : (value as ObjectPolicy['onDuplicate']),
              ),
            )
          }
        />
      ) : (
        <Text>{`A likely duplicate of an existing ${singular} is ${DUPLICATE_CHOICES.find(([tier]) => tier === duplicate)?.[1]}.`}</Text>
      )}
      <Reads objectType={objectType} policy={policy} editable={editable} onChange={onChange} />
    </Flex>
  );
}

function Reads({ objectType, policy, editable, onChange }: RecordCreationProps) {
  const read = policy.objects[objectType]?.read ?? {};
  // A property added here shows until a role is given it; with no role it is not read, as if never named.
  const [added, setAdded] = useState<string[]>([]);
  const [property, setProperty] = useState('');
  const properties = [...new Set([...Object.keys(read), ...added])].sort();
  const typed = property.trim();
  return (
    <Flex direction="column" gap="xs">
      {properties.length === 0 ? (
        <Text>{`Agents read no ${objectType} property through the governance API.`}</Text>
      ) : (
        <Table bordered={true}>
          <TableHead>
            <TableRow>
              <TableHeader>Governed read (* for the other roles)</TableHeader>
              {READ_ROLE_NAMES.map((role) => (
                <TableHeader key={role}>{role}</TableHeader>
              ))}
            </TableRow>
          </TableHead>
          <TableBody>
            {properties.map((name) => (
              <TableRow key={name}>
                <TableCell>{name}</TableCell>
                {READ_ROLE_NAMES.map((role) => {
                  const access = read[name]?.[role];
                  return (
                    <TableCell key={role}>
                      {editable ? (
                        <Select
                          name={`read.${objectType}.${name}.${role}`}
                          label=""
                          options={READ_OPTIONS}
                          value={access ?? NONE}
                          onChange={(value) =>
                            onChange(
                              withReadAccess(policy, {
                                objectType,
                                property: name,
                                role,
                                access: value === 'full' || value === 'masked' ? value : undefined,
                              }),
                            )
                          }
                        />
                      ) : (
                        <Text>{access ?? '—'}</Text>
                      )}
                    </TableCell>
                  );
                })}
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {editable ? (
        <Flex gap="sm" align="end">
          <Input
            name={`read.${objectType}.new`}
            label={`Let agents read another ${objectType} property`}
            value={property}
            error={properties.includes(typed)}
            validationMessage={properties.includes(typed) ? `${typed} is already listed.` : ''}
            onChange={setProperty}
          />
          <Button
            testId={`add-read-${objectType}`}
            size="xs"
            disabled={typed === '' || properties.includes(typed)}
            onClick={() => {
              setAdded([...added, typed]);
              setProperty('');
            }}
          >
            Add read property
          </Button>
        </Flex>
      ) : null}
    </Flex>
  );
}
