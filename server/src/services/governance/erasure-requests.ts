import type { ErasureRequest, ErasureResult } from '../../../../shared/retention-api.ts';
import { erasureReasons } from '../../domain/dual-control.ts';
import { AppError } from '../../errors.ts';
import { findPerson } from '../../store/people-store.ts';
import type { Actor, ServiceDeps } from '../common/index.ts';
import { erasePerson } from '../retention/index.ts';
import { type GovernanceRequestView, openGovernanceRequest } from './governance-requests.ts';
import { policyInForce } from './policies.ts';

/** Whom an erasure names: the request without who asked for it. */
export type ErasureTarget = Omit<ErasureRequest, 'actingUserId'>;

/**
 * An admin asks to erase one person (issue 21). When the policy in force puts erasure under dual
 * control it waits as a governance request for a second admin, and the person asking must be
 * named (`actingUserId`) so they cannot confirm it themselves; otherwise it is erased at once.
 */
export async function requestErasure(
  deps: ServiceDeps,
  workspaceId: string,
  request: ErasureRequest,
  actor: Actor,
): Promise<{ erased: ErasureResult } | { pending: GovernanceRequestView }> {
  const { actingUserId, ...target } = request;
  const reasons = erasureReasons((await policyInForce(deps.db, workspaceId))?.dualControl);
  if (reasons.length === 0) return { erased: await erasePerson(deps, workspaceId, target, actor) };
  if (actingUserId === undefined)
    throw new AppError(
      'VALIDATION_FAILED',
      'The policy puts erasure under dual control: name the admin asking (actingUserId), so a second admin confirms it.',
      { details: { issues: [{ path: 'actingUserId', message: 'required under dual control' }] } },
    );
  const person = await findPerson(deps.db, workspaceId, actingUserId);
  const requester: Actor = {
    type: 'person',
    name: `crm-user:${actingUserId}`,
    crmUserId: actingUserId,
    role: person?.role ?? null,
    via: actor.type === 'admin' && actor.via === 'cli' ? 'cli' : 'admin_api',
  };
  return {
    pending: await openGovernanceRequest(deps, workspaceId, {
      kind: 'erasure',
      payload: target,
      // The hashed log never holds the address: it says only that one was given.
      auditedPayload: withoutEmail(target),
      reasons,
      actor: requester,
    }),
  };
}

/** What a settled erasure request keeps of whom it named: the record, and whether an address was given. */
export function withoutEmail(target: ErasureTarget): { objectType?: string; recordId?: string; byEmail: boolean } {
  const { email, ...rest } = target;
  return { ...rest, byEmail: email !== undefined };
}
