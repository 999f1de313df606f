import { Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { EngagedKillSwitch, PendingDraft } from '../../../../shared/extension-api.ts';
import type { ExtensionDraftDecision } from '../../../../shared/extension-decisions-api.ts';
import { DraftItem } from './DraftItem.tsx';

export interface DraftsProps {
  drafts: PendingDraft[];
  killSwitches: readonly EngagedKillSwitch[];
  busy: boolean;
  onDecide: (draftId: string, decision: ExtensionDraftDecision) => void;
}

/** Emails, tasks and notes agents drafted for this record, waiting for a person to release or reject them. */
export function Drafts({ drafts, killSwitches, busy, onDecide }: DraftsProps) {
  return (
    <Flex direction="column" gap="xs">
      <Heading>{`Drafts waiting to be sent (${drafts.length})`}</Heading>
      {drafts.length === 0 ? <Text variant="microcopy">No draft waits for this record.</Text> : null}
      {drafts.map((draft) => (
        <DraftItem key={draft.id} draft={draft} killSwitches={killSwitches} busy={busy} onDecide={onDecide} />
      ))}
    </Flex>
  );
}
