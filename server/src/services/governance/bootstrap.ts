import type { BootstrapResult } from '../../../../shared/admin-api.ts';
import { parsePolicy } from '../../../../shared/policy.ts';
import type { CrmPropertyDefinition } from '../../crm/port.ts';
import { holdableProperties } from '../../domain/approval-mirror.ts';
import { asJson } from '../../domain/audit-chain.ts';
import { findLatestPolicyVersion } from '../../store/policy-store.ts';
import { setApprovalObject } from '../../store/workspace-store.ts';
import {
  APPROVAL_OBJECT_SCHEMA,
  DO_NOT_CONTACT_DEFINITION,
  PENDING_COUNT_DEFINITION,
  shadowDefinition,
} from './approval-crm-schema.ts';
import {
  actorJson,
  type Actor,
  type ServiceDeps,
  APP_PROPERTY_GROUP,
  NEEDS_REVIEW_PROPERTY,
  PROVENANCE_PROPERTIES,
  withAuditChain,
} from '../common/index.ts';
import { requireWorkspace } from './workspaces.ts';

/**
 * Creates in the CRM what the app writes: on every governed object the property group, the
 * provenance properties, the pending-approvals count and a proposed-value (shadow) property for
 * each property the active policy can hold; on contacts the do-not-contact switch the drafts'
 * stop rules obey; and the "Agent Approval" object. A second run
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
    const contactOnly = objectType === crm.contactObjectType ? [DO_NOT_CONTACT_DEFINITION] : [];
    const result = await crm.ensureProperties({
      objectType,
      group: APP_PROPERTY_GROUP,
      properties: [
        ...PROVENANCE_PROPERTIES,
        NEEDS_REVIEW_PROPERTY,
        PENDING_COUNT_DEFINITION,
        ...contactOnly,
        ...shadows,
      ],
    });
    objects.push({ objectType, ...result });
  }
  // The approval object lives in the workspace's first CRM, linked to that CRM's objects (issue 20).
  const approvalObject = await crm.ensureCustomObject({
    ...APPROVAL_OBJECT_SCHEMA,
    associatedObjects: crm.forObject(crm.contactObjectType).objectTypes,
  });
  if (workspace.approvalObject?.objectTypeId !== approvalObject.objectTypeId)
    await setApprovalObject(deps.db, workspaceId, { objectTypeId: approvalObject.objectTypeId });
  if (approvalObject.created || objects.some((object) => object.groupCreated || object.created.length > 0)) {
    await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
      audit.append({
        type: 'crm.bootstrapped',
        actor: actorJson(actor),
        data: { objects: asJson(objects), approvalObject },
      });
    });
  }
  return { objects, approvalObject };
}

/** Without a policy nothing can be held yet: only provenance, the count and the approval object are made. */
async function holdableByObject(deps: ServiceDeps, workspaceId: string): Promise<Map<string, string[]>> {
  const stored = await findLatestPolicyVersion(deps.db, workspaceId);
  const parsed = stored ? parsePolicy(stored.document) : undefined;
  return parsed?.ok ? holdableProperties(parsed.policy) : new Map();
}
