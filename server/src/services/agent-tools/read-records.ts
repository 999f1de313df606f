import type { ActivePolicy } from '../../../../shared/admin-api.ts';
import type { RecordReadRequest, RecordReadResponse } from '../../../../shared/agent-api.ts';
import { refuseUnconnectedObjectType } from '../../crm/connections.ts';
import { maskValue, readAccess } from '../../domain/read-masking.ts';
import { AppError } from '../../errors.ts';
import { actorJson, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { agentActor, type AuthenticatedAgent, engagedKillSwitch, withinAgentBudget } from '../governance/index.ts';

/**
 * A governed read (issue 21): the records as the policy lets the agent's role read them, some
 * properties in full, some masked, the rest withheld, in one CRM call, and audited
 * (`records.read`: which records and properties, which masked), so an agent needs no CRM token of
 * its own. A workspace or agent kill switch refuses it; an action's does not.
 */
export async function readRecords(
  deps: ServiceDeps,
  caller: AuthenticatedAgent,
  request: RecordReadRequest,
): Promise<RecordReadResponse> {
  const { agent, workspace } = caller;
  refuseUnconnectedObjectType(deps.crmFor(workspace), request.objectType, 'The read');
  const killed = await engagedKillSwitch(deps.db, {
    workspaceId: workspace.id,
    agentId: agent.id,
    action: 'field_write',
  });
  if (killed && killed.scope !== 'action')
    throw new AppError('KILL_SWITCH_ENGAGED', `A ${killed.scope} kill switch is engaged: ${killed.reason}`, {
      details: { scope: killed.scope, reason: killed.reason },
    });
  // Its CRM call counts against the agent's budget, and a used-up budget refuses it (issue 21).
  return withinAgentBudget(deps, { workspaceId: workspace.id, agent, costs: [] }, (active) =>
    readWithinBudget(deps, caller, request, active),
  );
}

async function readWithinBudget(
  deps: ServiceDeps,
  caller: AuthenticatedAgent,
  request: RecordReadRequest,
  { version, policy }: ActivePolicy,
): Promise<RecordReadResponse> {
  const { agent, workspace } = caller;
  const actor = await agentActor(deps, { workspaceId: workspace.id, agent, onBehalfOf: undefined });
  const access = readAccess(policy, request.objectType, agent.role);
  // Once each, as the record ids: a name asked twice was listed twice as read, masked or withheld, and so audited.
  const asked = [...new Set(request.properties ?? access.keys())];
  const readable = asked.filter((property) => access.has(property));
  const withheld = asked.filter((property) => !access.has(property));
  const crm = deps.crmFor(workspace);
  const ids = [...new Set(request.recordIds)];
  // Asked even when nothing asked for is readable: only the CRM can say whether a record exists,
  // and a read must not report found a record it never checked (with no properties it reads the ids alone).
  const found = await crm.readBatch({ objectType: request.objectType, recordIds: ids, properties: readable });
  const masked = readable.filter((property) => access.get(property) === 'masked');
  const records = ids
    .filter((id) => found.has(id))
    .map((recordId) => {
      const values = found.get(recordId)!;
      const properties: Record<string, string | null> = {};
      for (const property of readable) {
        const value = (values as Record<string, string | null>)[property] ?? null;
        properties[property] = access.get(property) === 'masked' ? maskValue(value) : value;
      }
      return { recordId, properties, masked };
    });
  const missing = ids.filter((id) => !found.has(id));
  await withAuditChain(deps.db, workspace.id, deps.clock, async (_tx, audit) => {
    audit.append({
      type: 'records.read',
      actor: actorJson(actor),
      agentId: agent.id,
      objectType: request.objectType,
      policyVersion: version,
      data: { recordIds: records.map((record) => record.recordId), properties: readable, masked, withheld, missing },
    });
  });
  return { objectType: request.objectType, policyVersion: version, records, withheld, missing };
}
