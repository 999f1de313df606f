import type { Caller, PendingDraft } from '../../../../shared/extension-api.ts';
import { decidableBy } from '../../domain/decidable.ts';
import { listActions, type ActionRow } from '../../store/action-store.ts';
import type { AgentRow } from '../../store/agent-store.ts';
import type { Db } from '../../store/database.ts';
import type { RecordRef } from '../../store/extension-store.ts';
import { contentOf } from '../actions/index.ts';

const MAX_DRAFTS = 20;

/** The emails, tasks and notes agents drafted for this record that wait for a person, newest first. */
export async function heldDraftsOnRecord(db: Db, record: RecordRef): Promise<ActionRow[]> {
  const rows = await listActions(db, record.workspaceId, {
    recordId: record.recordId,
    statuses: ['pending'],
    limit: MAX_DRAFTS,
  });
  return rows.filter((row) => row.objectType === record.objectType);
}

/** A held draft as the record card shows it: what would go out now, and whether this person may decide it. */
export function pendingDraftView(row: ActionRow, agent: AgentRow | undefined, caller: Caller): PendingDraft {
  const { edited, released } = contentOf(row);
  return {
    id: row.id,
    kind: row.kind,
    agent: { id: row.agentId, name: agent?.name ?? 'unknown agent' },
    // Only approval and two_person drafts are ever pending.
    tier: row.tier === 'two_person' ? 'two_person' : 'approval',
    content: released,
    edited: edited !== null,
    ...(row.message ? { heldBecause: row.message } : {}),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    decidable: decidableBy(caller, row),
  };
}
