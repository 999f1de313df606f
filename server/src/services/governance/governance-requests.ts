import type { GovernanceRequestView } from '../../../../shared/admin-api.ts';
import { asJson, type JsonObject } from '../../domain/audit-chain.ts';
import type { DualControlReason } from '../../domain/dual-control.ts';
import { AppError } from '../../errors.ts';
import {
  insertGovernanceRequest,
  listGovernanceRequests,
  type GovernanceRequestRow,
} from '../../store/governance-request-store.ts';
import { actorJson, type Actor, type ServiceDeps, newId, withAuditChain } from '../common/index.ts';

export type { GovernanceRequestView };

/** Who an actor is, for the rule that the person confirming is not the one who asked. */
export function actorIdentity(actor: Actor): string {
  if (actor.type === 'person') return `person:${actor.crmUserId}`;
  return actor.type === 'agent' ? `agent:${actor.agentId}` : `${actor.type}:${actor.name}`;
}

interface OpenedRequest {
  kind: GovernanceRequestRow['kind'];
  payload: JsonObject;
  /** What the audit event shows of the payload, when it holds personal data the hashed log must not keep. */
  auditedPayload?: JsonObject;
  reasons: DualControlReason[];
  actor: Actor;
}

/** Stores a change to governance that waits for a second admin, audited (`governance.requested`). */
export async function openGovernanceRequest(
  deps: ServiceDeps,
  workspaceId: string,
  input: OpenedRequest,
): Promise<GovernanceRequestView> {
  const row: GovernanceRequestRow = {
    id: newId(),
    workspaceId,
    kind: input.kind,
    payload: input.payload,
    reasons: input.reasons,
    status: 'pending',
    requestedBy: actorIdentity(input.actor),
    requestedAt: deps.clock(),
    decidedBy: null,
    decidedAt: null,
    confirmingUntil: null,
  };
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    await insertGovernanceRequest(tx, row);
    audit.append({
      type: 'governance.requested',
      actor: actorJson(input.actor),
      reasons: input.reasons.map((reason) => reason.code),
      data: {
        requestId: row.id,
        kind: input.kind,
        reasons: asJson(input.reasons),
        payload: input.auditedPayload ?? input.payload,
      },
    });
  });
  return governanceView(row);
}

/** Opens the request, then refuses the change for now with SECOND_ADMIN_REQUIRED naming it. */
export async function requireSecondAdmin(deps: ServiceDeps, workspaceId: string, input: OpenedRequest): Promise<never> {
  const { id } = await openGovernanceRequest(deps, workspaceId, input);
  throw new AppError(
    'SECOND_ADMIN_REQUIRED',
    `${input.reasons.map((reason) => reason.message).join(' ')} A second admin confirms it with POST /v1/admin/governance-requests/${id}/confirm.`,
    {
      details: { requestId: id, reasons: input.reasons },
    },
  );
}

export async function findGovernanceRequests(
  deps: ServiceDeps,
  workspaceId: string,
  status?: GovernanceRequestRow['status'],
): Promise<GovernanceRequestView[]> {
  return (await listGovernanceRequests(deps.db, workspaceId, status)).map(governanceView);
}

export function governanceView(row: GovernanceRequestRow): GovernanceRequestView {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    reasons: row.reasons as DualControlReason[],
    payload: row.payload,
    requestedBy: row.requestedBy,
    requestedAt: row.requestedAt.toISOString(),
    decidedBy: row.decidedBy,
    decidedAt: row.decidedAt?.toISOString() ?? null,
  };
}
