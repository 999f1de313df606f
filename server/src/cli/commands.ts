import fs from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { AppError, assertSafeJson } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { Actor, ServiceDeps } from '../services/common/index.ts';
import { requireOption, type CommandContext, type CommandSpec } from './parse.ts';
import { AUDIT_COMMANDS } from './audit-commands.ts';
import { ROLLBACK_COMMAND } from './rollback-command.ts';
import { SANDBOX_COMMANDS } from './sandbox-commands.ts';

// Each command imports what it runs when it runs: loading every service, the HubSpot client and
// the database drivers for any command made `migrate` alone carry them all.

export type CommandOutput = { kind: 'result'; value: unknown; human: string; exitCode?: number } | { kind: 'streamed' };

export const CLI_ACTOR: Actor = { type: 'admin', via: 'cli', name: os.userInfo().username };

/** Opens the database (taking the PGlite data folder, or failing plainly if the server holds it) for one command. */
export async function withRuntime<T>(context: CommandContext, work: (deps: ServiceDeps, runtime: Runtime) => Promise<T>): Promise<T> {
  const { openRuntime } = await import('../runtime.ts');
  const runtime = await openRuntime(context.config, 'the agent-governance CLI');
  try {
    return await work(runtime.deps, runtime);
  } finally {
    await runtime.close();
  }
}

