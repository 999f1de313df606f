import { z } from 'zod';
import { crmUserIdSchema } from '../../../shared/crm-names.ts';
import { AppError } from '../errors.ts';
import { CLI_ACTOR, parseWith, readJsonFile, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import type { AppliedPolicy } from '../services/governance/index.ts';
import { requireOption, type CommandSpec } from './parse.ts';
import { AGENT_SAFETY_COMMANDS } from './agent-safety-commands.ts';
import { ALERT_COMMANDS } from './alert-commands.ts';
import { APPROVAL_COMMANDS } from './approval-commands.ts';
import { AUDIT_COMMANDS } from './audit-commands.ts';
import { CONSOLE_LINK_COMMAND } from './console-command.ts';
import { MCP_COMMAND } from './mcp-command.ts';
import { RETENTION_COMMANDS } from './retention-commands.ts';
import { REVIEW_COMMANDS } from './review-commands.ts';
import { ROLLBACK_COMMAND } from './rollback-command.ts';
import { SANDBOX_COMMANDS } from './sandbox-commands.ts';
import { SIEM_COMMANDS } from './siem-commands.ts';
import { WORKSPACE_COMMANDS } from './workspace-commands.ts';

const workspaceOption = { workspace: { type: 'string' } } as const;

function agentStatusCommand(
  verb: 'pause' | 'resume' | 'revoke',
  status: 'paused' | 'active' | 'revoked',
): CommandSpec<CommandOutput> {
  return {
    name: `agents ${verb}`,
    summary:
      verb === 'revoke'
        ? 'Revokes an agent for good: its token stops working.'
        : verb === 'pause'
          ? 'Pauses an agent: its requests are refused until resumed.'
          : 'Resumes a paused agent.',
    usage: `agents ${verb} --workspace ID --agent AGENT_ID [--json]`,
    options: { ...workspaceOption, agent: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { setAgentStatus } = await import('../services/governance/index.ts');
        const agent = await setAgentStatus(
          deps,
          await workspaceOf(deps, context),
          requireOption(context, 'agent'),
          status,
          CLI_ACTOR,
        );
        return { kind: 'result', value: agent, human: `Agent ${agent.name} is now ${agent.status}.` };
      }),
  };
}

/** The kill command's scope options; at most one is given, none meaning the workspace. */
const KILL_SCOPE_OPTIONS = {
  agent: 'agent',
  action: 'action',
  list: 'segment',
  'segment-file': 'segment',
  domain: 'recipient_domain',
  template: 'template',
  'evidence-source': 'evidence_source',
} as const;

function killCommand(verb: 'engage' | 'release'): CommandSpec<CommandOutput> {
  return {
    name: `kill ${verb}`,
    summary:
      verb === 'engage'
        ? 'Stops an agent, an action kind, a segment, a recipient domain, a template family, an evidence source or the whole workspace at once.'
        : 'Releases a kill switch.',
    usage: `kill ${verb} --workspace ID [--agent AGENT_ID | --action KIND | --list CRM_LIST_ID | --segment-file CONDITION.json | --domain DOMAIN | --template FAMILY | --evidence-source SOURCE] --reason TEXT${verb === 'release' ? ' [--force]' : ''} [--json]`,
    options: {
      ...workspaceOption,
      agent: { type: 'string' },
      action: { type: 'string' },
      list: { type: 'string' },
      'segment-file': { type: 'string' },
      domain: { type: 'string' },
      template: { type: 'string' },
      'evidence-source': { type: 'string' },
      reason: { type: 'string' },
      // Past a failing regression set (issue 21): owners only, audited.
      ...(verb === 'release' ? { force: { type: 'boolean' } } : {}),
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ actionKindSchema }, { segmentConditionSchema }, { setKillSwitch }] = await Promise.all([
          import('../../../shared/crm-names.ts'),
          import('../../../shared/kill-switch.ts'),
          import('../services/governance/index.ts'),
        ]);
        const given = (Object.keys(KILL_SCOPE_OPTIONS) as (keyof typeof KILL_SCOPE_OPTIONS)[]).filter(
          (option) => context.values[option] !== undefined,
        );
        if (given.length > 1)
          throw new AppError('VALIDATION_FAILED', `Give one of ${given.map((o) => `--${o}`).join(', ')}, not several.`);
        const option = given[0];
        const scope = option ? KILL_SCOPE_OPTIONS[option] : 'workspace';
        const value = option ? (context.values[option] as string) : undefined;
        const condition =
          option === 'segment-file'
            ? parseWith(segmentConditionSchema, readJsonFile(value!), 'segment-file')
            : undefined;
        const target =
          option === 'action'
            ? parseWith(actionKindSchema, value, 'action')
            : option === 'list'
              ? `list:${value}`
              : option === 'segment-file'
                ? undefined
                : value;
        const view = await setKillSwitch(
          deps,
          await workspaceOf(deps, context),
          {
            scope,
            target,
            condition,
            engaged: verb === 'engage',
            reason: requireOption(context, 'reason'),
            ...(context.values.force === true ? { force: true } : {}),
          },
          CLI_ACTOR,
        );
        return {
          kind: 'result',
          value: view,
          human: `Kill switch (${scope}${view.target ? ` ${view.target}` : ''}) ${view.engaged ? 'engaged' : 'released'}.`,
        };
      }),
  };
}

