import type { AssociationTarget } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { CrmPort } from '../../crm/port.ts';
import type { JsonObject } from '../../domain/audit-chain.ts';
import { AppError } from '../../errors.ts';
import { markAssociationsRolledBack, nextSelectedAssociations } from '../../store/record-association-store.ts';
import type { RollbackRow } from '../../store/rollback-store.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';
import { undoSelectedPages } from './selected-pages.ts';

type Outcome = { id: string; outcome: 'removed' | 'conflict'; message: string | null };

/**
 * Issue 21: a rollback removes the links its selection made (not those the CRM already had), a
 * CRM batch at a time. A link that is gone already was removed by someone since: a conflict, left
 * as it is, as a field a person changed since is. Each association is marked with the rollback,
 * so a resumed run skips it. Returns false when `mayGoOn` (a kill switch, a pause) stopped it before a CRM call.
 */
export async function removeSelectedAssociations(
  deps: ServiceDeps,
  rollback: RollbackRow,
  crm: CrmPort,
  mayGoOn: () => Promise<boolean>,
): Promise<boolean> {
  return undoSelectedPages(deps, rollback, {
    nextPage: nextSelectedAssociations,
    limit: crm.batchLimit,
    mayGoOn,
    undo: async (page) => {
      if (!crm.associations)
        throw new AppError('INTERNAL', 'This CRM connection cannot remove the associations a rollback selected.');
      const outcomes: Outcome[] = [];
      for (const rows of Map.groupBy(page, (row) => `${row.objectType}>${row.toObjectType}`).values()) {
        const fromObjectType = rows[0]!.objectType as ObjectType;
        const toObjectType = rows[0]!.toObjectType as AssociationTarget;
        const linked = await crm.associations.read({
          fromObjectType,
          toObjectType,
          fromIds: [...new Set(rows.map((row) => row.recordId))],
        });
        const toRemove = rows.filter((row) => linked.get(row.recordId)?.has(row.toRecordId) ?? false);
        await crm.associations.dissociate({
          fromObjectType,
          toObjectType,
          pairs: toRemove.map((row) => ({ fromId: row.recordId, toId: row.toRecordId })),
        });
        for (const row of rows)
          outcomes.push(
            toRemove.includes(row)
              ? { id: row.id, outcome: 'removed', message: null }
              : { id: row.id, outcome: 'conflict', message: 'The link is gone since: someone removed it in the CRM.' },
          );
      }
      await withAuditChain(deps.db, rollback.workspaceId, deps.clock, async (tx, audit) => {
        const marked = await markAssociationsRolledBack(tx, rollback.id, outcomes);
        for (const outcome of outcomes) {
          if (!marked.has(outcome.id)) continue;
          const row = page.find((association) => association.id === outcome.id)!;
          audit.append({
            type: outcome.outcome === 'removed' ? 'record.dissociated' : 'record.dissociate_conflict',
            actor: rollback.actor as JsonObject,
            agentId: rollback.agentId,
            batchId: rollback.id,
            objectType: row.objectType,
            recordId: row.recordId,
            data: {
              rollbackId: rollback.id,
              changeId: row.id,
              toObjectType: row.toObjectType,
              toRecordId: row.toRecordId,
              message: outcome.message,
            },
          });
        }
      });
    },
  });
}
