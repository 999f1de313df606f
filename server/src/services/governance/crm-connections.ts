import { type ConnectCrmInput, connectCrmSchema, type CrmConnectionView } from '../../../../shared/admin-api.ts';
import { CRM_DISPLAY_NAMES, type CrmVendor, crmOfObjectType } from '../../../../shared/crm-names.ts';
import { AppError, databaseErrorIn } from '../../errors.ts';
import {
  countCrmWorkInFlight,
  deleteCrmConnection,
  insertCrmConnection,
  findWorkspaceByPortal,
  lockWorkspace,
  type WorkspaceRow,
} from '../../store/workspace-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { objectTypesNamedBy, policyInForce } from './policies.ts';
import { requireActiveWorkspace, signInToSalesforce, verifyCrmToken } from './workspaces.ts';
import { readableMessage } from '../../../../shared/zod-issues.ts';

const ACCOUNT_NAMES: Record<CrmVendor, string> = { hubspot: 'portal', salesforce: 'org' };

/**
 * Connects a workspace to its other CRM (issue 20), after the same sign-in check as `workspace add`
 * for that CRM: one policy then governs the objects of both. Refused when the workspace already
 * has that CRM, or when the account belongs to another workspace. Audited without credentials.
 */
export async function connectCrm(
  deps: ServiceDeps,
  workspaceId: string,
  input: ConnectCrmInput,
  actor: Actor,
): Promise<CrmConnectionView> {
  const parsed = connectCrmSchema.parse(input, { error: readableMessage });
  const workspace = await requireActiveWorkspace(deps, workspaceId);
  refuseSecondOfCrm(workspace.id, workspace.connections, parsed.crm);
  const connection = await signInAsRequested(() =>
    parsed.crm === 'hubspot'
      ? hubspotConnection(deps, workspace.id, parsed)
      : signInToSalesforce(deps, workspace.id, parsed.connection, 'connection'),
  );
  const account = parsed.crm === 'hubspot' ? connection.accountId : `salesforce:${connection.accountId}`;
  const holder = await findWorkspaceByPortal(deps.db, account);
  // Another connect of this workspace finished during the sign-in: this one is the second of its CRM.
  if (holder?.id === workspace.id) refuseSecondOfCrm(workspace.id, holder.connections, parsed.crm);
  if (holder) throw accountInUse(parsed.crm, connection.accountId);
  return withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const locked = await lockWorkspace(tx, workspace.id);
    if (!locked || locked.removedAt) throw new AppError('CONFLICT', `Workspace ${workspace.id} was removed meanwhile.`);
    refuseSecondOfCrm(workspace.id, locked.connections, parsed.crm);
    try {
      await insertCrmConnection(tx, { workspaceId: workspace.id, crm: parsed.crm, ...connection });
    } catch (error) {
      // Another workspace connected the account meanwhile: its unique index answers.
      if (databaseErrorIn(error)?.code === '23505') throw accountInUse(parsed.crm, connection.accountId);
      throw error;
    }
    audit.append({
      type: 'workspace.connected',
      actor: actorJson(actor),
      data: {
        crm: parsed.crm,
        accountId: connection.accountId,
        ...(parsed.crm === 'salesforce'
          ? { loginUrl: parsed.connection.loginUrl, auth: parsed.connection.auth.kind, tokenVerified: true }
          : { tokenVerified: parsed.verifyToken }),
      },
    });
    return { workspaceId: workspace.id, crm: parsed.crm, accountId: connection.accountId };
  });
}

const SIGN_IN_FAILURES = new Set(['CRM_AUTH_FAILED', 'CRM_REJECTED', 'CRM_UNAVAILABLE', 'CRM_RATE_LIMITED']);

/**
 * The address and credentials to sign in with are the request's own: a CRM that refuses them or
 * cannot be reached at that address is answered 422 with the CRM's sentence (retryable when it
 * could not be reached), not as a failure of this server.
 */
async function signInAsRequested<T>(signIn: () => Promise<T>): Promise<T> {
  try {
    return await signIn();
  } catch (error) {
    if (!(error instanceof AppError) || !SIGN_IN_FAILURES.has(error.code)) throw error;
    throw new AppError('CRM_SIGN_IN_FAILED', error.message, {
      cause: error,
      details: { reason: error.code, ...(error.details as object | undefined) },
      retryable: error.retryable,
    });
  }
}

async function hubspotConnection(
  deps: ServiceDeps,
  workspaceId: string,
  input: {
    hubspotPortalId: string;
    hubspotToken: string;
    hubspotClientSecret?: string | undefined;
    verifyToken: boolean;
  },
): Promise<{ accountId: string; credentialsEnc: string; clientSecretEnc: string | null }> {
  const credentialsEnc = deps.secrets.seal(input.hubspotToken);
  if (input.verifyToken)
    await verifyCrmToken(deps, {
      id: workspaceId,
      hubspotPortalId: input.hubspotPortalId,
      hubspotTokenEnc: credentialsEnc,
    });
  return {
    accountId: input.hubspotPortalId,
    credentialsEnc,
    clientSecretEnc: input.hubspotClientSecret ? deps.secrets.seal(input.hubspotClientSecret) : null,
  };
}

