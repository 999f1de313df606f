import { randomUUID } from 'node:crypto';
import {
  type SalesforceConnection,
  type SalesforceConnectionInput,
  salesforceConnectionSchema,
} from '../../../../shared/salesforce-connection.ts';
import { AppError } from '../../errors.ts';
import { hashToken, newToken } from '../../secrets.ts';
import { createAuditHead } from '../../store/audit-store.ts';
import { findAgentByTokenHash } from '../../store/agent-store.ts';
import {
  findWorkspace,
  findWorkspaceByAdminTokenHash,
  findWorkspaceByPortal,
  insertWorkspace,
  listWorkspaces,
  type WorkspaceRow,
} from '../../store/workspace-store.ts';
import { actorJson, type Actor, type ServiceDeps, lockAuditChain } from '../common/index.ts';
import { isUuid } from '../common/index.ts';
import { readableMessage } from '../../../../shared/zod-issues.ts';

export interface NewWorkspace {
  name: string;
  hubspotPortalId: string;
  hubspotToken: string;
  hubspotClientSecret?: string | undefined;
  /** Check the token with one CRM call before storing anything (issue 18); the CLI's --no-verify turns it off. */
  verifyToken?: boolean;
}

/** What `workspace list` shows: never a token or secret, only whether a client secret is set. */
export interface WorkspaceView {
  id: string;
  name: string;
  crm: 'hubspot' | 'salesforce';
  hubspotPortalId: string;
  status: 'active' | 'removed';
  hasClientSecret: boolean;
  approvalObjectTypeId: string | null;
  createdAt: string;
  removedAt: string | null;
  /** Each CRM account it is connected to, the first (its `crm`, named in `hubspotPortalId`) first; none once removed. */
  connections: { crm: 'hubspot' | 'salesforce'; accountId: string }[];
}

/** Connects a HubSpot account. The admin token is shown once here and kept only as a hash. */
export async function createWorkspace(
  deps: ServiceDeps,
  input: NewWorkspace,
  actor: Actor,
): Promise<{ id: string; adminToken: string }> {
  if (await findWorkspaceByPortal(deps.db, input.hubspotPortalId)) {
    throw new AppError(
      'CONFLICT',
      `HubSpot portal ${input.hubspotPortalId} is already connected to a workspace: fix it with workspace update, or workspace remove it first.`,
    );
  }
  const id = randomUUID();
  const adminToken = newToken('adm');
  const hubspotTokenEnc = deps.secrets.seal(input.hubspotToken);
  if (input.verifyToken) await verifyCrmToken(deps, { id, hubspotPortalId: input.hubspotPortalId, hubspotTokenEnc });
  await deps.db.transaction(async (tx) => {
    await insertWorkspace(tx, {
      id,
      name: input.name,
      crm: 'hubspot',
      hubspotPortalId: input.hubspotPortalId,
      hubspotTokenEnc,
      hubspotClientSecretEnc: input.hubspotClientSecret ? deps.secrets.seal(input.hubspotClientSecret) : null,
      adminTokenHash: hashToken(adminToken),
    });
    await createAuditHead(tx, id);
    const audit = await lockAuditChain(tx, id, deps.clock);
    audit.append({
      type: 'workspace.created',
      actor: actorJson(actor),
      data: {
        name: input.name,
        crm: 'hubspot',
        hubspotPortalId: input.hubspotPortalId,
        tokenVerified: input.verifyToken === true,
      },
    });
    await audit.flush();
  });
  return { id, adminToken };
}

/**
 * Asks the CRM which account the token opens, before it is stored: a mistyped token, a revoked
 * one or another account's is refused here instead of failing at bootstrap. The candidate's id
 * is the one the workspace has or will have, so the adapter made for the check is the one kept.
 */
