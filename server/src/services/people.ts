import type { PersonRole } from '../domain/approval-lifecycle.ts';
import { withAuditChain } from '../store/audit-store.ts';
import { listPeople, upsertPerson } from '../store/people-store.ts';
import { actorJson, type Actor, type ServiceDeps } from './deps.ts';

export interface PersonView {
  crmUserId: string;
  role: PersonRole;
  updatedAt: string;
}

/** Gives a CRM user a role for deciding approvals (or changes it); audited as `person.role_set`. */
export async function setPersonRole(deps: ServiceDeps, workspaceId: string, input: { crmUserId: string; role: PersonRole }, actor: Actor): Promise<PersonView> {
  const now = deps.clock();
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const previous = await upsertPerson(tx, { workspaceId, crmUserId: input.crmUserId, role: input.role, updatedAt: now });
    audit.append({
      type: 'person.role_set',
      actor: actorJson(actor),
      before: previous ? { role: previous.role } : null,
      after: { role: input.role },
      data: { crmUserId: input.crmUserId },
    });
  });
  return { crmUserId: input.crmUserId, role: input.role, updatedAt: now.toISOString() };
}

export async function listWorkspacePeople(deps: ServiceDeps, workspaceId: string): Promise<PersonView[]> {
  return (await listPeople(deps.db, workspaceId)).map((row) => ({ crmUserId: row.crmUserId, role: row.role, updatedAt: row.updatedAt.toISOString() }));
}
