import type { ActivePolicy, PolicyVersion, PublishedPolicy } from '../../../../shared/admin-api.ts';
import type { PolicyVersionView } from '../../../../shared/console-settings-api.ts';
import { type CrmVendor, crmOfObjectType } from '../../../../shared/crm-names.ts';
import { type ParsedPolicy, parsePolicy, type Policy } from '../../../../shared/policy.ts';
import { asJson } from '../../domain/audit-chain.ts';
import type { CrmPort } from '../../crm/port.ts';
import { AppError } from '../../errors.ts';
import type { Db, Tx } from '../../store/database.ts';
import { findKillSwitch } from '../../store/kill-switch-store.ts';
import { listConnectedAccounts } from '../../store/workspace-store.ts';
import {
  findLatestPolicyVersion,
  findPolicyVersion,
  insertPolicyVersion,
  listPolicyVersions,
  type StoredPolicyVersion,
  storedAsPublished,
} from '../../store/policy-store.ts';
import { policyChangeReasons } from '../../domain/dual-control.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { requireSecondAdmin } from './governance-requests.ts';
import { unknownPropertyWarnings } from './policy-warnings.ts';
import { requireWorkspace } from './workspaces.ts';

/**
 * Publishing never edits a version: it validates the document and makes the next immutable one.
 * A change the policy in force puts under dual control (a lowered tier, a raised cap, weaker dual
 * control) waits for a second admin instead; `confirmed` is set only by that confirmation. What the
 * CRM does not have and may gain later (a HubSpot property) is published, and named in `warnings`.
 */
export async function publishPolicy(
  deps: ServiceDeps,
  workspaceId: string,
  document: unknown,
  actor: Actor,
  options: { confirmed?: boolean; basedOn?: number | undefined } = {},
): Promise<PublishedPolicy> {
  const parsed = parsePolicy(document);
  if (!parsed.ok) {
    throw new AppError('POLICY_INVALID', `The policy is not valid: ${parsed.issues.slice(0, 5).join('; ')}`, {
      details: { issues: parsed.issues },
    });
  }
  const { checked, crm } = await refuseWhatTheCrmLacks(deps, workspaceId, parsed.policy);
  await refuseUnlessOwnerWhileStopped(deps, workspaceId, actor);
  await refuseIfPublishedSince(deps.db, workspaceId, options.basedOn);
  if (!options.confirmed) {
    const reasons = policyChangeReasons(await policyInForce(deps.db, workspaceId), parsed.policy);
    if (reasons.length > 0)
      await requireSecondAdmin(deps, workspaceId, {
        kind: 'policy_publish',
        payload: { document: asJson(parsed.policy) },
        reasons,
        actor,
      });
  }
  // Asked before the chain's lock is taken: the CRM may be slow, and the warnings never stop a publish.
  const warnings = await unknownPropertyWarnings(crm, parsed.policy);
  const { version } = await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    // Under the chain's lock, which a disconnection takes too (issue 20): a CRM disconnected since
    // the checks above is refused here, and one disconnected after finds this version in force.
    const connections = await listConnectedAccounts(tx, workspaceId);
    const stillConnected = (crm: CrmVendor) =>
      connections.some(
        (now) => now.crm === crm && checked.some((then) => then.crm === crm && then.accountId === now.accountId),
      );
    refuseUnconnected(parsed.policy, (objectType) => stillConnected(crmOfObjectType(objectType)));
    await refuseIfPublishedSince(tx, workspaceId, options.basedOn);
    const version = await insertPolicyVersion(tx, {
      workspaceId,
      document: parsed.policy,
      publishedBy: describe(actor),
    });
    audit.append({
      type: 'policy.published',
      actor: actorJson(actor),
      policyVersion: version,
      after: { name: parsed.policy.name },
      data: { document: asJson(parsed.policy) },
    });
    return { version };
  });
  return warnings.length > 0 ? { version, warnings } : { version };
}

/**
 * A draft edited from one version must not silently replace a version another admin published
 * since (their change would be lost without anyone seeing it): the editor reloads and edits again.
 */
async function refuseIfPublishedSince(db: Db | Tx, workspaceId: string, basedOn: number | undefined): Promise<void> {
  if (basedOn === undefined) return;
  const latest = (await findLatestPolicyVersion(db, workspaceId))?.version;
  if (latest === undefined || latest === basedOn) return;
  throw new AppError(
    'CONFLICT',
    `Version ${latest} was published after version ${basedOn}, which you edited; reload to see it, then make your change again.`,
    { details: { reason: 'policy_changed', basedOn, latest } },
  );
}

