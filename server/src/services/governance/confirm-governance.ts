import type { PersonRole } from '../../domain/approval-lifecycle.ts';
import { AppError } from '../../errors.ts';
import type { Tx } from '../../store/database.ts';
import {
  holdGovernanceRequest,
  lockGovernanceRequest,
  replaceGovernancePayload,
  settleGovernanceRequest,
  type GovernanceRequestRow,
} from '../../store/governance-request-store.ts';
import { findPerson } from '../../store/people-store.ts';
import { actorJson, type Actor, type AuditAppender, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { erasePerson } from '../retention/index.ts';
import { type ErasureTarget, withoutEmail } from './erasure-requests.ts';
import { actorIdentity, governanceView, type GovernanceRequestView } from './governance-requests.ts';
import { setKillSwitch } from './kill-switches.ts';
import { publishPolicy } from './policies.ts';

const ADMIN_ROLES = new Set(['owner', 'revops_admin']);

/** How long a confirmation may take to carry out before a crashed one's request is free again. */
const CONFIRMING_HOLD_MS = 2 * 60_000;

/**
 * A second admin confirms (or either side cancels) a change waiting under dual control. The
 * confirmer must be a named owner or RevOps admin other than whoever asked; the change then
 * takes effect through the same service as any other, audited with both people. The request is
 * settled as confirmed only once the change has taken effect: while it is carried out the request is
 * held (a second confirmation is refused), and a change that fails frees it, still pending.
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
  const decided = await withAuditChain(deps.db, input.workspaceId, deps.clock, async (tx, audit) => {
    const row = await lockGovernanceRequest(tx, input.workspaceId, input.requestId);
    if (!row) throw new AppError('NOT_FOUND', `There is no governance request ${input.requestId} in this workspace.`);
    if (row.status !== 'pending') throw new AppError('CONFLICT', `This request was already ${row.status}.`);
    if (row.confirmingUntil && row.confirmingUntil > deps.clock()) {
      throw new AppError('CONFLICT', 'This request is being confirmed right now: read it again in a moment.');
    }
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
    if (input.decision === 'confirm') {
      await holdGovernanceRequest(tx, row.id, new Date(deps.clock().getTime() + CONFIRMING_HOLD_MS));
      return { kind: 'held', row, actor } as const;
    }
    return { kind: 'settled', row: await settle(tx, audit, row, actor, 'cancelled', deps.clock()) } as const;
  });
  if (decided.kind === 'refused') {
    const messages = {
      same_person: 'The person who asked for this change cannot also confirm it.',
      role_cannot_confirm: 'Only an owner or a RevOps admin can confirm a change to governance.',
      person_unknown: `CRM user ${input.actingUserId} has no role in this workspace.`,
    };
    throw new AppError('FORBIDDEN', messages[decided.refusal], { details: { refusal: decided.refusal } });
  }
  const settled =
    decided.kind === 'held' ? await confirm(deps, input.workspaceId, decided.row, decided.actor) : decided.row;
  if (settled.kind !== 'erasure') return governanceView(settled);
  // Settled (and, if confirmed, erased first): the request no longer keeps the address it named.
  const payload = withoutEmail(settled.payload as ErasureTarget);
  await replaceGovernancePayload(deps.db, settled.id, payload);
  return governanceView({ ...settled, payload });
}

/** The change takes effect, then the request is settled; if the change fails, the request is freed. */
async function confirm(
  deps: ServiceDeps,
  workspaceId: string,
  row: GovernanceRequestRow,
  actor: Actor,
): Promise<GovernanceRequestRow> {
  try {
    await apply(deps, workspaceId, row, actor);
  } catch (error) {
    await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
      await holdGovernanceRequest(tx, row.id, null);
      audit.append({
        type: 'governance.failed',
        actor: actorJson(actor),
        reasons: [error instanceof AppError ? error.code : 'INTERNAL'],
        data: { requestId: row.id, kind: row.kind },
      });
    });
    throw error;
  }
  return withAuditChain(deps.db, workspaceId, deps.clock, (tx, audit) =>
    settle(tx, audit, row, actor, 'confirmed', deps.clock()),
  );
}

async function settle(
  tx: Tx,
  audit: AuditAppender,
  row: GovernanceRequestRow,
  actor: Actor,
  status: 'confirmed' | 'cancelled',
  decidedAt: Date,
): Promise<GovernanceRequestRow> {
  const outcome = { status, decidedBy: actorIdentity(actor), decidedAt };
  await settleGovernanceRequest(tx, row.id, outcome);
  audit.append({
    type: status === 'confirmed' ? 'governance.confirmed' : 'governance.cancelled',
    actor: actorJson(actor),
    data: { requestId: row.id, kind: row.kind, requestedBy: row.requestedBy },
  });
  return { ...row, ...outcome, confirmingUntil: null };
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
