import type { PersonRole } from '../domain/approval-lifecycle.ts';
import { withAuditChain } from '../store/audit-store.ts';
import { listPeople, upsertPerson, type PersonRow } from '../store/people-store.ts';
import { actorJson, type Actor, type ServiceDeps } from './deps.ts';
import { requireWorkspace } from './workspaces.ts';

export interface PersonView {
  crmUserId: string;
  role: PersonRole;
  /** Their HubSpot owner id, which records' `hubspot_owner_id` names; null when unknown (a rep then owns nothing). */
  crmOwnerId: string | null;
  updatedAt: string;
}

/**
 * Gives a CRM user a role for deciding approvals (or changes it); audited as `person.role_set`.
 * A rep decides on the records they own, and records name owners, not users: their owner id is
 * the one given, else looked up in the CRM. The lookup is best effort (the role still counts when
 * the CRM cannot be reached), and the answer says which owner id, if any, was kept.
 */
export async function setPersonRole(deps: ServiceDeps, workspaceId: string, input: { crmUserId: string; role: PersonRole; crmOwnerId?: string | undefined }, actor: Actor): Promise<PersonView> {
  const crmOwnerId = input.crmOwnerId ?? (input.role === 'rep' ? await lookUpOwnerId(deps, workspaceId, input.crmUserId) : null);
  const now = deps.clock();
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const previous = await upsertPerson(tx, { workspaceId, crmUserId: input.crmUserId, role: input.role, crmOwnerId, updatedAt: now });
    audit.append({
      type: 'person.role_set',
      actor: actorJson(actor),
      before: previous ? { role: previous.role, crmOwnerId: previous.crmOwnerId } : null,
      after: { role: input.role, crmOwnerId },
      data: { crmUserId: input.crmUserId },
    });
  });
  return { crmUserId: input.crmUserId, role: input.role, crmOwnerId, updatedAt: now.toISOString() };
}

async function lookUpOwnerId(deps: ServiceDeps, workspaceId: string, crmUserId: string): Promise<string | null> {
  const workspace = await requireWorkspace(deps, workspaceId);
  try {
    return await deps.crmFor(workspace).findOwnerIdOfUser(crmUserId);
  } catch {
    return null;
  }
}

export async function listWorkspacePeople(deps: ServiceDeps, workspaceId: string): Promise<PersonView[]> {
  return (await listPeople(deps.db, workspaceId)).map(personView);
}

function personView(row: PersonRow): PersonView {
  return { crmUserId: row.crmUserId, role: row.role, crmOwnerId: row.crmOwnerId, updatedAt: row.updatedAt.toISOString() };
}