export async function verifyCrmToken(
  deps: ServiceDeps,
  candidate: Pick<WorkspaceRow, 'id' | 'hubspotPortalId' | 'hubspotTokenEnc'>,
): Promise<void> {
  const portal = candidate.hubspotPortalId;
  let accountId: string;
  try {
    ({ accountId } = await deps.crmFor({ ...unsavedWorkspace, ...candidate }).readAccount());
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const skip = 'Nothing was stored. (The CLI’s --no-verify stores a token unchecked.)';
    if (error.code === 'CRM_AUTH_FAILED') {
      throw new AppError(
        'CRM_AUTH_FAILED',
        `The token for portal ${portal} was refused. ${error.message} Give the access token of that account's private app. ${skip}`,
        { cause: error, details: error.details },
      );
    }
    throw new AppError(error.code, `The token for portal ${portal} could not be checked: ${error.message} ${skip}`, {
      cause: error,
      details: error.details,
      retryable: error.retryable,
    });
  }
  if (accountId !== portal) {
    throw new AppError(
      'VALIDATION_FAILED',
      `The token opens HubSpot portal ${accountId}, not ${portal}: give that account's token, or --hubspot-portal-id ${accountId}. Nothing was stored.`,
      {
        details: { tokenPortalId: accountId },
      },
    );
  }
}

// Only the fields the CRM adapter reads matter for a check; the rest keeps the row's type whole.
const unsavedWorkspace: WorkspaceRow = {
  id: '',
  name: '',
  crm: 'hubspot',
  hubspotPortalId: '',
  hubspotTokenEnc: '',
  hubspotClientSecretEnc: null,
  salesforceSessionEnc: null,
  adminTokenHash: '',
  approvalObject: null,
  createdAt: new Date(0),
  removedAt: null,
  connections: [],
};

/**
 * A Salesforce connection as given (`field` names it in the request: `connection`,
 * `salesforceConnection`), sealed whole, once its addresses are ones this server may reach: a login
 * URL off Salesforce's domains and the operator's allowed networks is refused 422
 * DESTINATION_NOT_ALLOWED before anything is sent to it. `candidate` is the workspace as its
 * adapter would read the sealed connection.
 */
export function sealSalesforceConnection(
  deps: ServiceDeps,
  workspaceId: string,
  input: SalesforceConnectionInput,
  field: string,
): { connection: SalesforceConnection; credentialsEnc: string; candidate: WorkspaceRow } {
  const connection = salesforceConnectionSchema.parse(input, { error: readableMessage });
  const credentialsEnc = deps.secrets.seal(JSON.stringify(connection));
  const candidate: WorkspaceRow = {
    ...unsavedWorkspace,
    id: workspaceId,
    crm: 'salesforce',
    hubspotTokenEnc: credentialsEnc,
  };
  try {
    deps.crmFor(candidate).assertConfigurable?.();
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'DESTINATION_NOT_ALLOWED')) throw error;
    const details = error.details as { path: string };
    throw new AppError(error.code, error.message, {
      cause: error,
      details: { ...details, path: `${field}.${details.path}` },
    });
  }
  return { connection, credentialsEnc, candidate };
}

/**
 * Signs in to a Salesforce org once through its External Client App (one token request, no API
 * call), for the workspace `workspaceId` is or will be: the org the token names is the account,
 * and a refused grant stores nothing. The connection comes back sealed whole.
 */
export async function signInToSalesforce(
  deps: ServiceDeps,
  workspaceId: string,
  input: SalesforceConnectionInput,
  field: string,
): Promise<{ accountId: string; credentialsEnc: string; clientSecretEnc: null }> {
  const { connection, credentialsEnc, candidate } = sealSalesforceConnection(deps, workspaceId, input, field);
  try {
    const { accountId } = await deps.crmFor(candidate).readAccount();
    return { accountId, credentialsEnc, clientSecretEnc: null };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    throw new AppError(
      error.code,
      `The Salesforce org at ${connection.loginUrl} could not be connected: ${error.message} Nothing was stored.`,
      {
        cause: error,
        details: error.details,
        retryable: error.retryable,
      },
    );
  }
}

/**
 * Connects a Salesforce org (issue 20) through its External Client App. The credentials are tried
 * first (one token request, no API call): the org they open is the workspace's account, and a
 * refused grant stores nothing. The connection is sealed whole; the admin token is shown once.
 */
