import React from 'react';
import { Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { PendingDraft } from '../../../../shared/extension-api.ts';
import { showValue } from '../lib/views/proposal-view.ts';

const KIND_LABELS: Record<PendingDraft['kind'], string> = { send_email: 'Email', create_task: 'Task', create_note: 'Note' };

/** Emails, tasks and notes agents drafted for this record, waiting for a person (decided in the admin API for now). */
export function Drafts({ drafts }: { drafts: PendingDraft[] }) {
  return (
    <Flex direction="column" gap="xs">
      <Heading>{`Drafts waiting to be sent (${drafts.length})`}</Heading>
      {drafts.length === 0 ? <Text variant="microcopy">No draft waits for this record.</Text> : null}
      {drafts.map((draft) => (
        <Text key={draft.id} testId={`draft-${draft.id}`}>{`${KIND_LABELS[draft.kind]} by ${draft.agent.name}: ${showValue(draft.summary).text}`}</Text>
      ))}
    </Flex>
  );
}
