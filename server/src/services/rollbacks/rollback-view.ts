import { rollbackSelectorSchema, type RollbackItemView, type RollbackView } from '../../../../shared/rollback-api.ts';
import type { Conflict } from '../../domain/rollback-plan.ts';
import { AppError } from '../../errors.ts';
import { countAssociationsRolledBack } from '../../store/record-association-store.ts';
import { countCreationsRolledBack } from '../../store/record-creation-store.ts';
import type { Db } from '../../store/database.ts';
import { countItemsByState, findRollback, type RollbackItemRow, type RollbackRow } from '../../store/rollback-store.ts';
import { isUuid } from '../common/index.ts';

/** Conflicts as stored (jsonb) and as the API shows them: the instant as ISO text. */
export type StoredConflict = Omit<Conflict, 'at'> & { at: string | null };

export function storedConflict(conflict: Conflict | null): StoredConflict | null {
  return conflict ? { ...conflict, at: conflict.at?.toISOString() ?? null } : null;
}

/** The conflict in a sentence for the report: who changed the field, through what, when. */
export function explain(conflict: StoredConflict | null): string | null {
  if (!conflict) return null;
  if (conflict.cause === 'record_missing')
    return 'The record no longer exists in the CRM (deleted or merged); nothing was written.';
  if (conflict.cause === 'restore_value_not_as_audited')
    return `The value to restore is not what the audit trail recorded before the change (${JSON.stringify(conflict.value ?? '')}): our stored copy was changed outside the app; nothing was written.`;
  if (conflict.cause === 'restore_value_unverifiable')
    return 'The audit trail no longer holds the value before the change (a personal value erased or past retention, or never recorded), so the value to restore cannot be checked; nothing was written.';
  if (conflict.origin === 'unknown')
    return `The CRM holds ${JSON.stringify(conflict.value ?? '')}, not what the batch wrote, and no record says who changed it.`;
  const by = conflict.who ? `${conflict.origin} ${conflict.who}` : `a ${conflict.origin}`;
  const source = conflict.cause === 'value_differs' ? ' (from HubSpot’s property history)' : '';
  return `Changed since by ${by} at ${conflict.at} (to ${JSON.stringify(conflict.value ?? '')})${source}.`;
}

export async function requireRollback(db: Db, workspaceId: string, id: string): Promise<RollbackRow> {
  const row = isUuid(id) ? await findRollback(db, workspaceId, id) : undefined;
  if (!row) throw new AppError('NOT_FOUND', `Rollback ${id} does not exist in this workspace.`);
  return row;
}

export async function rollbackView(db: Db, row: RollbackRow): Promise<RollbackView> {
  const [counts, created, associations] = await Promise.all([
    countItemsByState(db, row.id),
    countCreationsRolledBack(db, row.id),
    countAssociationsRolledBack(db, row.id),
  ]);
  const settled = counts.reverted + counts.conflict + counts.already_reverted + counts.failed;
  return {
    id: row.id,
    status: row.status,
    statusReason: row.statusReason,
    selector: rollbackSelectorSchema.parse(row.selector),
    force: row.force,
    total: row.total,
    done: settled,
    counts: {
      reverted: counts.reverted,
      conflict: counts.conflict,
      alreadyReverted: counts.already_reverted,
      failed: counts.failed,
    },
    createdRecords: created,
    associations,
    changeSetIds: row.changeSetIds as Record<string, string>,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}

export function itemView(item: RollbackItemRow): RollbackItemView {
  const conflict = item.conflict as StoredConflict | null;
  const outcome = item.state === 'writing' ? 'pending' : item.state;
  return {
    objectType: item.objectType,
    recordId: item.recordId,
    property: item.property,
    before: item.state === 'pending' ? item.expectedValue : item.valueFound,
    restoreValue: item.restoreValue,
    outcome,
    forced: item.forced,
    explanation: item.state === 'failed' ? item.message : explain(conflict),
    conflict,
    changeIds: item.changeIds,
  };
}
