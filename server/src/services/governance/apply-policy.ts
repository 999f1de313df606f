import type { BootstrapResult, PolicyWarning } from '../../../../shared/admin-api.ts';
import { parsePolicy } from '../../../../shared/policy.ts';
import { newlyHeldProperties } from '../../domain/approval-mirror.ts';
import { canonicalJson } from '../../domain/audit-chain.ts';
import { findLatestPolicyVersion } from '../../store/policy-store.ts';
import { bootstrapWorkspace } from './bootstrap.ts';
import type { Actor, ServiceDeps } from '../common/index.ts';
import { parseStoredPolicy, publishPolicy } from './policies.ts';
import { unknownPropertyWarnings } from './policy-warnings.ts';
import { requireActiveWorkspace } from './workspaces.ts';

export interface AppliedPolicy {
  /** The version in force afterwards: the new one, or the identical one already in force. */
  version: number;
  /** Present when the document equals the version in force: nothing was published. */
  unchanged?: true;
  /** Properties this version holds that the previous one did not, by object type: each needs its proposed-value shadow. */
  newlyHeld: Record<string, string[]>;
  /** Whether bootstrap must run (again) before HubSpot shows what waits for approval. */
  bootstrapNeeded: boolean;
  bootstrap?: BootstrapResult;
  /** What the file names that the CRM does not have (a typo, or a property not made yet), as a publish says it. */
  warnings?: PolicyWarning[];
}

/**
 * What `policy apply` does (issue 18): publishes the document unless it equals the version in
 * force (compared as canonical JSON of the validated policy, so key order and defaults do not
 * count), and says whether bootstrap must create shadows for newly held properties, or runs it.
 */
export async function applyPolicy(
  deps: ServiceDeps,
  workspaceId: string,
  document: unknown,
  actor: Actor,
  options: { bootstrap: boolean },
): Promise<AppliedPolicy> {
  const workspace = await requireActiveWorkspace(deps, workspaceId);
  const current = await findLatestPolicyVersion(deps.db, workspace.id);
  const previous = current ? parseStoredPolicy(workspace.id, current) : undefined;
  const next = parsePolicy(document);
  const neverBootstrapped = workspace.approvalObject === null;
  let applied: AppliedPolicy;
  if (current && next.ok && previous?.ok && canonicalJson(previous.policy) === canonicalJson(next.policy)) {
    // Re-applying the file is how an admin checks it: its unknown properties are named as a publish names them.
    const warnings = await unknownPropertyWarnings(deps.crmFor(workspace), next.policy);
    applied = {
      version: current.version,
      unchanged: true,
      newlyHeld: {},
      bootstrapNeeded: neverBootstrapped,
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  } else {
    // An invalid document is refused here, with every issue named.
    const { version, warnings } = await publishPolicy(deps, workspace.id, document, actor);
    const newlyHeld = next.ok ? newlyHeldProperties(previous?.ok ? previous.policy : undefined, next.policy) : {};
    applied = {
      version,
      newlyHeld,
      bootstrapNeeded: neverBootstrapped || Object.keys(newlyHeld).length > 0,
      ...(warnings ? { warnings } : {}),
    };
  }
  if (!options.bootstrap) return applied;
  return { ...applied, bootstrapNeeded: false, bootstrap: await bootstrapWorkspace(deps, workspace.id, actor) };
}
