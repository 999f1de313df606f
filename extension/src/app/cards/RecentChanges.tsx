import { Button, Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { AgentCreation, RecentAgentChange } from '../../../../shared/extension-api.ts';
import { groupByChangeSet, showValue } from '../lib/views/proposal-view.ts';
import { visibleText } from '../lib/views/display-text.ts';

export interface RecentChangesProps {
  changes: RecentAgentChange[];
  /** The agent that created this record, if one did (issue 21). */
  createdBy?: AgentCreation | null;
  /** Present when this person may undo agents' changes. */
  onRevert?: (changeId: string) => void;
  busy: boolean;
}

/** What agents wrote on this record lately, grouped by change set, each with a one-click revert for those allowed. */
export function RecentChanges({ changes, createdBy, onRevert, busy }: RecentChangesProps) {
  return (
    <Flex direction="column" gap="xs">
      <Heading>Recent agent changes</Heading>
      {createdBy ? <Text testId="created-by">{createdByText(createdBy)}</Text> : null}
      {changes.length === 0 ? <Text variant="microcopy">No agent has changed this record.</Text> : null}
      {groupByChangeSet(changes).map((group) => (
        <Flex key={group.changeSetId} direction="column" gap="flush">
          <Text variant="microcopy">
            {visibleText(
              `${group.changes[0]?.agent.name} · ${group.changes[0]?.batchId} · ${new Date(group.changes[0]?.at ?? 0).toLocaleString()}`,
            )}
          </Text>
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

/** "Created by prospector · batch prospect-1 · <date>, policy v3: Found on the team page (apollo)". */
function createdByText(creation: AgentCreation): string {
  const why = creation.evidence?.reason ? `: ${creation.evidence.reason}` : '';
  const source = creation.evidence?.source ? ` (${creation.evidence.source})` : '';
  return visibleText(
    `Created by ${creation.agent.name} · batch ${creation.batchId} · ${new Date(creation.at).toLocaleString()}, policy v${creation.policyVersion}${why}${source}`,
  );
}