export async function createSalesforceWorkspace(
  deps: ServiceDeps,
  input: { name: string; connection: SalesforceConnectionInput },
  actor: Actor,
): Promise<{ id: string; adminToken: string; orgId: string }> {
  const id = randomUUID();
  const { accountId: orgId, credentialsEnc: hubspotTokenEnc } = await signInToSalesforce(
    deps,
    id,
    input.connection,
    'connection',
  );
  const account = `salesforce:${orgId}`;
  if (await findWorkspaceByPortal(deps.db, account))
    throw new AppError(
      'CONFLICT',
      `Salesforce org ${orgId} is already connected to a workspace: workspace remove it first.`,
    );
  const adminToken = newToken('adm');
  await deps.db.transaction(async (tx) => {
    await insertWorkspace(tx, {
      id,
      name: input.name,
      crm: 'salesforce',
      hubspotPortalId: account,
      hubspotTokenEnc,
      adminTokenHash: hashToken(adminToken),
    });
    await createAuditHead(tx, id);
    const audit = await lockAuditChain(tx, id, deps.clock);
    audit.append({
      type: 'workspace.created',
      actor: actorJson(actor),
      data: {
        name: input.name,
        crm: 'salesforce',
        salesforceOrgId: orgId,
        loginUrl: input.connection.loginUrl,
        auth: input.connection.auth.kind,
        tokenVerified: true,
      },
    });
    await audit.flush();
  });
  return { id, adminToken, orgId };
}

export async function requireWorkspace(deps: ServiceDeps, workspaceId: string): Promise<WorkspaceRow> {
  const workspace = isUuid(workspaceId) ? await findWorkspace(deps.db, workspaceId) : undefined;
  if (!workspace) throw new AppError('NOT_FOUND', `Workspace ${workspaceId} does not exist.`);
  return workspace;
}

/** As requireWorkspace, but a removed workspace is refused: only its audit log can still be read. */
export async function requireActiveWorkspace(deps: ServiceDeps, workspaceId: string): Promise<WorkspaceRow> {
  const workspace = await requireWorkspace(deps, workspaceId);
  if (workspace.removedAt) {
    throw new AppError(
      'CONFLICT',
      `Workspace ${workspaceId} was removed on ${workspace.removedAt.toISOString()}; only its audit log can still be verified and exported.`,
      {
        details: { removedAt: workspace.removedAt.toISOString() },
      },
    );
  }
  return workspace;
}

/** Admin tokens belong to one workspace; a removed workspace's token opens nothing. */
export async function authenticateAdmin(deps: ServiceDeps, token: string): Promise<WorkspaceRow> {
  const tokenHash = hashToken(token);
  const workspace = await findWorkspaceByAdminTokenHash(deps.db, tokenHash);
  if (workspace?.removedAt)
    throw new AppError(
      'UNAUTHENTICATED',
      `The bearer token is the admin token of workspace ${workspace.id}, which was removed.`,
    );
  if (workspace) return workspace;
  // The two kinds of token look alike in a shell history; say which one was sent (issue 18).
  if (await findAgentByTokenHash(deps.db, tokenHash)) {
    throw new AppError(
      'UNAUTHENTICATED',
      'The bearer token is an agent token; the admin API takes the workspace’s admin token (printed once by workspace add).',
      { details: { tokenKind: 'agent' } },
    );
  }
  throw new AppError('UNAUTHENTICATED', 'The bearer token is not a valid admin token.');
}

export async function listWorkspaceViews(deps: ServiceDeps): Promise<WorkspaceView[]> {
  return (await listWorkspaces(deps.db)).map(workspaceView);
}

export function workspaceView(row: WorkspaceRow): WorkspaceView {
  return {
    id: row.id,
    name: row.name,
    crm: row.crm,
    hubspotPortalId: row.hubspotPortalId,
    status: row.removedAt ? 'removed' : 'active',
    hasClientSecret: row.hubspotClientSecretEnc !== null,
    approvalObjectTypeId: row.approvalObject?.objectTypeId ?? null,
    createdAt: row.createdAt.toISOString(),
    removedAt: row.removedAt?.toISOString() ?? null,
    connections: row.connections.map(({ crm, accountId }) => ({ crm, accountId })),
  };
}
