import { OBJECT_TYPES, type ObjectType } from '../../../shared/crm-names.ts';
import { asJson } from '../domain/audit-chain.ts';
import { withAuditChain } from '../store/audit-store.ts';
import { actorJson, type Actor, type ServiceDeps } from './deps.ts';
import { APP_PROPERTY_GROUP, PROVENANCE_PROPERTIES } from './provenance.ts';
import { requireWorkspace } from './workspaces.ts';

export interface BootstrapResult {
  objects: { objectType: ObjectType; groupCreated: boolean; created: string[]; existing: string[] }[];
}

/** Creates the app's property group and provenance properties on every governed object; a second run changes nothing. */
export async function bootstrapWorkspace(deps: ServiceDeps, workspaceId: string, actor: Actor): Promise<BootstrapResult> {
  const workspace = await requireWorkspace(deps, workspaceId);
  const crm = deps.crmFor(workspace);
  const objects: BootstrapResult['objects'] = [];
  for (const objectType of OBJECT_TYPES) {
    const result = await crm.ensureProperties({ objectType, group: APP_PROPERTY_GROUP, properties: PROVENANCE_PROPERTIES });
    objects.push({ objectType, ...result });
  }
  if (objects.some((object) => object.groupCreated || object.created.length > 0)) {
    await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
      audit.append({ type: 'crm.bootstrapped', actor: actorJson(actor), data: { objects: asJson(objects) } });
    });
  }
  return { objects };
}
