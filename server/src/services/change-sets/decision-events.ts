import type { Evidence } from '../../../../shared/agent-api.ts';
import { asJson, type JsonObject, type NewAuditEvent } from '../../domain/audit-chain.ts';
import type { ChangeRow } from '../../store/change-store.ts';
import { actorJson, type Actor } from '../common/index.ts';

/**
 * One `change.decided` event per record: before and after name every proposed property, and
 * `data.decisions` gives each property's change id, tier, decision and reasons. Per record, not
 * per field, because a record's fields share one evidence and one CRM write, and it keeps the
 * chain ten times shorter for enrichment batches.
 */
export function decisionEvents(
  rows: ChangeRow[],
  evidence: Map<string, Evidence>,
  context: { actor: Actor; agentId: string; batchId: string; objectType: string; policyVersion: number },
): NewAuditEvent[] {
  return [...Map.groupBy(rows, (row) => row.recordId)].map(([recordId, recordRows]) => {
    const before: JsonObject = {};
    const after: JsonObject = {};
    const decisions: JsonObject = {};
    const reasons = new Set<string>();
    for (const row of recordRows) {
      before[row.property] = row.beforeValue ?? null;
      after[row.property] = row.proposedValue ?? null;
      // Its keys in the order the hash takes them, so it is hashed without a sorted copy.
      decisions[row.property] = {
        changeId: row.id,
        decision: row.decision,
        reasons: row.reasons,
        tier: row.tier ?? null,
      };
      for (const reason of row.reasons) reasons.add(reason);
    }
    return {
      type: 'change.decided',
      actor: actorJson(context.actor),
      agentId: context.agentId,
      batchId: context.batchId,
      changeSetId: recordRows[0]!.changeSetId,
      objectType: context.objectType,
      recordId,
      before,
      after,
      evidence: asJson(evidence.get(recordId) ?? {}),
      reasons: [...reasons],
      policyVersion: context.policyVersion,
      data: { decisions },
    };
  });
}
