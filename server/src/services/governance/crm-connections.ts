import { type ConnectCrmInput, connectCrmSchema, type CrmConnectionView } from '../../../../shared/admin-api.ts';
import type { CrmVendor } from '../../../../shared/crm-names.ts';
import { AppError, databaseErrorIn } from '../../errors.ts';
import { insertCrmConnection, findWorkspaceByPortal, lockWorkspace } from '../../store/workspace-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { requireActiveWorkspace, signInToSalesforce, verifyCrmToken } from './workspaces.ts';

const CRM_NAMES: Record<CrmVendor, string> = { hubspot: 'HubSpot', salesforce: 'Salesforce' };
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
  const parsed = connectCrmSchema.parse(input);
  const workspace = await requireActiveWorkspace(deps, workspaceId);
  refuseSecondOfCrm(workspace.id, workspace.connections, parsed.crm);
  const connection = await signInAsRequested(() =>
    parsed.crm === 'hubspot'
      ? hubspotConnection(deps, workspace.id, parsed)
      : signInToSalesforce(deps, workspace.id, parsed.connection),
  );
  const account = parsed.crm === 'hubspot' ? connection.accountId : `salesforce:${connection.accountId}`;
  const holder = await findWorkspaceByPortal(deps.db, account);
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
      `Workspace ${workspaceId} is already connected to ${CRM_NAMES[crm]} ${ACCOUNT_NAMES[crm]} ${existing.accountId}: a workspace holds one account of each CRM.`,
      { details: { reason: 'already_connected', crm, accountId: existing.accountId } },
    );
}

/** Which workspace holds it is not said: an admin of one workspace learns nothing of another. */
function accountInUse(crm: CrmVendor, accountId: string): AppError {
  return new AppError(
    'CONFLICT',
    `${CRM_NAMES[crm]} ${ACCOUNT_NAMES[crm]} ${accountId} belongs to another workspace: an account is connected to one workspace only. Nothing was stored.`,
    { details: { reason: 'account_in_use', crm, accountId } },
  );
}
