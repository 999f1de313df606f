import { CRM_DISPLAY_NAMES, type CrmVendor } from '../../../../shared/crm-names.ts';
import type { SalesforceConnectionInput } from '../../../../shared/salesforce-connection.ts';
import { AppError } from '../../errors.ts';
import { listAgents, updateAgentStatus } from '../../store/agent-store.ts';
import {
  lockWorkspace,
  setConnectionCredentials,
  updateWorkspace,
  workspaceHasSubmittedWork,
  type WorkspaceRow,
} from '../../store/workspace-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { setKillSwitch } from './kill-switches.ts';
import {
  requireActiveWorkspace,
  sealSalesforceConnection,
  signInToSalesforce,
  verifyCrmToken,
  workspaceView,
  type WorkspaceView,
} from './workspaces.ts';

export interface WorkspaceChanges {
  name?: string | undefined;
  /** The connection whose credentials change (issue 20): the workspace's first when not given. */
  crm?: CrmVendor | undefined;
  hubspotToken?: string | undefined;
  hubspotClientSecret?: string | undefined;
  /** A Salesforce org's connection, given whole (login URL and credentials) as `workspace add` takes it. */
  salesforceConnection?: SalesforceConnectionInput | undefined;
  /** Check new credentials with the CRM before storing them, as `workspace add` does. */
  verifyToken: boolean;
}

const CHANGEABLE = ['name', 'hubspotToken', 'hubspotClientSecret', 'salesforceConnection'] as const;

/**
 * Renames a workspace or rotates the credentials of one of its connections (issues 18 and 20).
 * The audit event names what changed, never a token or secret; new credentials are checked
 * before they replace the old ones, and must open the account the workspace is connected to.
 */
export async function changeWorkspace(
  deps: ServiceDeps,
  workspaceId: string,
  changes: WorkspaceChanges,
  actor: Actor,
): Promise<WorkspaceView> {
  const workspace = await requireActiveWorkspace(deps, workspaceId);
  const changed = CHANGEABLE.filter((field) => changes[field] !== undefined);
  if (changed.length === 0)
    throw new AppError(
      'VALIDATION_FAILED',
      'Nothing to change: give --name, --hubspot-token, --hubspot-client-secret or the --salesforce-* options.',
    );
  const crm = changes.crm ?? workspace.crm;
  const credentials = await checkedCredentials(deps, workspace, crm, changes);
  return withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const locked = await lockedActive(tx, workspace.id);
    if (credentials) {
      // Checked against the account connected when the command began: it must still be the one.
      const connection = locked.connections.find((each) => each.crm === crm);
      if (connection?.accountId !== credentials.accountId)
        throw new AppError(
          'CONFLICT',
          `Workspace ${workspace.id}'s connection to ${CRM_DISPLAY_NAMES[crm]} changed meanwhile. Nothing was stored.`,
        );
      await setConnectionCredentials(tx, workspace.id, crm, credentials.sealed);
    }
    if (changes.name !== undefined) await updateWorkspace(tx, workspace.id, { name: changes.name });
    audit.append({
      type: 'workspace.updated',
      actor: actorJson(actor),
      ...(changes.name === undefined ? {} : { before: { name: locked.name }, after: { name: changes.name } }),
      data: {
        changed: [...changed],
        ...(credentials ? { crm } : {}),
        ...(credentials?.sealed.credentialsEnc === undefined ? {} : { tokenVerified: changes.verifyToken }),
      },
    });
    return workspaceView((await lockWorkspace(tx, workspace.id)) ?? locked);
  });
}

/**
 * The new credentials of the workspace's connection to `crm`, sealed, once the CRM accepted them
 * (unless `verifyToken` is off) and they open the account connected; undefined when only the name
 * changes. Options of the other CRM are refused rather than stored where they mean nothing.
 */
