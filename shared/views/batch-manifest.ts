import type { PendingApprovalCard, PendingRecordEntry } from '../extension-api.ts';
import { visibleText } from './display-text.ts';
import { heldEntrySentence } from './held-entry-view.ts';
import { diffRows } from './proposal-view.ts';

/*
 * What a batch decision will do, item by item, as the console's manifest shows it before the
 * person confirms: pure, so a test reads the same lines the page shows.
 */

/** One line of a batch decision's manifest: what deciding one item does, shown before the person confirms. */
export interface ManifestRow {
  /** The item's approval id and, for a field change, the property: unique in a manifest. */
  key: string;
  /** The record it changes, or "contacts (new)" for one to create. */
  record: string;
  /** The property to write, "link" or "new record". */
  change: string;
  /** The value to write (a person's edit over the agent's proposal), or what the link or creation does. */
  value: string;
  agent: string;
  batch: string;
}

/**
 * Every line of the manifest of a batch decision on these held field changes (a line per
 * property), creations and associations, in that order: the console shows it before the person
 * confirms, so nothing is decided that was not named.
 */
export function manifestRows(
  cards: readonly PendingApprovalCard[],
  entries: readonly PendingRecordEntry[],
): ManifestRow[] {
  return [
    ...cards.flatMap((card) =>
      diffRows(card).map((row) => ({
        key: `${card.approval.id}/${row.property}`,
        record: `${card.approval.objectType} ${card.approval.recordId}`,
        change: row.property,
        value: (row.edited ?? row.proposed).text,
        agent: visibleText(card.agent.name),
        batch: visibleText(card.approval.batchId),
      })),
    ),
    ...entries.map(({ approval: held, ...entry }) => ({
      key: held.id,
      record: held.kind === 'association' ? `${held.objectType} ${held.recordId}` : `${held.objectType} (new)`,
      change: held.kind === 'association' ? 'link' : 'new record',
      value: heldEntrySentence({ approval: held, ...entry }),
      agent: visibleText(entry.agent.name),
      batch: visibleText(held.batchId),
    })),
  ];
}
