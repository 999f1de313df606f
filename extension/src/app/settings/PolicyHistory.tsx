import type React from 'react';
import {
  Button,
  Flex,
  Heading,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import type { SettingsView } from '../../../../shared/extension-api.ts';
import { historyRows } from '../lib/views/agents.ts';

interface PolicyHistoryProps {
  view: SettingsView;
  /** Whether this role may restore (it publishes, so owners and RevOps admins). */
  editable: boolean;
  /** Unpublished edits would be silently overtaken by a restore, so it waits for them. */
  draftPending: boolean;
  busy: boolean;
  onRestore: (version: number) => void;
  children?: React.ReactNode;
}

/** Every published version, who published it and when; an earlier one can be published again as the next version. */
export function PolicyHistory({ view, editable, draftPending, busy, onRestore, children }: PolicyHistoryProps) {
  return (
    <Flex direction="column" gap="xs">
      <Heading>Policy history</Heading>
      {editable && draftPending ? (
        <Text variant="microcopy">
          Publish your edits above first: restoring a version replaces the policy they were made on.
        </Text>
      ) : null}
      <Table bordered={true}>
        <TableHead>
          <TableRow>
            <TableHeader>Version</TableHeader>
            <TableHeader>Published by</TableHeader>
            <TableHeader>At</TableHeader>
            {editable ? <TableHeader>Restore</TableHeader> : null}
          </TableRow>
        </TableHead>
        <TableBody>
          {historyRows(view).map((row) => (
            <TableRow key={row.version}>
              <TableCell>{row.restorable ? String(row.version) : `${row.version} (in force)`}</TableCell>
              <TableCell>{row.publishedBy}</TableCell>
              <TableCell>{new Date(row.createdAt).toLocaleString()}</TableCell>
              {editable ? (
                <TableCell>
                  {row.restorable ? (
                    <Button
                      testId={`restore-${row.version}`}
                      size="xs"
                      variant="secondary"
                      disabled={busy || draftPending}
                      onClick={() => onRestore(row.version)}
                    >
                      Restore this version
                    </Button>
                  ) : null}
                </TableCell>
              ) : null}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {children}
    </Flex>
  );
}