export const COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'migrate',
    summary: 'Applies the database migrations (every command also does so first).',
    usage: 'migrate [--json]',
    options: {},
    // Not withRuntime: migrating seals and opens no secret, so it needs no SECRETS_KEY, which the
    // runtime requires with Postgres (it used to migrate, then fail for want of the key).
    run: async (context) => {
      const { openMigratedDatabase } = await import('../runtime.ts');
      const database = await openMigratedDatabase(context.config, 'the agent-governance CLI');
      await database.close();
      return {
        kind: 'result',
        value: { migrated: true, database: database.kind },
        human: `Migrations applied (${database.kind}).`,
      };
    },
  },
  ...WORKSPACE_COMMANDS,
  {
    name: 'agents create',
    summary: 'Creates an agent; its bearer token is shown once.',
    usage: 'agents create --workspace ID --name NAME --role ROLE [--json]',
    options: { ...workspaceOption, name: { type: 'string' }, role: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ agentRoleSchema }, { createAgent }] = await Promise.all([
          import('../../../shared/crm-names.ts'),
          import('../services/governance/index.ts'),
        ]);
        const role = parseWith(agentRoleSchema, requireOption(context, 'role'), 'role');
        const agent = await createAgent(
          deps,
          await workspaceOf(deps, context),
          { name: requireOption(context, 'name'), role },
          CLI_ACTOR,
        );
        return {
          kind: 'result',
          value: agent,
          human: `Agent ${agent.name} (${agent.role}) created: ${agent.id}\nToken (shown once, keep it safe): ${agent.token}`,
        };
      }),
  },
  {
    name: 'agents list',
    summary: 'Lists the workspace’s agents (never their tokens).',
    usage: 'agents list --workspace ID [--json]',
    options: workspaceOption,
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { listWorkspaceAgents } = await import('../services/governance/index.ts');
        const agents = await listWorkspaceAgents(deps, await workspaceOf(deps, context));
        return {
          kind: 'result',
          value: { agents },
          human:
            agents.map((a) => `${a.id}  ${a.status.padEnd(7)}  ${a.role.padEnd(11)}  ${a.name}`).join('\n') ||
            'No agents.',
        };
      }),
  },
  agentStatusCommand('pause', 'paused'),
  agentStatusCommand('resume', 'active'),
  agentStatusCommand('revoke', 'revoked'),
  {
    name: 'agents delegate',
    summary: 'Lets an agent act for a CRM user until a date.',
    usage: 'agents delegate --workspace ID --agent AGENT_ID --crm-user USER_ID --expires ISO_DATETIME [--json]',
    options: {
      ...workspaceOption,
      agent: { type: 'string' },
      'crm-user': { type: 'string' },
      expires: { type: 'string' },
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { createDelegation } = await import('../services/governance/index.ts');
        const expires = parseWith(z.iso.datetime({ offset: true }), requireOption(context, 'expires'), 'expires');
        const crmUserId = parseWith(crmUserIdSchema, requireOption(context, 'crm-user'), 'crm-user');
        const delegation = await createDelegation(
          deps,
          await workspaceOf(deps, context),
          { agentId: requireOption(context, 'agent'), crmUserId, expiresAt: new Date(expires) },
          CLI_ACTOR,
        );
        return {
          kind: 'result',
          value: delegation,
          human: `Delegation ${delegation.id}: the agent may act for user ${crmUserId} until ${delegation.expiresAt}.`,
        };
      }),
  },
  {
    name: 'agents delegations',
    summary: 'Lists the delegations in force: which agent acts for which CRM user, and until when.',
    usage: 'agents delegations --workspace ID [--json]',
    options: workspaceOption,
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { listLiveDelegations } = await import('../services/governance/index.ts');
        const delegations = await listLiveDelegations(deps, await workspaceOf(deps, context));
        return {
          kind: 'result',
          value: { delegations },
          human:
            delegations
              .map((d) => `${d.id}  agent ${d.agentId}  for user ${d.crmUserId}  until ${d.expiresAt}`)
              .join('\n') || 'No agent acts for anyone now.',
        };
      }),
  },
  {
    name: 'agents end-delegation',
    summary: 'Ends a delegation now: the agent may no longer act for the person.',
    usage: 'agents end-delegation --workspace ID --delegation DELEGATION_ID [--json]',
    options: { ...workspaceOption, delegation: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { endDelegation } = await import('../services/governance/index.ts');
        const delegation = await endDelegation(
          deps,
          await workspaceOf(deps, context),
          requireOption(context, 'delegation'),
          CLI_ACTOR,
        );
        return {
          kind: 'result',
          value: delegation,
          human: `Delegation ${delegation.id} ended at ${delegation.revokedAt}: the agent no longer acts for user ${delegation.crmUserId}.`,
        };
      }),
  },
  {
    name: 'people set',
    summary: 'Gives a CRM user a role for deciding approvals.',
    usage:
      'people set --workspace ID --crm-user USER_ID --role owner|revops_admin|approver|rep|auditor [--owner-id OWNER_ID] [--json]',
    options: {
      ...workspaceOption,
      'crm-user': { type: 'string' },
      role: { type: 'string' },
      'owner-id': { type: 'string' },
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ crmUserIdParamSchema, setPersonSchema }, { setPersonRole }] = await Promise.all([
          import('../../../shared/approval-api.ts'),
          import('../services/governance/index.ts'),
        ]);
        const crmUserId = parseWith(crmUserIdParamSchema, requireOption(context, 'crm-user'), 'crm-user');
        const ownerOption = context.values['owner-id'] as string | undefined;
        const { role, crmOwnerId } = parseWith(
          setPersonSchema,
          { role: requireOption(context, 'role'), ...(ownerOption ? { crmOwnerId: ownerOption } : {}) },
          'role',
        );
        const person = await setPersonRole(
          deps,
          await workspaceOf(deps, context),
          { crmUserId, role, crmOwnerId },
          CLI_ACTOR,
        );
        return { kind: 'result', value: person, human: `CRM user ${crmUserId} now decides approvals as ${role}.` };
      }),
  },
  {
    name: 'policy apply',
    summary:
      'Publishes a policy file as the next version; says when bootstrap must run again, or runs it with --bootstrap.',
    usage: 'policy apply --workspace ID FILE [--bootstrap] [--json]',
    options: { ...workspaceOption, bootstrap: { type: 'boolean' } },
    positionals: 1,
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { applyPolicy } = await import('../services/governance/index.ts');
        const file = context.positionals[0];
        if (!file) throw new AppError('VALIDATION_FAILED', 'Give the policy file: policy apply --workspace ID FILE');
        const workspaceId = await workspaceOf(deps, context);
        const result = await applyPolicy(deps, workspaceId, readJsonFile(file), CLI_ACTOR, {
          bootstrap: context.values.bootstrap === true,
        });
        return { kind: 'result', value: result, human: policyApplied(result, workspaceId) };
      }),
  },
  ...APPROVAL_COMMANDS,
  ...AUDIT_COMMANDS,
  ...SIEM_COMMANDS,
  ...RETENTION_COMMANDS,
  ...ALERT_COMMANDS,
  ...AGENT_SAFETY_COMMANDS,
  killCommand('engage'),
  killCommand('release'),
  ...REVIEW_COMMANDS,
  {
    name: 'kill-triggers drill',
    summary: 'Says what a kill trigger would do at a given count, engaging nothing.',
    usage:
      'kill-triggers drill --workspace ID --trigger bypass_writes|write_velocity|rejection_rate --count N [--agent AGENT_ID] [--decided N --batch ID] [--json]',
    options: {
      ...workspaceOption,
      trigger: { type: 'string' },
      count: { type: 'string' },
      agent: { type: 'string' },
      decided: { type: 'string' },
      batch: { type: 'string' },
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ killTriggerDrillSchema }, { drillKillTrigger }] = await Promise.all([
          import('../../../shared/admin-api.ts'),
          import('../services/governance/index.ts'),
        ]);
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
        const human =
          result.wouldEngage.length === 0
            ? `Drill ${result.trigger}: would engage nothing.`
            : result.wouldEngage
                .map(
                  (engage) => `Drill ${result.trigger}: would engage the ${engage.scope} kill switch. ${engage.reason}`,
                )
                .join('\n');
        return { kind: 'result', value: result, human };
      }),
  },
  {
    name: 'bootstrap',
    summary: 'Creates the app’s properties, proposed-value shadows and approval object in HubSpot (idempotent).',
    usage: 'bootstrap --workspace ID [--json]',
    options: workspaceOption,
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { bootstrapWorkspace } = await import('../services/governance/index.ts');
        const result = await bootstrapWorkspace(deps, await workspaceOf(deps, context), CLI_ACTOR);
        // A portal's id differs per account, so the HubSpot project cannot name it until someone copies it there.
        const human = [
          ...result.objects.map(
            (o) =>
              `${o.objectType}: ${o.created.length} properties created, ${o.existing.length} already there${o.groupCreated ? ', group created' : ''}`,
          ),
          ...result.approvalObjects.map(
            ({ crm, objectTypeId, created }) =>
              `Agent Approval object: ${objectTypeId}${created ? ' (created)' : ''}.${crm === 'hubspot' ? ` To hear of decisions made on it inside HubSpot, set "approvalObjectTypeId": "${objectTypeId}" in hs.config.json, run npm run hs:config, then hs project upload.` : ''}`,
          ),
        ].join('\n');
        return { kind: 'result', value: result, human };
      }),
  },
  ROLLBACK_COMMAND,
  CONSOLE_LINK_COMMAND,
  ...SANDBOX_COMMANDS,
  MCP_COMMAND,
];

function policyApplied(result: AppliedPolicy, workspaceId: string): string {
  const lines = [
    result.unchanged
      ? `Policy unchanged: version ${result.version}, identical to this file, stays in force; nothing was published.`
      : `Policy version ${result.version} published.`,
  ];
  const held = Object.entries(result.newlyHeld).map(
    ([objectType, properties]) => `${objectType}: ${properties.join(', ')}`,
  );
  if (result.bootstrap)
    lines.push(
      `Bootstrap ran: ${result.bootstrap.objects.map((o) => `${o.objectType} ${o.created.length} properties created`).join(', ')}.`,
    );
  else if (result.bootstrapNeeded) {
    const why =
      held.length > 0
        ? `It holds properties with no proposed-value (ag_proposed_*) property yet (${held.join('; ')})`
        : 'This workspace was never bootstrapped';
    lines.push(
      `${why}: run bootstrap --workspace ${workspaceId} (or policy apply --bootstrap) so HubSpot shows what waits for approval.`,
    );
  }
  for (const warning of result.warnings ?? []) lines.push(`Warning (${warning.code}): ${warning.message}`);
  return lines.join('\n');
}
