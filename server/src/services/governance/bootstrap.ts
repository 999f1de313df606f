import type { BootstrapResult } from '../../../../shared/admin-api.ts';
import type { CrmPort, CrmPropertyDefinition } from '../../crm/port.ts';
import { holdableProperties } from '../../domain/approval-mirror.ts';
import { asJson } from '../../domain/audit-chain.ts';
import { findLatestPolicyVersion } from '../../store/policy-store.ts';
import { setApprovalObject } from '../../store/workspace-store.ts';
import { appPropertiesOf } from './app-properties.ts';
import { APPROVAL_OBJECT_SCHEMA, shadowDefinition } from './approval-crm-schema.ts';
import { actorJson, type Actor, type ServiceDeps, APP_PROPERTY_GROUP, withAuditChain } from '../common/index.ts';
import { requireWorkspace } from './workspaces.ts';
import { parseStoredPolicy } from './policies.ts';

/**
 * Creates in the CRM what the app writes: on every governed object the property group, the
 * provenance properties, the pending-approvals count and a proposed-value (shadow) property for
 * each property the active policy can hold; on each connected CRM's contacts the do-not-contact
 * switch the drafts' stop rules obey; and the "Agent Approval" object in each connected CRM. A second run
 * changes nothing; run it again after publishing a policy that governs new properties.
 */
export async function bootstrapWorkspace(
  deps: ServiceDeps,
  workspaceId: string,
  actor: Actor,
): Promise<BootstrapResult> {
  const workspace = await requireWorkspace(deps, workspaceId);
  const crm = deps.crmFor(workspace);
  const holdable = await holdableByObject(deps, workspaceId);
  const objects: BootstrapResult['objects'] = [];
  for (const objectType of crm.objectTypes) {
    const definitions = await crm.describeProperties(objectType);
    const shadows = (holdable.get(objectType) ?? [])
      .map((name) => definitions.get(name))
      .filter((definition): definition is CrmPropertyDefinition => definition !== undefined)
      .map(shadowDefinition)
      .filter((definition): definition is CrmPropertyDefinition => definition !== undefined);
    const result = await crm.ensureProperties({
      objectType,
      group: APP_PROPERTY_GROUP,
      properties: [...appPropertiesOf(crm, objectType), ...shadows],
    });
    objects.push({ objectType, ...result });
  }
  // The approval object lives in every connected CRM (issue 20), each linked to its own CRM's objects:
  // an approval's record is made where the record it concerns is.
  const approvalObjects: BootstrapResult['approvalObjects'] = [];
  for (const connection of connectionsOf(crm)) {
    const made = await connection.ensureCustomObject({
      ...APPROVAL_OBJECT_SCHEMA,
      associatedObjects: connection.objectTypes,
    });
    const stored = workspace.connections.find((row) => row.crm === connection.vendor)?.approvalObjectTypeId;
    const isFirst = connection.vendor === workspace.crm;
    if (stored !== made.objectTypeId || (isFirst && workspace.approvalObject?.objectTypeId !== made.objectTypeId))
      await setApprovalObject(deps.db, workspaceId, connection.vendor, made.objectTypeId);
    approvalObjects.push({ crm: connection.vendor, ...made });
  }
  const [{ objectTypeId, created }] = approvalObjects as [BootstrapResult['approvalObjects'][number]];
  const approvalObject = { objectTypeId, created };
  if (
    approvalObjects.some((made) => made.created) ||
    objects.some((object) => object.groupCreated || object.created.length > 0)
  ) {
    await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
      audit.append({
        type: 'crm.bootstrapped',
        actor: actorJson(actor),
        data: { objects: asJson(objects), approvalObject, approvalObjects },
      });
    });
  }
  return { objects, approvalObject, approvalObjects };
}

/** The port of each CRM the workspace connects, the first first (a routed port lists its objects in that order). */
function connectionsOf(crm: CrmPort): CrmPort[] {
  const ports = new Map(
    crm.objectTypes.map((objectType) => crm.forObject(objectType)).map((port) => [port.vendor, port]),
  );
  return [...ports.values()];
}

/** Without a policy nothing can be held yet: only provenance, the count and the approval object are made. */
async function holdableByObject(deps: ServiceDeps, workspaceId: string): Promise<Map<string, string[]>> {
  const stored = await findLatestPolicyVersion(deps.db, workspaceId);
  const parsed = stored ? parseStoredPolicy(workspaceId, stored) : undefined;
  return parsed?.ok ? holdableProperties(parsed.policy) : new Map();
}
