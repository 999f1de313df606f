import { useState } from 'react';
import {
  Button,
  ButtonRow,
  Flex,
  Heading,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { Policy, Tier } from '../../../../shared/policy.ts';
import { pageInfo } from '../lib/views/pagination.ts';
import { MATRIX_ROLES, MATRIX_TIERS, matrixRows, withTier } from '../lib/views/policy-matrix.ts';

export const MATRIX_PAGE_SIZE = 20;
const TIER_OPTIONS = MATRIX_TIERS.map((tier) => ({ label: tier, value: tier }));

export interface PolicyMatrixProps {
  objectType: ObjectType;
  policy: Policy;
  editable: boolean;
  onChange: (policy: Policy) => void;
}

/** Property × agent role → tier for one object type, a page at a time (policies run to hundreds of properties). */
export function PolicyMatrix({ objectType, policy, editable, onChange }: PolicyMatrixProps) {
  const [page, setPage] = useState(1);
  const rows = matrixRows(policy, objectType);
  const info = pageInfo({
    page,
    pageSize: MATRIX_PAGE_SIZE,
    total: rows.length,
    items: rows.slice((page - 1) * MATRIX_PAGE_SIZE, page * MATRIX_PAGE_SIZE),
  });
  return (
    <Flex direction="column" gap="xs">
      <Heading>{objectType}</Heading>
      {rows.length === 0 ? <Text>No {objectType} property is governed: agents may write none.</Text> : null}
      {rows.length > 0 ? (
        <Table bordered={true}>
          <TableHead>
            <TableRow>
              <TableHeader>Property</TableHeader>
              {MATRIX_ROLES.map((role) => (
                <TableHeader key={role}>{role}</TableHeader>
              ))}
            </TableRow>
          </TableHead>
          <TableBody>
            {rows.slice((page - 1) * MATRIX_PAGE_SIZE, page * MATRIX_PAGE_SIZE).map((row) => (
              <TableRow key={row.property}>
                <TableCell>{row.property}</TableCell>
                {row.cells.map((cell) => (
                  <TableCell key={cell.role}>
                    {editable ? (
                      <Select
                        name={`${objectType}.${row.property}.${cell.role}`}
                        label=""
                        options={TIER_OPTIONS}
                        value={cell.tier}
                        onChange={(tier) =>
                          onChange(
                            withTier(policy, {
                              objectType,
                              property: row.property,
                              role: cell.role,
                              tier: tier as Tier,
                            }),
                          )
                        }
                      />
                    ) : (
                      <Text>{cell.inherited ? `${cell.tier} (default)` : cell.tier}</Text>
                    )}
                  </TableCell>
                ))}
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
      {info.pageCount > 1 ? (
        <ButtonRow>
          <Button size="xs" disabled={!info.hasPrevious} onClick={() => setPage(page - 1)}>
            Previous
          </Button>
          <Text variant="microcopy">{info.label}</Text>
          <Button size="xs" disabled={!info.hasNext} onClick={() => setPage(page + 1)}>
            Next
          </Button>
        </ButtonRow>
      ) : null}
    </Flex>
  );
}
