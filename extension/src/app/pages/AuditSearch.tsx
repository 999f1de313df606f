import { useState } from 'react';
import {
  Button,
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
import type { AuditSearchResult } from '../../../../shared/extension-api.ts';
import { callBackend, query, type Fetcher } from '../lib/api.ts';
import { showValue } from '../lib/views/proposal-view.ts';

type SearchState =
  | { kind: 'idle' }
  | { kind: 'searching' }
  | { kind: 'done'; result: AuditSearchResult }
  | { kind: 'failed'; message: string };

/** The audit trail, newest first, by batch or record. */
export function AuditSearch({ fetcher, initialBatch = '' }: { fetcher: Fetcher; initialBatch?: string }) {
  const [batch, setBatch] = useState(initialBatch);
  const [record, setRecord] = useState('');
  const [state, setState] = useState<SearchState>({ kind: 'idle' });
  const search = async () => {
    setState({ kind: 'searching' });
    const result = await callBackend<AuditSearchResult>(
      fetcher,
      `/audit${query({ batch: batch.trim(), record: record.trim(), limit: 50 })}`,
    );
    setState(result.ok ? { kind: 'done', result: result.data } : { kind: 'failed', message: result.message });
  };
  return (
    <Flex direction="column" gap="xs">
      <Heading>Audit trail</Heading>
      <Flex gap="sm" align="end">
        <Input name="audit-batch" label="Batch" value={batch} onChange={setBatch} />
        <Input name="audit-record" label="Record id" value={record} onChange={setRecord} />
        <Button testId="audit-search" disabled={state.kind === 'searching'} onClick={() => void search()}>
          Search
        </Button>
      </Flex>
      {state.kind === 'failed' ? <Text>{state.message}</Text> : null}
      {state.kind === 'done' && state.result.events.length === 0 ? <Text>No audit event matches.</Text> : null}
      {state.kind === 'done' && state.result.events.length > 0 ? (
        <Table>
          <TableHead>
            <TableRow>
              <TableHeader>#</TableHeader>
              <TableHeader>When</TableHeader>
              <TableHeader>Event</TableHeader>
              <TableHeader>Record</TableHeader>
              <TableHeader>Change</TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {state.result.events.map((event) => (
              <TableRow key={event.seq}>
                <TableCell>{String(event.seq)}</TableCell>
                <TableCell>{new Date(event.occurredAt).toLocaleString()}</TableCell>
                <TableCell>{event.type}</TableCell>
                <TableCell>{event.recordId ?? ''}</TableCell>
                <TableCell>{event.after === null ? '' : showValue(JSON.stringify(event.after), 60).text}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
    </Flex>
  );
}