/**
 * While the workspace kill switch is engaged only owners edit the policy (issue 21): an incident
 * is not the time for anyone else to loosen it. The admin token and the CLI are the workspace's
 * owner credentials; a person counts by the role they hold.
 */
async function refuseUnlessOwnerWhileStopped(deps: ServiceDeps, workspaceId: string, actor: Actor): Promise<void> {
  const owner = actor.type === 'admin' || (actor.type === 'person' && actor.role === 'owner');
  if (owner) return;
  const stop = await findKillSwitch(deps.db, { workspaceId, scope: 'workspace', target: '' });
  if (stop?.engaged)
    throw new AppError(
      'POLICY_LOCKED',
      `The workspace kill switch is engaged (${stop.reason}): only an owner may change the policy until it is released.`,
      { details: { killSwitch: { scope: 'workspace', reason: stop.reason, engagedAt: stop.changedAt.toISOString() } } },
    );
}

/** Every object type a policy names, where: its `objects` and its conditions. */
export function objectTypesNamedBy(policy: Policy): { path: string; objectType: string }[] {
  const named = Object.keys(policy.objects).map((objectType) => ({ path: `objects.${objectType}`, objectType }));
  policy.conditions.forEach((condition, index) => {
    const types = condition.kind === 'record_matches' ? [condition.objectType] : (condition.objectTypes ?? []);
    for (const objectType of types) named.push({ path: `conditions.${index}`, objectType });
  });
  return named;
}

/**
 * A policy naming an object of a CRM the workspace is not connected to is refused with the object
 * named (issue 20), and one naming a field the org does not have (or the API user cannot see) with
 * the field named, for each CRM whose port checks fields at publish. The connections checked come back, with the port.
 */
async function refuseWhatTheCrmLacks(
  deps: ServiceDeps,
  workspaceId: string,
  policy: Policy,
): Promise<{ checked: readonly { crm: CrmVendor; accountId: string }[]; crm: CrmPort }> {
  const workspace = await requireWorkspace(deps, workspaceId);
  const crm = deps.crmFor(workspace);
  const connected = new Set<string>(crm.objectTypes);
  refuseUnconnected(policy, (objectType) => connected.has(objectType));
  const issues: string[] = [];
  for (const objectType of crm.objectTypes) {
    if (!crm.forObject(objectType).checksPolicyFieldsAtPublish) continue;
    const named = new Set(Object.keys(policy.objects[objectType]?.properties ?? {}));
    for (const condition of policy.conditions)
      if (condition.kind === 'record_matches' && condition.objectType === objectType) named.add(condition.property);
    if (named.size === 0) continue;
    const fields = await crm.describeProperties(objectType);
    for (const name of named)
      if (!fields.has(name))
        issues.push(
          `objects.${objectType}.properties.${name}: the CRM has no such field (or the app's user cannot see it)`,
        );
    // A tier that lets an agent write a field the CRM lets no one set: every such write would be refused
    // there, and a record's own id field would name another record. A deny-only entry keeps protecting it.
    for (const [name, tiers] of Object.entries(policy.objects[objectType]?.properties ?? {}))
      if (fields.get(name)?.readOnly && Object.values(tiers).some((tier) => tier !== 'deny'))
        issues.push(
          `objects.${objectType}.properties.${name}: the CRM lets no one set this field (it is read-only), so no agent may be given a tier on it but deny`,
        );
  }
  if (issues.length > 0)
    throw new AppError(
      'POLICY_INVALID',
      `The policy names fields the CRM does not have, or lets no one set: ${issues.slice(0, 5).join('; ')}`,
      {
        details: { issues },
      },
    );
  return { checked: workspace.connections, crm };
}

function refuseUnconnected(policy: Policy, isConnected: (objectType: string) => boolean): void {
  const unconnected = objectTypesNamedBy(policy)
    .filter(({ objectType }) => !isConnected(objectType))
    .map(({ path, objectType }) => `${path}: ${objectType} is an object of a CRM this workspace is not connected to`);
  if (unconnected.length > 0)
    throw new AppError(
      'POLICY_INVALID',
      `The policy names objects of a CRM the workspace is not connected to (workspace connect adds one): ${unconnected.slice(0, 5).join('; ')}`,
      { details: { issues: unconnected } },
    );
}

/**
 * Puts an earlier version back in force by publishing its document again as the next version:
 * history is never rewritten, and dual control judges the restore as any other publish.
 */
export async function restorePolicyVersion(
  deps: ServiceDeps,
  workspaceId: string,
  version: number,
  actor: Actor,
): Promise<PublishedPolicy> {
  const stored = await policyVersion(deps, workspaceId, version);
  return publishPolicy(deps, workspaceId, stored.policy, actor);
}

