import { Button, Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { RecentAgentChange } from '../../../../shared/extension-api.ts';
import { groupByChangeSet, showValue } from '../lib/views/proposal-view.ts';

export interface RecentChangesProps {
  changes: RecentAgentChange[];
  /** Present when this person may undo agents' changes. */
  onRevert?: (changeId: string) => void;
  busy: boolean;
}

/** What agents wrote on this record lately, grouped by change set, each with a one-click revert for those allowed. */
export function RecentChanges({ changes, onRevert, busy }: RecentChangesProps) {
  return (
    <Flex direction="column" gap="xs">
      <Heading>Recent agent changes</Heading>
      {changes.length === 0 ? <Text variant="microcopy">No agent has changed this record.</Text> : null}
      {groupByChangeSet(changes).map((group) => (
        <Flex key={group.changeSetId} direction="column" gap="flush">
          <Text variant="microcopy">{`${group.changes[0]?.agent.name} · ${group.changes[0]?.batchId} · ${new Date(group.changes[0]?.at ?? 0).toLocaleString()}`}</Text>
          {group.changes.map((change) => (
            <Flex key={change.changeId} gap="xs" align="center">
              <Text>{`${change.property}: ${showValue(change.before).text} → ${showValue(change.after).text}`}</Text>
              {onRevert ? (
                <Button
                  testId={`revert-${change.changeId}`}
                  size="xs"
                  variant="secondary"
                  disabled={busy}
                  onClick={() => onRevert(change.changeId)}
                >
                  Revert
                </Button>
              ) : null}
            </Flex>
          ))}
        </Flex>
      ))}
    </Flex>
  );
}
