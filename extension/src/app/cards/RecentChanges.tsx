import React from 'react';
import { Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { RecentAgentChange } from '../../../../shared/extension-api.ts';
import { groupByChangeSet, showValue } from '../lib/views/proposal-view.ts';

/** What agents wrote on this record lately, grouped by change set. */
export function RecentChanges({ changes }: { changes: RecentAgentChange[] }) {
  return (
    <Flex direction="column" gap="xs">
      <Heading>Recent agent changes</Heading>
      {changes.length === 0 ? <Text variant="microcopy">No agent has changed this record.</Text> : null}
      {groupByChangeSet(changes).map((group) => (
        <Flex key={group.changeSetId} direction="column" gap="flush">
          <Text variant="microcopy">{`${group.changes[0]?.agent.name} · ${group.changes[0]?.batchId} · ${new Date(group.changes[0]?.at ?? 0).toLocaleString()}`}</Text>
          {group.changes.map((change) => (
            <Text key={change.changeId}>{`${change.property}: ${showValue(change.before).text} → ${showValue(change.after).text}`}</Text>
          ))}
        </Flex>
      ))}
    </Flex>
  );
}
