import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Alert,
  Button,
  Divider,
  ErrorState,
  Flex,
  Heading,
  LoadingSpinner,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
  hubspot,
} from '@hubspot/ui-extensions';
import type { HomeView } from '../../../../shared/extension-api.ts';
import { backendFetcher, type Fetcher } from '../lib/api.ts';
import { EXTENSION_API_URL } from '../lib/deployment.ts';
import { createUseBackendData } from '../lib/load-state.ts';
import { visibleText } from '../lib/views/display-text.ts';
import { AuditSearch } from './AuditSearch.tsx';
import { BatchRollback } from './BatchRollback.tsx';

const useBackendData = createUseBackendData({ useEffect, useRef, useState, useCallback });

hubspot.extend<'home'>(() => <Home fetcher={backendFetcher(hubspot.fetch, EXTENSION_API_URL)} />);

/** The app's home page (issue 8): recent batches with what still waits for a person, their rollback, and the audit trail. */
export function Home({ fetcher }: { fetcher: Fetcher }) {
  const { state, reload } = useBackendData<HomeView>(fetcher, '/home');
  const [rollingBack, setRollingBack] = useState<string | null>(null);
  if (state.kind === 'loading') return <LoadingSpinner label="Loading batches" />;
  if (state.kind === 'forbidden')
    return (
      <Alert title="No access" variant="warning">
        {state.message}
      </Alert>
    );
  if (state.kind === 'error')
    return (
      <ErrorState title="Agent Governance could not load.">
        <Text>{state.message}</Text>
        <Button onClick={reload}>Try again</Button>
      </ErrorState>
    );
  const { batches, caller } = state.data;
  return (
    <Flex direction="column" gap="md">
      <Heading>Batches</Heading>
      {batches.length === 0 ? (
        <Text>No agent has submitted a batch yet.</Text>
      ) : (
        <Table>
          <TableHead>
            <TableRow>
              <TableHeader>Batch</TableHeader>
              <TableHeader>Agents</TableHeader>
              <TableHeader>Change sets</TableHeader>
              <TableHeader>Waiting for a person</TableHeader>
              <TableHeader>Last</TableHeader>
              {caller.permissions.rollBack ? <TableHeader>Rollback</TableHeader> : null}
            </TableRow>
          </TableHead>
          <TableBody>
            {batches.map((batch) => (
              <TableRow key={batch.batchId}>
                <TableCell>{visibleText(batch.batchId)}</TableCell>
                <TableCell>{visibleText(batch.agents.join(', '))}</TableCell>
                <TableCell>{String(batch.changeSets)}</TableCell>
                <TableCell>{String(batch.pendingApprovals)}</TableCell>
                <TableCell>{new Date(batch.lastAt).toLocaleString()}</TableCell>
                {caller.permissions.rollBack ? (
                  <TableCell>
                    <Button
                      testId={`rollback-${batch.batchId}`}
                      size="xs"
                      variant="secondary"
                      onClick={() => setRollingBack(batch.batchId)}
                    >
                      Roll back…
                    </Button>
                  </TableCell>
                ) : null}
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {rollingBack ? (
        <BatchRollback
          key={rollingBack}
          fetcher={fetcher}
          batchId={rollingBack}
          onClose={() => {
            setRollingBack(null);
            reload();
          }}
        />
      ) : null}
      <Divider />
      <AuditSearch fetcher={fetcher} />
    </Flex>
  );
}