export async function workspaceOf(deps: ServiceDeps, context: CommandContext): Promise<string> {
  const { requireWorkspace } = await import('../services/governance/index.ts');
  return (await requireWorkspace(deps, requireOption(context, 'workspace'))).id;
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, option: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `--${option}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

const workspaceOption = { workspace: { type: 'string' } } as const;

function agentStatusCommand(verb: 'pause' | 'resume' | 'revoke', status: 'paused' | 'active' | 'revoked'): CommandSpec<CommandOutput> {
  return {
    name: `agents ${verb}`,
    usage: `agents ${verb} --workspace ID --agent AGENT_ID [--json]`,
    options: { ...workspaceOption, agent: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { setAgentStatus } = await import('../services/governance/index.ts');
        const agent = await setAgentStatus(deps, await workspaceOf(deps, context), requireOption(context, 'agent'), status, CLI_ACTOR);
        return { kind: 'result', value: agent, human: `Agent ${agent.name} is now ${agent.status}.` };
      }),
  };
}

function killCommand(verb: 'engage' | 'release'): CommandSpec<CommandOutput> {
  return {
    name: `kill ${verb}`,
    usage: `kill ${verb} --workspace ID [--agent AGENT_ID | --action KIND] --reason TEXT [--json]`,
    options: { ...workspaceOption, agent: { type: 'string' }, action: { type: 'string' }, reason: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ actionKindSchema }, { setKillSwitch }] = await Promise.all([import('../../../shared/crm-names.ts'), import('../services/governance/index.ts')]);
        const agent = context.values.agent as string | undefined;
        const action = context.values.action as string | undefined;
        if (agent && action) throw new AppError('VALIDATION_FAILED', 'Give --agent or --action, not both.');
        const scope = agent ? 'agent' : action ? 'action' : 'workspace';
        const target = agent ?? (action ? parseWith(actionKindSchema, action, 'action') : undefined);
        const view = await setKillSwitch(deps, await workspaceOf(deps, context), { scope, target, engaged: verb === 'engage', reason: requireOption(context, 'reason') }, CLI_ACTOR);
        return { kind: 'result', value: view, human: `Kill switch (${scope}${target ? ` ${target}` : ''}) ${view.engaged ? 'engaged' : 'released'}.` };
      }),
  };
}

export const COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'migrate',
    usage: 'migrate [--json]',
    options: {},
    run: (context) => withRuntime(context, async (_deps, runtime) => ({ kind: 'result', value: { migrated: true, database: runtime.database.kind }, human: `Migrations applied (${runtime.database.kind}).` })),
  },
  {
    name: 'workspace add',
    usage: 'workspace add --name NAME --hubspot-portal-id ID --hubspot-token TOKEN [--hubspot-client-secret SECRET] [--json]',
    options: { name: { type: 'string' }, 'hubspot-portal-id': { type: 'string' }, 'hubspot-token': { type: 'string' }, 'hubspot-client-secret': { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { createWorkspace } = await import('../services/governance/index.ts');
        const portalId = parseWith(z.string().regex(/^[0-9]{1,18}$/, 'must be the HubSpot portal (account) id, digits only'), requireOption(context, 'hubspot-portal-id'), 'hubspot-portal-id');
        const created = await createWorkspace(
          deps,
          { name: requireOption(context, 'name'), hubspotPortalId: portalId, hubspotToken: requireOption(context, 'hubspot-token'), hubspotClientSecret: context.values['hubspot-client-secret'] as string | undefined },
          CLI_ACTOR,
        );
        return { kind: 'result', value: created, human: `Workspace ${created.id} created.\nAdmin token (shown once, keep it safe): ${created.adminToken}` };
      }),
  },
  {
    name: 'agents create',
    usage: 'agents create --workspace ID --name NAME --role ROLE [--json]',
    options: { ...workspaceOption, name: { type: 'string' }, role: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ agentRoleSchema }, { createAgent }] = await Promise.all([import('../../../shared/crm-names.ts'), import('../services/governance/index.ts')]);
        const role = parseWith(agentRoleSchema, requireOption(context, 'role'), 'role');
        const agent = await createAgent(deps, await workspaceOf(deps, context), { name: requireOption(context, 'name'), role }, CLI_ACTOR);
        return { kind: 'result', value: agent, human: `Agent ${agent.name} (${agent.role}) created: ${agent.id}\nToken (shown once, keep it safe): ${agent.token}` };
      }),
  },
  {
    name: 'agents list',
    usage: 'agents list --workspace ID [--json]',
    options: workspaceOption,
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { listWorkspaceAgents } = await import('../services/governance/index.ts');
        const agents = await listWorkspaceAgents(deps, await workspaceOf(deps, context));
        return { kind: 'result', value: { agents }, human: agents.map((a) => `${a.id}  ${a.status.padEnd(7)}  ${a.role.padEnd(11)}  ${a.name}`).join('\n') || 'No agents.' };
      }),
  },
  agentStatusCommand('pause', 'paused'),
  agentStatusCommand('resume', 'active'),
  agentStatusCommand('revoke', 'revoked'),
  {
    name: 'agents delegate',
    usage: 'agents delegate --workspace ID --agent AGENT_ID --crm-user USER_ID --expires ISO_DATETIME [--json]',
    options: { ...workspaceOption, agent: { type: 'string' }, 'crm-user': { type: 'string' }, expires: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { createDelegation } = await import('../services/governance/index.ts');
        const expires = parseWith(z.iso.datetime({ offset: true }), requireOption(context, 'expires'), 'expires');
        const crmUserId = parseWith(z.string().regex(/^[0-9]{1,18}$/, 'must be a CRM user id'), requireOption(context, 'crm-user'), 'crm-user');
        const delegation = await createDelegation(deps, await workspaceOf(deps, context), { agentId: requireOption(context, 'agent'), crmUserId, expiresAt: new Date(expires) }, CLI_ACTOR);
        return { kind: 'result', value: delegation, human: `Delegation ${delegation.id}: the agent may act for user ${crmUserId} until ${delegation.expiresAt}.` };
      }),
  },
  {
    name: 'people set',
    usage: 'people set --workspace ID --crm-user USER_ID --role owner|revops_admin|approver|rep|auditor [--owner-id OWNER_ID] [--json]',
    options: { ...workspaceOption, 'crm-user': { type: 'string' }, role: { type: 'string' }, 'owner-id': { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ crmUserIdParamSchema, setPersonSchema }, { setPersonRole }] = await Promise.all([import('../../../shared/approval-api.ts'), import('../services/governance/index.ts')]);
        const crmUserId = parseWith(crmUserIdParamSchema, requireOption(context, 'crm-user'), 'crm-user');
        const ownerOption = context.values['owner-id'] as string | undefined;
        const { role, crmOwnerId } = parseWith(setPersonSchema, { role: requireOption(context, 'role'), ...(ownerOption ? { crmOwnerId: ownerOption } : {}) }, 'role');
        const person = await setPersonRole(deps, await workspaceOf(deps, context), { crmUserId, role, crmOwnerId }, CLI_ACTOR);
        return { kind: 'result', value: person, human: `CRM user ${crmUserId} now decides approvals as ${role}.` };
      }),
  },
  {
    name: 'policy apply',
    usage: 'policy apply --workspace ID FILE [--json]',
    options: workspaceOption,
    positionals: 1,
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { publishPolicy } = await import('../services/governance/index.ts');
        const file = context.positionals[0];
        if (!file) throw new AppError('VALIDATION_FAILED', 'Give the policy file: policy apply --workspace ID FILE');
        const result = await publishPolicy(deps, await workspaceOf(deps, context), readJsonFile(file), CLI_ACTOR);
        return { kind: 'result', value: result, human: `Policy version ${result.version} published.` };
      }),
  },
  ...AUDIT_COMMANDS,
  killCommand('engage'),
  killCommand('release'),
  {
    name: 'kill-triggers drill',
    usage: 'kill-triggers drill --workspace ID --trigger bypass_writes|write_velocity|rejection_rate --count N [--agent AGENT_ID] [--decided N --batch ID] [--json]',
    options: { ...workspaceOption, trigger: { type: 'string' }, count: { type: 'string' }, agent: { type: 'string' }, decided: { type: 'string' }, batch: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ killTriggerDrillSchema }, { drillKillTrigger }] = await Promise.all([import('../../../shared/admin-api.ts'), import('../services/governance/index.ts')]);
        const optional = (name: string) => context.values[name] as string | undefined;
        const drill = parseWith(
          killTriggerDrillSchema,
          {
            trigger: requireOption(context, 'trigger'),
            count: Number(requireOption(context, 'count')),
            ...(optional('agent') ? { agentId: optional('agent') } : {}),
            ...(optional('decided') ? { decided: Number(optional('decided')) } : {}),
            ...(optional('batch') ? { batchId: optional('batch') } : {}),
          },
          'drill',
        );
        const result = await drillKillTrigger(deps, await workspaceOf(deps, context), drill);
        const human = result.wouldEngage.length === 0 ? `Drill ${result.trigger}: would engage nothing.` : result.wouldEngage.map((engage) => `Drill ${result.trigger}: would engage the ${engage.scope} kill switch. ${engage.reason}`).join('\n');
        return { kind: 'result', value: result, human };
      }),
  },
  {
    name: 'bootstrap',
    usage: 'bootstrap --workspace ID [--json]',
    options: workspaceOption,
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { bootstrapWorkspace } = await import('../services/governance/index.ts');
        const result = await bootstrapWorkspace(deps, await workspaceOf(deps, context), CLI_ACTOR);
        const { objectTypeId } = result.approvalObject;
        // Its id differs per account, so the HubSpot project cannot name it until someone copies it there.
        const human = [
          ...result.objects.map((o) => `${o.objectType}: ${o.created.length} properties created, ${o.existing.length} already there${o.groupCreated ? ', group created' : ''}`),
          `Agent Approval object: ${objectTypeId}${result.approvalObject.created ? ' (created)' : ''}. To hear of decisions made on it inside HubSpot, set "approvalObjectTypeId": "${objectTypeId}" in hs.config.json, run npm run hs:config, then hs project upload.`,
        ].join('\n');
        return { kind: 'result', value: result, human };
      }),
  },
  ROLLBACK_COMMAND,
  ...SANDBOX_COMMANDS,
];

export function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AppError('VALIDATION_FAILED', `Cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}

function readJsonFile(file: string): unknown {
  const text = readTextFile(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new AppError('MALFORMED_JSON', `${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  assertSafeJson(value, file);
  return value;
}