function refuseSecondOfCrm(
  workspaceId: string,
  connections: readonly { crm: CrmVendor; accountId: string }[],
  crm: CrmVendor,
): void {
  const existing = connections.find((connection) => connection.crm === crm);
  if (existing)
    throw new AppError(
      'CONFLICT',
      `Workspace ${workspaceId} is already connected to ${CRM_DISPLAY_NAMES[crm]} ${ACCOUNT_NAMES[crm]} ${existing.accountId}: a workspace holds one account of each CRM.`,
      { details: { reason: 'already_connected', crm, accountId: existing.accountId } },
    );
}

/** Which workspace holds it is not said: an admin of one workspace learns nothing of another. */
function accountInUse(crm: CrmVendor, accountId: string): AppError {
  return new AppError(
    'CONFLICT',
    `${CRM_DISPLAY_NAMES[crm]} ${ACCOUNT_NAMES[crm]} ${accountId} belongs to another workspace: an account is connected to one workspace only. Nothing was stored.`,
    { details: { reason: 'account_in_use', crm, accountId } },
  );
}

/**
 * Disconnects a workspace from the CRM it connected second (issue 20): the account is free for
 * another workspace, its webhooks or change events no longer reach this one. The first connection
 * stays for the workspace's life (its `crm`, the approval object, drafts' contacts and teams are
 * that CRM's): removing the workspace gives it back. Refused while the policy in force names that
 * CRM's objects, and while work on them is under way (approvals, drafts, change sets, held
 * creations and associations, rollbacks), each with what to do first. Audited without credentials.
 */
export async function disconnectCrm(
  deps: ServiceDeps,
  workspaceId: string,
  crm: CrmVendor,
  actor: Actor,
): Promise<CrmConnectionView> {
  const workspace = await requireActiveWorkspace(deps, workspaceId);
  return withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const locked = await lockWorkspace(tx, workspace.id);
    if (!locked || locked.removedAt) throw new AppError('CONFLICT', `Workspace ${workspace.id} was removed meanwhile.`);
    const connection = disconnectable(locked, crm);
    const policy = await policyInForce(tx, workspace.id);
    const governed = [
      ...new Set(
        (policy ? objectTypesNamedBy(policy) : [])
          .map(({ objectType }) => objectType)
          .filter((objectType) => crmOfObjectType(objectType) === crm),
      ),
    ];
    if (governed.length > 0)
      throw new AppError(
        'CONFLICT',
        `The policy in force governs ${governed.join(', ')} of ${CRM_DISPLAY_NAMES[crm]}: publish a policy without them first, then disconnect.`,
        { details: { reason: 'policy_governs', crm, objectTypes: governed } },
      );
    const work = await countCrmWorkInFlight(tx, workspace.id, crm);
    const underWay = Object.entries(work).filter(([, count]) => count > 0);
    if (underWay.length > 0)
      throw new AppError(
        'CONFLICT',
        `Work on ${CRM_DISPLAY_NAMES[crm]}'s records is under way (${underWay.map(([what, count]) => `${count} ${WORK_NAMES[what as keyof typeof work]}`).join(', ')}): decide or withdraw what is held and let rollbacks and change sets finish, then disconnect.`,
        { details: { reason: 'work_in_flight', crm, ...work } },
      );
    await deleteCrmConnection(tx, workspace.id, crm);
    audit.append({
      type: 'workspace.disconnected',
      actor: actorJson(actor),
      data: { crm, accountId: connection.accountId },
    });
    return { workspaceId: workspace.id, crm, accountId: connection.accountId };
  });
}

const WORK_NAMES = {
  approvals: 'approval(s) pending or not yet written',
  drafts: 'draft(s) held or released',
  changeSets: 'change set(s) writing',
  heldEntries: 'creation(s) or association(s) held or being made',
  rollbacks: 'rollback(s) not finished',
};

/** The connection to `crm` when it is the workspace's second; the first stays while the workspace does. */
function disconnectable(workspace: WorkspaceRow, crm: CrmVendor): { accountId: string } {
  const connection = workspace.connections.find((each) => each.crm === crm);
  if (!connection)
    throw new AppError('NOT_FOUND', `Workspace ${workspace.id} is not connected to ${CRM_DISPLAY_NAMES[crm]}.`, {
      details: { reason: 'not_connected', crm },
    });
  if (workspace.connections.length === 1)
    throw new AppError(
      'CONFLICT',
      `${CRM_DISPLAY_NAMES[crm]} ${ACCOUNT_NAMES[crm]} ${connection.accountId} is this workspace's only connection: remove the workspace instead (workspace remove), which gives the account back.`,
      { details: { reason: 'only_connection', crm, accountId: connection.accountId } },
    );
  if (workspace.crm === crm)
    throw new AppError(
      'CONFLICT',
      `${CRM_DISPLAY_NAMES[crm]} ${ACCOUNT_NAMES[crm]} ${connection.accountId} is this workspace's first connection, which its approval object, drafts and teams belong to: disconnect the other CRM instead, or remove the workspace.`,
      { details: { reason: 'first_connection', crm, accountId: connection.accountId } },
    );
  return connection;
}