/** One published version whole (the console's diff of two versions), parsed again as it is read back. */
export async function policyVersion(
  deps: ServiceDeps,
  workspaceId: string,
  version: number,
): Promise<PolicyVersionView> {
  const stored = await findPolicyVersion(deps.db, workspaceId, version);
  if (!stored) throw new AppError('NOT_FOUND', `Policy version ${version} does not exist in this workspace.`);
  const parsed = parseStoredPolicy(workspaceId, stored);
  if (!parsed.ok) throw new AppError('INTERNAL', `Stored policy version ${version} no longer parses.`);
  return {
    version: stored.version,
    publishedBy: stored.publishedBy,
    createdAt: stored.createdAt.toISOString(),
    policy: parsed.policy,
  };
}

function describe(actor: Actor): string {
  return actor.type === 'agent' ? `agent:${actor.agentId}` : `${actor.type}:${actor.name}`;
}

/** The newest policy, or undefined before the first publish. */
export async function policyInForce(db: Db | Tx, workspaceId: string): Promise<Policy | undefined> {
  const stored = await findLatestPolicyVersion(db, workspaceId);
  const parsed = stored ? parseStoredPolicy(workspaceId, stored) : undefined;
  return parsed?.ok ? parsed.policy : undefined;
}

/** The newest version is the one in force; stored documents are parsed again as they are read back. */
export async function activePolicy(db: Db | Tx, workspaceId: string): Promise<ActivePolicy> {
  const stored = await findLatestPolicyVersion(db, workspaceId);
  if (!stored)
    throw new AppError(
      'NO_ACTIVE_POLICY',
      'This workspace has no policy yet, so every write would be refused: publish one first.',
    );
  const parsed = parseStoredPolicy(workspaceId, stored);
  if (!parsed.ok) throw new AppError('INTERNAL', `Stored policy version ${stored.version} no longer parses.`);
  if (!checkedAsPublished.has(parsed.policy)) {
    if (!(await storedAsPublished(db, workspaceId, stored.version)))
      throw new AppError(
        'INTERNAL',
        `Stored policy version ${stored.version} is not the document its policy.published audit event holds: it was changed in the database, so nothing is decided under it. Publish the policy again.`,
      );
    checkedAsPublished.add(parsed.policy);
  }
  return { version: stored.version, policy: parsed.policy };
}

/**
 * Parsed policies found to be stored as published: a document edited in the database (a tier
 * lowered by hand) parses into a new object, so it is checked once, as it is parsed once.
 */
const checkedAsPublished = new WeakSet<Policy>();

/**
 * A stored version parsed, from memory when its document is what was parsed before. Parsing runs
 * on every agent request (the schema, each time zone checked), and what is compiled once per
 * policy (content rules' patterns, conditions' lists) is kept by the parsed object: parsed anew,
 * 500 banned phrases were compiled again for every draft, about 50 ms each time. A version is
 * immutable, but a row edited in the database is compared by its text and parsed again, never
 * served stale. The policy handed out is frozen, since every request shares it.
 */
export function parseStoredPolicy(
  workspaceId: string,
  stored: Pick<StoredPolicyVersion, 'version' | 'document'>,
): ParsedPolicy {
  const key = `${workspaceId} ${stored.version}`;
  const text = JSON.stringify(stored.document);
  const kept = parsedVersions.get(key);
  if (kept?.text === text) return kept.parsed;
  const parsed = parsePolicy(stored.document);
  if (parsed.ok) deepFreeze(parsed.policy);
  forget(key);
  parsedVersions.set(key, { text, parsed });
  keptChars += text.length;
  // Oldest first in a Map: a server holding many workspaces keeps the versions parsed last.
  for (const oldest of parsedVersions.keys()) {
    if (parsedVersions.size <= PARSED_VERSIONS_KEPT && keptChars <= PARSED_CHARS_KEPT) break;
    forget(oldest);
  }
  return parsed;
}

const parsedVersions = new Map<string, { text: string; parsed: ParsedPolicy }>();
/** Bounds on what is kept: documents may be large (a request body, up to 2 MB), and a server may hold many workspaces. */
const PARSED_VERSIONS_KEPT = 1_000;
const PARSED_CHARS_KEPT = 16 * 1024 * 1024;
let keptChars = 0;

function forget(key: string): void {
  keptChars -= parsedVersions.get(key)?.text.length ?? 0;
  parsedVersions.delete(key);
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}

export async function policyHistory(deps: ServiceDeps, workspaceId: string): Promise<PolicyVersion[]> {
  return (await listPolicyVersions(deps.db, workspaceId)).map((row) => ({
    ...row,
    createdAt: row.createdAt.toISOString(),
  }));
}
