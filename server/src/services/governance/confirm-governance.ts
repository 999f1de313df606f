import type { PersonRole } from '../../domain/approval-lifecycle.ts';
import { AppError } from '../../errors.ts';
import {
  lockGovernanceRequest,
  replaceGovernancePayload,
  settleGovernanceRequest,
  type GovernanceRequestRow,
} from '../../store/governance-request-store.ts';
import { findPerson } from '../../store/people-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { erasePerson } from '../retention/index.ts';
import { type ErasureTarget, withoutEmail } from './erasure-requests.ts';
import { actorIdentity, governanceView, type GovernanceRequestView } from './governance-requests.ts';
import { setKillSwitch } from './kill-switches.ts';
import { publishPolicy } from './policies.ts';

const ADMIN_ROLES = new Set(['owner', 'revops_admin']);

/**
 * A second admin confirms (or either side cancels) a change waiting under dual control. The
 * confirmer must be a named owner or RevOps admin other than whoever asked; the change then
 * takes effect through the same service as any other, audited with both people.
 */
export async function decideGovernanceRequest(
  deps: ServiceDeps,
  input: {
    workspaceId: string;
    requestId: string;
    actingUserId: string;
    decision: 'confirm' | 'cancel';
    via: 'admin_api' | 'hubspot_app' | 'console';
    /** The person as the HubSpot app already resolved them (own role or team's); otherwise looked up in `people`. */
    person?: { role: PersonRole } | undefined;
  },
): Promise<GovernanceRequestView> {
  const settled = await withAuditChain(deps.db, input.workspaceId, deps.clock, async (tx, audit) => {
    const row = await lockGovernanceRequest(tx, input.workspaceId, input.requestId);
    if (!row) throw new AppError('NOT_FOUND', `There is no governance request ${input.requestId} in this workspace.`);
    if (row.status !== 'pending') throw new AppError('CONFLICT', `This request was already ${row.status}.`);
    const person = input.person ?? (await findPerson(tx, input.workspaceId, input.actingUserId));
    const actor: Actor = {
      type: 'person',
      name: `crm-user:${input.actingUserId}`,
      crmUserId: input.actingUserId,
      role: person?.role ?? null,
      via: input.via,
    };
    const samePerson = actorIdentity(actor) === row.requestedBy;
    if (input.decision === 'confirm' && (!person || !ADMIN_ROLES.has(person.role) || samePerson)) {
      const refusal = samePerson ? 'same_person' : person ? 'role_cannot_confirm' : 'person_unknown';
      audit.append({
        type: 'governance.refused',
        actor: actorJson(actor),
        reasons: [refusal],
        data: { requestId: row.id, kind: row.kind },
      });
      return { kind: 'refused', refusal } as const;
    }
    const decidedAt = deps.clock();
    await settleGovernanceRequest(tx, row.id, {
      status: input.decision === 'confirm' ? 'confirmed' : 'cancelled',
      decidedBy: actorIdentity(actor),
      decidedAt,
    });
    audit.append({
      type: input.decision === 'confirm' ? 'governance.confirmed' : 'governance.cancelled',
      actor: actorJson(actor),
      data: { requestId: row.id, kind: row.kind, requestedBy: row.requestedBy },
    });
    return {
      kind: 'settled',
      row: {
        ...row,
        status: input.decision === 'confirm' ? 'confirmed' : 'cancelled',
        decidedBy: actorIdentity(actor),
        decidedAt,
      } satisfies GovernanceRequestRow,
      actor,
    } as const;
  });
  if (settled.kind === 'refused') {
    const messages = {
      same_person: 'The person who asked for this change cannot also confirm it.',
      role_cannot_confirm: 'Only an owner or a RevOps admin can confirm a change to governance.',
      person_unknown: `CRM user ${input.actingUserId} has no role in this workspace.`,
    };
    throw new AppError('FORBIDDEN', messages[settled.refusal], { details: { refusal: settled.refusal } });
  }
  if (settled.row.status === 'confirmed') await apply(deps, input.workspaceId, settled.row, settled.actor);
  if (settled.row.kind !== 'erasure') return governanceView(settled.row);
  // Settled (and, if confirmed, erased first): the request no longer keeps the address it named.
  const payload = withoutEmail(settled.row.payload as ErasureTarget);
  await replaceGovernancePayload(deps.db, settled.row.id, payload);
  return governanceView({ ...settled.row, payload });
}

async function apply(deps: ServiceDeps, workspaceId: string, row: GovernanceRequestRow, actor: Actor): Promise<void> {
  const payload = row.payload as { scope?: 'workspace'; reason?: string; document?: unknown };
  if (row.kind === 'erasure') await erasePerson(deps, workspaceId, row.payload as ErasureTarget, actor);
  else if (row.kind === 'kill_switch_release')
    await setKillSwitch(
      deps,
      workspaceId,
      { scope: 'workspace', engaged: false, reason: payload.reason ?? 'Released under dual control.' },
      actor,
      { confirmed: true },
    );
  else await publishPolicy(deps, workspaceId, payload.document, actor, { confirmed: true });
}
