import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { Policy } from '../../../../shared/policy.ts';
import type { CrmPort, CrmValueChange } from '../../crm/port.ts';
import type { JsonObject } from '../../domain/audit-chain.ts';
import { markCreationsRolledBack, nextSelectedCreations } from '../../store/record-creation-store.ts';
import type { RollbackRow } from '../../store/rollback-store.ts';
import { CREATE_REF_PROPERTY, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { activePolicy, clearReviewsByRollback } from '../governance/index.ts';
import { undoSelectedPages } from './selected-pages.ts';

type Outcome = { id: string; recordId: string; outcome: 'archived' | 'conflict'; message: string | null };

/**
 * Issue 21: a rollback archives the records its selection created, a CRM batch at a time, unless
 * someone other than this app has written to the record since (a person, a workflow, an import,
 * another integration, as the CRM's history tells it of the properties we set, those the policy
 * governs on the object, and the owner):
 * that record is a conflict, left alone, unless the rollback is forced. A record already gone
 * counts as archived. Each creation is marked with the rollback, so a resumed run skips it.
 * Returns false when `mayGoOn` (a kill switch, a pause) stopped it before a CRM call.
 */
export async function archiveSelectedCreations(
  deps: ServiceDeps,
  rollback: RollbackRow,
  crm: CrmPort,
  mayGoOn: () => Promise<boolean>,
): Promise<boolean> {
  let governed: Policy | undefined;
  return undoSelectedPages(deps, rollback, {
    nextPage: nextSelectedCreations,
    limit: crm.batchLimit,
    mayGoOn,
    undo: async (page) => {
      governed ??= (await activePolicy(deps.db, rollback.workspaceId)).policy;
      const policy = governed;
      const outcomes: Outcome[] = [];
      for (const [objectType, creations] of Map.groupBy(page, (creation) => creation.objectType as ObjectType)) {
        const recordIds = creations.map((creation) => creation.recordId!);
        const properties = new Set(creations.flatMap((creation) => Object.keys(creation.properties)));
        properties.add(crm.forObject(objectType).ownerProperty);
        properties.add(CREATE_REF_PROPERTY);
        for (const name of Object.keys(policy.objects[objectType]?.properties ?? {})) properties.add(name);
        const history = crm.readPropertyHistory
          ? await crm.readPropertyHistory({ objectType, recordIds, properties: [...properties] })
          : undefined;
        const toArchive: string[] = [];
        for (const creation of creations) {
          const recordId = creation.recordId!;
          const revisions = history?.get(recordId);
          if (history && !revisions) {
            outcomes.push({ id: creation.id, recordId, outcome: 'archived', message: 'The record was already gone.' });
            continue;
          }
          const touch = revisions ? touchedBy(revisions) : undefined;
          if (touch && !rollback.force) {
            outcomes.push({ id: creation.id, recordId, outcome: 'conflict', message: describeTouch(touch) });
            continue;
          }
          toArchive.push(recordId);
          outcomes.push({
            id: creation.id,
            recordId,
            outcome: 'archived',
            message: touch ? `Forced: ${describeTouch(touch)}` : null,
          });
        }
        await crm.archiveBatch!({ objectType, recordIds: toArchive });
      }
      await withAuditChain(deps.db, rollback.workspaceId, deps.clock, async (tx, audit) => {
        const marked = await markCreationsRolledBack(tx, rollback.id, outcomes);
        for (const [objectType, creations] of Map.groupBy(page, (creation) => creation.objectType)) {
          const ids = new Set(creations.map((creation) => creation.id));
          await clearReviewsByRollback(tx, audit, {
            workspaceId: rollback.workspaceId,
            objectType,
            recordIds: outcomes
              .filter((o) => o.outcome === 'archived' && marked.has(o.id) && ids.has(o.id))
              .map((o) => o.recordId),
            rollbackId: rollback.id,
            at: deps.clock(),
          });
        }
        for (const outcome of outcomes) {
          if (!marked.has(outcome.id)) continue;
          audit.append({
            type: outcome.outcome === 'archived' ? 'record.archived' : 'record.archive_conflict',
            actor: rollback.actor as JsonObject,
            agentId: rollback.agentId,
            batchId: rollback.id,
            objectType: page.find((creation) => creation.id === outcome.id)!.objectType,
            recordId: outcome.recordId,
            data: { rollbackId: rollback.id, changeId: outcome.id, message: outcome.message },
          });
        }
      });
    },
  });
}

/**
 * The newest revision someone other than this app wrote to the record, if any. The CRM's history
 * does not say which writes are ours, but only this app writes `ag_create_ref`, and it did so as
 * it created the record: that revision's source id is ours, and so is every write under it.
 */
function touchedBy(revisions: Record<string, CrmValueChange[]>): (CrmValueChange & { property: string }) | undefined {
  const ours = revisions[CREATE_REF_PROPERTY]?.at(-1)?.sourceId ?? null;
  let newest: (CrmValueChange & { property: string }) | undefined;
  for (const [property, changes] of Object.entries(revisions)) {
    for (const change of changes) {
      if (change.source === 'our_app' || (ours !== null && change.sourceId === ours)) continue;
      if (!newest || change.at > newest.at) newest = { ...change, property };
    }
  }
  return newest;
}

function describeTouch(touch: CrmValueChange & { property: string }): string {
  const who = touch.userId ? `user ${touch.userId}` : touch.source;
  return `Changed since it was created: ${touch.property} by ${who} (${touch.source}) at ${touch.at.toISOString()}.`;
}
