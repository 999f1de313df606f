import { useState } from 'react';
import { Box, Button, ButtonRow, Divider, Flex, Heading, Text, TextArea } from '@hubspot/ui-extensions';
import type { HeldEntryDecision, PendingRecordEntry } from '../../../../shared/extension-api.ts';
import { decisionControls } from '../lib/views/decision-controls.ts';
import { heldEntrySentence, heldEntryWhy } from '../lib/views/held-entry-view.ts';

export interface HeldEntriesProps {
  entries: PendingRecordEntry[];
  killSwitchEngaged: boolean;
  busy: boolean;
  onDecide: (entry: PendingRecordEntry, decision: HeldEntryDecision) => void;
}

/** Links agents want to make from or to this record, and records they want to create that likely duplicate it (issue 21). */
export function HeldEntries({ entries, killSwitchEngaged, busy, onDecide }: HeldEntriesProps) {
  if (entries.length === 0) return null;
  return (
    <Flex direction="column" gap="xs">
      <Heading>{`Links and records waiting for a person (${entries.length})`}</Heading>
      {entries.map((entry) => (
        <HeldEntryItem
          key={entry.approval.id}
          entry={entry}
          killSwitchEngaged={killSwitchEngaged}
          busy={busy}
          onDecide={onDecide}
        />
      ))}
    </Flex>
  );
}

function HeldEntryItem({
  entry,
  killSwitchEngaged,
  busy,
  onDecide,
}: Omit<HeldEntriesProps, 'entries'> & { entry: PendingRecordEntry }) {
  const [reason, setReason] = useState<string | null>(null);
  const controls = decisionControls(entry, { killSwitchEngaged });
  const id = entry.approval.id;
  return (
    <Box>
      <Flex direction="column" gap="xs">
        <Text testId={`held-${id}`} format={{ fontWeight: 'bold' }}>
          {heldEntrySentence(entry)}
        </Text>
        <Text testId={`held-${id}-why`} variant="microcopy">
          {heldEntryWhy(entry)}
        </Text>
        {reason !== null ? (
          <TextArea
            name={`held-reason-${id}`}
            label="Why reject?"
            required={true}
            value={reason}
            onChange={(value: string) => setReason(value)}
          />
        ) : null}
        {controls.unavailableReason ? <Text variant="microcopy">{controls.unavailableReason}</Text> : null}
        <ButtonRow>
          {reason === null && controls.approve ? (
            <Button
              testId={`held-approve-${id}`}
              variant="primary"
              size="xs"
              disabled={busy}
              onClick={() => onDecide(entry, { kind: 'approve' })}
            >
              Approve
            </Button>
          ) : null}
          {reason === null && controls.reject ? (
            <Button
              testId={`held-reject-${id}`}
              variant="destructive"
              size="xs"
              disabled={busy}
              onClick={() => setReason('')}
            >
              Reject
            </Button>
          ) : null}
          {reason !== null ? (
            <>
              <Button
                testId={`held-confirm-reject-${id}`}
                variant="destructive"
                size="xs"
                disabled={busy || reason.trim() === ''}
                onClick={() => onDecide(entry, { kind: 'reject', reason: reason.trim() })}
              >
                Confirm reject
              </Button>
              <Button size="xs" variant="secondary" onClick={() => setReason(null)}>
                Cancel
              </Button>
            </>
          ) : null}
        </ButtonRow>
      </Flex>
      <Divider />
    </Box>
  );
}
