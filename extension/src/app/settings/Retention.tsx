import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Button,
  Flex,
  Heading,
  Input,
  LoadingSpinner,
  Table,
  TableBody,
  TableCell,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import type { RetentionView } from '../../../../shared/retention-api.ts';
import type { Fetcher, Send } from '../lib/api.ts';
import { createUseBackendData } from '../lib/load-state.ts';
import {
  RETENTION_NOTE,
  RETENTION_PERIODS,
  RETENTION_SAVED,
  retentionFromTexts,
  retentionRunText,
  retentionTexts,
} from '../lib/views/retention.ts';

const useBackendData = createUseBackendData({ useEffect, useRef, useState, useCallback });

/**
 * How long the workspace keeps data that names people (issue 21; docs/retention.md), in days or
 * blank for ever, and when the retention job runs next. Owners and RevOps admins change them.
 */
export function Retention({ fetcher, editable, send }: { fetcher: Fetcher; editable: boolean; send: Send }) {
  const { state, reload } = useBackendData<RetentionView>(fetcher, '/retention');
  if (state.kind === 'loading') return <LoadingSpinner label="Loading retention" />;
  if (state.kind !== 'ready') return <Text>{`Retention could not load: ${state.message}`}</Text>;
  // Keyed on what the server holds, so the fields start from it again after a save.
  return (
    <RetentionForm
      key={JSON.stringify(state.data.periods)}
      retention={state.data}
      editable={editable}
      onSave={async (periods) => {
        if ((await send('/retention', { method: 'PUT', body: periods }, RETENTION_SAVED)).ok) reload();
      }}
    />
  );
}

function RetentionForm(props: {
  retention: RetentionView;
  editable: boolean;
  onSave: (periods: Record<string, number | null>) => Promise<void>;
}) {
  const { retention, editable } = props;
  const [texts, setTexts] = useState(() => retentionTexts(retention.periods));
  const typed = retentionFromTexts(texts);
  return (
    <Flex direction="column" gap="xs">
      <Heading>Retention</Heading>
      <Text variant="microcopy">{RETENTION_NOTE}</Text>
      <Table bordered={true}>
        <TableBody>
          {RETENTION_PERIODS.map(({ field, label }) => (
            <TableRow key={field}>
              <TableCell>{`${label} (days)`}</TableCell>
              <TableCell>
                {editable ? (
                  <Input
                    name={`retention.${field}`}
                    label=""
                    placeholder="for ever"
                    value={texts[field]}
                    onChange={(value: string) => setTexts({ ...texts, [field]: value })}
                  />
                ) : (
                  <Text>{texts[field] === '' ? 'for ever' : texts[field]}</Text>
                )}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Text>{retentionRunText(retention)}</Text>
      {editable && !typed.ok ? <Text variant="microcopy">{typed.message}</Text> : null}
      {editable ? (
        <Button
          testId="save-retention"
          size="xs"
          disabled={!typed.ok}
          onClick={() => {
            if (typed.ok) void props.onSave(typed.periods);
          }}
        >
          Save retention
        </Button>
      ) : (
        <Text variant="microcopy">Owners and RevOps admins change how long data is kept.</Text>
      )}
    </Flex>
  );
}