async function checkedCredentials(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  crm: CrmVendor,
  changes: WorkspaceChanges,
): Promise<{ accountId: string; sealed: { credentialsEnc?: string; clientSecretEnc?: string } } | undefined> {
  const hubspotOptions = changes.hubspotToken !== undefined || changes.hubspotClientSecret !== undefined;
  if (crm === 'salesforce' && hubspotOptions)
    throw new AppError(
      'VALIDATION_FAILED',
      '--hubspot-token and --hubspot-client-secret are a HubSpot portal’s: give --crm hubspot to rotate them.',
    );
  if (crm === 'hubspot' && changes.salesforceConnection !== undefined)
    throw new AppError(
      'VALIDATION_FAILED',
      'The --salesforce-* options are a Salesforce org’s: give --crm salesforce to rotate them.',
    );
  const connection = workspace.connections.find((each) => each.crm === crm);
  if (!connection)
    throw new AppError('NOT_FOUND', `Workspace ${workspace.id} is not connected to ${CRM_DISPLAY_NAMES[crm]}.`, {
      details: { reason: 'not_connected', crm },
    });
  if (crm === 'hubspot') {
    if (!hubspotOptions) return undefined;
    const credentialsEnc = changes.hubspotToken === undefined ? undefined : deps.secrets.seal(changes.hubspotToken);
    if (credentialsEnc !== undefined && changes.verifyToken)
      await verifyCrmToken(deps, {
        id: workspace.id,
        hubspotPortalId: connection.accountId,
        hubspotTokenEnc: credentialsEnc,
      });
    return {
      accountId: connection.accountId,
      sealed: {
        ...(credentialsEnc === undefined ? {} : { credentialsEnc }),
        ...(changes.hubspotClientSecret === undefined
          ? {}
          : { clientSecretEnc: deps.secrets.seal(changes.hubspotClientSecret) }),
      },
    };
  }
  if (changes.salesforceConnection === undefined) return undefined;
  // Unverified too, a login URL the server may not reach is refused before it is stored.
  const signedIn = changes.verifyToken
    ? await signInToSalesforce(deps, workspace.id, changes.salesforceConnection, 'salesforceConnection')
    : {
        accountId: connection.accountId,
        credentialsEnc: sealSalesforceConnection(
          deps,
          workspace.id,
          changes.salesforceConnection,
          'salesforceConnection',
        ).credentialsEnc,
      };
  if (signedIn.accountId !== connection.accountId)
    throw new AppError(
      'VALIDATION_FAILED',
      `The credentials open Salesforce org ${signedIn.accountId}, not ${connection.accountId}, the org this workspace is connected to: give that org's External Client App. Nothing was stored.`,
      {
        details: {
          reason: 'other_account',
          crm,
          accountId: connection.accountId,
          credentialsAccountId: signedIn.accountId,
        },
      },
    );
  return { accountId: connection.accountId, sealed: { credentialsEnc: signedIn.credentialsEnc } };
}

/**
 * Removes a workspace without deleting anything (issue 18): it is marked removed, its agents are
 * revoked, its admin token stops working and its portal may be connected again; its rows and its
 * audit chain stay, and `audit verify` / `audit export` still read them. A workspace agents have
 * submitted work to is refused unless `force`; then its kill switch is engaged first, so no held
 * write of it is applied afterwards.
 */
export async function removeWorkspace(
  deps: ServiceDeps,
  workspaceId: string,
  options: { force: boolean },
  actor: Actor,
): Promise<{ workspace: WorkspaceView; revokedAgents: string[] }> {
  const workspace = await requireActiveWorkspace(deps, workspaceId);
  if (options.force)
    await setKillSwitch(
      deps,
      workspace.id,
      { scope: 'workspace', engaged: true, reason: 'The workspace was removed.' },
      actor,
    );
  return withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const locked = await lockedActive(tx, workspace.id);
    const hadSubmittedWork = await workspaceHasSubmittedWork(tx, workspace.id);
    if (hadSubmittedWork && !options.force) {
      throw new AppError(
        'CONFLICT',
        `Workspace ${workspace.id} holds change sets or drafts its agents submitted. Give --force to remove it anyway: its kill switch is engaged, its agents revoked, and its records and audit log kept.`,
      );
    }
    const revokedAgents: string[] = [];
    for (const agent of await listAgents(tx, workspace.id)) {
      if (agent.status === 'revoked') continue;
      await updateAgentStatus(tx, workspace.id, agent.id, 'revoked');
      audit.append({
        type: 'agent.revoked',
        actor: actorJson(actor),
        agentId: agent.id,
        before: { status: agent.status },
        after: { status: 'revoked' },
      });
      revokedAgents.push(agent.id);
    }
    const removedAt = deps.clock();
    await updateWorkspace(tx, workspace.id, { removedAt });
    audit.append({
      type: 'workspace.removed',
      actor: actorJson(actor),
      data: { force: options.force, hadSubmittedWork, revokedAgents },
    });
    return { workspace: workspaceView({ ...locked, removedAt }), revokedAgents };
  });
}

async function lockedActive(tx: Parameters<typeof lockWorkspace>[0], workspaceId: string): Promise<WorkspaceRow> {
  const locked = await lockWorkspace(tx, workspaceId);
  // Removed by another command since it was read.
  if (!locked || locked.removedAt) throw new AppError('CONFLICT', `Workspace ${workspaceId} was removed meanwhile.`);
  return locked;
}
