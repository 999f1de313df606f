import { z } from 'zod';
import type { WorkspaceView } from '../services/governance/index.ts';
import { type SalesforceConnection, salesforceConnectionSchema } from '../../../shared/salesforce-connection.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { AppError } from '../errors.ts';
import { CLI_ACTOR, parseWith, readTextFile, withRuntime, type CommandOutput } from './command-kit.ts';
import { requireOption, type CommandContext, type CommandSpec } from './parse.ts';
import { readableMessage } from '../../../shared/zod-issues.ts';

const portalIdSchema = z.string().regex(/^[0-9]{1,18}$/, 'must be the HubSpot portal (account) id, digits only');
const optional = (context: CommandContext, name: string) => context.values[name] as string | undefined;

const crmSchema = z.enum(['hubspot', 'salesforce'], { error: 'must be hubspot or salesforce' });

const SALESFORCE_OPTIONS = {
  'salesforce-login-url': { type: 'string' },
  'salesforce-client-id': { type: 'string' },
  'salesforce-client-secret': { type: 'string' },
  'salesforce-username': { type: 'string' },
  'salesforce-private-key': { type: 'string' },
  'salesforce-api-share': { type: 'string' },
} as const;
const HUBSPOT_OPTIONS = {
  'hubspot-portal-id': { type: 'string' },
  'hubspot-token': { type: 'string' },
  'hubspot-client-secret': { type: 'string' },
  'no-verify': { type: 'boolean' },
} as const;
const SALESFORCE_USAGE =
  '--salesforce-login-url URL --salesforce-client-id ID\n  (--salesforce-client-secret SECRET | --salesforce-username USER --salesforce-private-key FILE) [--salesforce-api-share 0.5] [--json]';
const HUBSPOT_USAGE =
  '--hubspot-portal-id ID --hubspot-token TOKEN [--hubspot-client-secret SECRET] [--no-verify] [--json]';

/** The flag that gave each field of a Salesforce connection, named when the field is refused. */
const SALESFORCE_FLAG_OF_FIELD: Record<string, keyof typeof SALESFORCE_OPTIONS> = {
  loginUrl: 'salesforce-login-url',
  clientId: 'salesforce-client-id',
  clientSecret: 'salesforce-client-secret',
  username: 'salesforce-username',
  privateKeyPem: 'salesforce-private-key',
  apiShare: 'salesforce-api-share',
};

/**
 * The `--salesforce-*` flags: client credentials with a secret, the JWT bearer flow with a user
 * and key file. Both at once is refused rather than one chosen: calls would run as a user the admin
 * did not name.
 */
function salesforceConnectionOf(context: CommandContext): SalesforceConnection {
  const clientId = requireOption(context, 'salesforce-client-id');
  const secret = optional(context, 'salesforce-client-secret');
  const share = optional(context, 'salesforce-api-share');
  const jwtFlags = (['salesforce-username', 'salesforce-private-key'] as const).filter(
    (name) => optional(context, name) !== undefined,
  );
  if (secret !== undefined && jwtFlags.length > 0)
    throw new AppError(
      'VALIDATION_FAILED',
      `--salesforce-client-secret and --${jwtFlags[0]} name two ways to sign in: give the secret (client credentials) or --salesforce-username with --salesforce-private-key (JWT bearer), not both.`,
    );
  const parsed = salesforceConnectionSchema.safeParse(
    {
      loginUrl: requireOption(context, 'salesforce-login-url'),
      auth:
        secret !== undefined
          ? { kind: 'client_credentials', clientId, clientSecret: secret }
          : {
              kind: 'jwt_bearer',
              clientId,
              username: requireOption(context, 'salesforce-username'),
              privateKeyPem: readTextFile(requireOption(context, 'salesforce-private-key')),
            },
      ...(share === undefined ? {} : { apiShare: Number(share) }),
    },
    { error: readableMessage },
  );
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const flag = SALESFORCE_FLAG_OF_FIELD[String(issue?.path.at(-1))];
  if (flag === 'salesforce-api-share')
    throw new AppError(
      'VALIDATION_FAILED',
      `--salesforce-api-share: must be a number above 0 and at most 1 (the share of the org's daily API calls the app may spend), such as 0.5; got ${share}.`,
    );
  throw new AppError('VALIDATION_FAILED', `--${flag ?? 'salesforce-*'}: ${issue?.message ?? 'invalid'}`);
}

