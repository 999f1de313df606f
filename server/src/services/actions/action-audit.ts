import type { ActionRow } from '../../store/action-store.ts';
import type { JsonObject, NewAuditEvent } from '../../domain/audit-chain.ts';

/** The fields every action.* audit event carries, so the record's and the agent's trails find it. */
export function actionEvent(
  row: Pick<ActionRow, 'id' | 'kind' | 'agentId' | 'objectType' | 'recordId' | 'policyVersion'>,
  event: { type: string; actor: JsonObject } & Partial<NewAuditEvent>,
): NewAuditEvent {
  return {
    agentId: row.agentId,
    objectType: row.objectType,
    recordId: row.recordId,
    policyVersion: row.policyVersion,
    ...event,
    data: { actionId: row.id, kind: row.kind, ...event.data },
  };
}
