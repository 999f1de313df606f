import type { ErasureRequest, ErasureResult } from '../../../../shared/retention-api.ts';
import { erasePersonData } from '../../store/retention-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';

/**
 * An erasure request for one person (issue 21, point 11): deletes the personal values kept apart
 * from audit events about their record or naming their address, their settled drafts, our settled
 * change records on their record and its field history, in one transaction with a
 * `person.erased` event saying how much went. The audit events stay and still verify; they show
 * "[redacted]" where the values were. The event names the record (an id, which the CRM's own
 * deletion makes meaningless) but never the address asked about.
 */
export async function erasePerson(
  deps: ServiceDeps,
  workspaceId: string,
  request: ErasureRequest,
  actor: Actor,
): Promise<ErasureResult> {
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const erased = await erasePersonData(tx, workspaceId, request);
    audit.append({
      type: 'person.erased',
      actor: actorJson(actor),
      objectType: request.objectType ?? null,
      recordId: request.recordId ?? null,
      data: { byRecord: request.recordId !== undefined, byEmail: request.email !== undefined, erased },
    });
    return { erased };
  });
}