/** `workspace add --crm salesforce`. */
async function addSalesforceWorkspace(context: CommandContext, deps: ServiceDeps): Promise<CommandOutput> {
  const { createSalesforceWorkspace } = await import('../services/governance/index.ts');
  const created = await createSalesforceWorkspace(
    deps,
    { name: requireOption(context, 'name'), connection: salesforceConnectionOf(context) },
    CLI_ACTOR,
  );
  return {
    kind: 'result',
    value: created,
    human: `Workspace ${created.id} created for Salesforce org ${created.orgId}.\nAdmin token (shown once, keep it safe): ${created.adminToken}`,
  };
}

/** Connecting, listing, fixing and removing workspaces (issue 18). Tokens and secrets are never printed. */
export const WORKSPACE_COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'workspace add',
    summary:
      'Connects a HubSpot account (its token checked with one HubSpot call) or a Salesforce org (its External Client App signed in once); prints an admin token once.',
    usage: [
      `workspace add --name NAME ${HUBSPOT_USAGE}`,
      `workspace add --crm salesforce --name NAME ${SALESFORCE_USAGE}`,
    ].join('\n'),
    options: { name: { type: 'string' }, crm: { type: 'string' }, ...SALESFORCE_OPTIONS, ...HUBSPOT_OPTIONS },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const crm = parseWith(crmSchema, optional(context, 'crm') ?? 'hubspot', 'crm');
        if (crm === 'salesforce') return addSalesforceWorkspace(context, deps);
        const { createWorkspace } = await import('../services/governance/index.ts');
        const portalId = parseWith(portalIdSchema, requireOption(context, 'hubspot-portal-id'), 'hubspot-portal-id');
        const created = await createWorkspace(
          deps,
          {
            name: requireOption(context, 'name'),
            hubspotPortalId: portalId,
            hubspotToken: requireOption(context, 'hubspot-token'),
            hubspotClientSecret: optional(context, 'hubspot-client-secret'),
            verifyToken: context.values['no-verify'] !== true,
          },
          CLI_ACTOR,
        );
        return {
          kind: 'result',
          value: created,
          human: `Workspace ${created.id} created.\nAdmin token (shown once, keep it safe): ${created.adminToken}`,
        };
      }),
  },
  {
    name: 'workspace connect',
    summary:
      'Connects a workspace to its other CRM, checked as workspace add checks it: one policy then governs the objects of both.',
    usage: [
      `workspace connect --workspace ID --crm hubspot ${HUBSPOT_USAGE}`,
      `workspace connect --workspace ID --crm salesforce ${SALESFORCE_USAGE}`,
    ].join('\n'),
    options: { workspace: { type: 'string' }, crm: { type: 'string' }, ...SALESFORCE_OPTIONS, ...HUBSPOT_OPTIONS },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { connectCrm } = await import('../services/governance/index.ts');
        const crm = parseWith(crmSchema, requireOption(context, 'crm'), 'crm');
        const connected = await connectCrm(
          deps,
          requireOption(context, 'workspace'),
          crm === 'salesforce'
            ? { crm, connection: salesforceConnectionOf(context) }
            : {
                crm,
                hubspotPortalId: parseWith(
                  portalIdSchema,
                  requireOption(context, 'hubspot-portal-id'),
                  'hubspot-portal-id',
                ),
                hubspotToken: requireOption(context, 'hubspot-token'),
                hubspotClientSecret: optional(context, 'hubspot-client-secret'),
                verifyToken: context.values['no-verify'] !== true,
              },
          CLI_ACTOR,
        );
        const account =
          crm === 'salesforce' ? `Salesforce org ${connected.accountId}` : `HubSpot portal ${connected.accountId}`;
        return {
          kind: 'result',
          value: connected,
          human: `Workspace ${connected.workspaceId} connected to ${account}.`,
        };
      }),
  },
  {
    name: 'workspace disconnect',
    summary:
      'Disconnects a workspace from the CRM it connected second, giving the account back; refused while the policy or unfinished work names that CRM.',
    usage: 'workspace disconnect --workspace ID --crm hubspot|salesforce [--json]',
    options: { workspace: { type: 'string' }, crm: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { disconnectCrm } = await import('../services/governance/index.ts');
        const crm = parseWith(crmSchema, requireOption(context, 'crm'), 'crm');
        const disconnected = await disconnectCrm(deps, requireOption(context, 'workspace'), crm, CLI_ACTOR);
        const account =
          crm === 'salesforce'
            ? `Salesforce org ${disconnected.accountId}`
            : `HubSpot portal ${disconnected.accountId}`;
        return {
          kind: 'result',
          value: disconnected,
          human: `Workspace ${disconnected.workspaceId} disconnected from ${account}; the account may be connected elsewhere now.`,
        };
      }),
  },
  {
    name: 'workspace list',
    summary: 'Lists every workspace, removed ones too (never a token or secret).',
    usage: 'workspace list [--json]',
    options: {},
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { listWorkspaceViews } = await import('../services/governance/index.ts');
        const workspaces = await listWorkspaceViews(deps);
        return {
          kind: 'result',
          value: { workspaces },
          human: workspaces.map(workspaceLine).join('\n') || 'No workspaces: connect one with workspace add.',
        };
      }),
  },
  {
    name: 'workspace update',
    summary:
      'Renames a workspace or rotates the credentials of one of its connections, HubSpot or Salesforce (new ones are checked first; audited).',
    usage: [
      'workspace update --workspace ID [--name NAME] [--crm hubspot] [--hubspot-token TOKEN] [--hubspot-client-secret SECRET] [--no-verify] [--json]',
      `workspace update --workspace ID [--name NAME] --crm salesforce ${SALESFORCE_USAGE.replace(' [--json]', ' [--no-verify] [--json]')}`,
    ].join('\n'),
    options: {
      workspace: { type: 'string' },
      name: { type: 'string' },
      crm: { type: 'string' },
      'hubspot-token': { type: 'string' },
      'hubspot-client-secret': { type: 'string' },
      'no-verify': { type: 'boolean' },
      ...SALESFORCE_OPTIONS,
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { changeWorkspace } = await import('../services/governance/index.ts');
        const crm = optional(context, 'crm');
        const salesforce = Object.keys(SALESFORCE_OPTIONS).some((name) => context.values[name] !== undefined);
        const changes = {
          name: optional(context, 'name'),
          crm: crm === undefined ? undefined : parseWith(crmSchema, crm, 'crm'),
          hubspotToken: optional(context, 'hubspot-token'),
          hubspotClientSecret: optional(context, 'hubspot-client-secret'),
          salesforceConnection: salesforce ? salesforceConnectionOf(context) : undefined,
          verifyToken: context.values['no-verify'] !== true,
        };
        const workspace = await changeWorkspace(deps, requireOption(context, 'workspace'), changes, CLI_ACTOR);
        const what = [
          changes.name === undefined ? '' : 'name',
          changes.hubspotToken === undefined ? '' : 'HubSpot token',
          changes.hubspotClientSecret === undefined ? '' : 'client secret',
          changes.salesforceConnection === undefined ? '' : 'Salesforce connection',
        ].filter(Boolean);
        return {
          kind: 'result',
          value: workspace,
          human: `Workspace ${workspace.id}: ${what.join(', ')} changed.\n${workspaceLine(workspace)}`,
        };
      }),
  },
  {
    name: 'workspace remove',
    summary:
      'Removes a workspace: tokens stop working, its portal is freed, its records and audit log stay (--force if agents submitted work).',
    usage: 'workspace remove --workspace ID [--force] [--json]',
    options: { workspace: { type: 'string' }, force: { type: 'boolean' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { removeWorkspace } = await import('../services/governance/index.ts');
        const removed = await removeWorkspace(
          deps,
          requireOption(context, 'workspace'),
          { force: context.values.force === true },
          CLI_ACTOR,
        );
        const human = `Workspace ${removed.workspace.id} removed: its admin token and ${removed.revokedAgents.length} agent token(s) no longer work; its audit log stays (audit verify and audit export still read it).`;
        return { kind: 'result', value: removed, human };
      }),
  },
];

function workspaceLine(workspace: WorkspaceView): string {
  const connections = workspace.connections.map(({ crm, accountId }) => `${crm} ${accountId}`).join(', ');
  return `${workspace.id}  ${workspace.status.padEnd(7)}  portal ${workspace.hubspotPortalId.padEnd(10)}  ${workspace.name}${connections ? `  (${connections})` : ''}`;
}
