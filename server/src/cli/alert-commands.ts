import type { z } from 'zod';
import type { AlertChannelView, AlertRuleView } from '../../../shared/alert-api.ts';
import { AppError } from '../errors.ts';
import { CLI_ACTOR, readTextFile, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import { requireOption, type CommandContext, type CommandSpec } from './parse.ts';
import { readableMessage } from '../../../shared/zod-issues.ts';

const optional = (context: CommandContext, name: string) => context.values[name] as string | undefined;
const numberOf = (context: CommandContext, name: string) => {
  const value = optional(context, name);
  return value === undefined ? undefined : Number(value);
};
const defined = <T extends object>(fields: T) =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));

/** The API's field each option fills, so a refusal names the option the operator typed. */
const OPTION_OF_FIELD: Record<string, string> = {
  name: 'name',
  kind: 'kind',
  url: 'url-file',
  secret: 'secret-file',
  host: 'smtp-host',
  port: 'smtp-port',
  user: 'smtp-user',
  password: 'smtp-password-file',
  from: 'from',
  to: 'to',
  threshold: 'threshold',
  minCount: 'min-count',
  lookbackMinutes: 'lookback-minutes',
  hours: 'hours',
  channels: 'channels',
  windowMinutes: 'window-minutes',
  startFrom: 'start-from',
};

function parsed<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value, { error: readableMessage });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = [...(issue?.path ?? [])].reverse().find((key) => typeof key === 'string' && key in OPTION_OF_FIELD);
  throw new AppError(
    'VALIDATION_FAILED',
    `--${OPTION_OF_FIELD[String(field)] ?? 'kind'}: ${issue?.message ?? 'invalid'}`,
  );
}

const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/**
 * Alerts to people (issue 22, part 3). Webhook URLs, signing secrets and SMTP passwords are read
 * from files, so they never sit in a shell history or `ps`.
 */
export const ALERT_COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'alerts channel add',
    summary: 'Adds where alerts go: a Slack-compatible or Teams webhook, SMTP email, or a signed webhook.',
    usage:
      'alerts channel add --workspace ID --name NAME --kind slack|teams|webhook --url-file FILE [--secret-file FILE] [--json]\n' +
      '  alerts channel add --workspace ID --name NAME --kind email --smtp-host HOST [--smtp-port 587] [--smtp-secure] [--smtp-user USER --smtp-password-file FILE] --from ADDRESS --to ADDRESS[,ADDRESS…] [--json]',
    options: {
      workspace: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      'url-file': { type: 'string' },
      'secret-file': { type: 'string' },
      'smtp-host': { type: 'string' },
      'smtp-port': { type: 'string' },
      'smtp-secure': { type: 'boolean' },
      'smtp-user': { type: 'string' },
      'smtp-password-file': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ createAlertChannelSchema }, { addAlertChannel }] = await Promise.all([
          import('../../../shared/alert-api.ts'),
          import('../services/alerts/index.ts'),
        ]);
        const kind = requireOption(context, 'kind');
        const fromFile = (option: string) => {
          const file = optional(context, option);
          return file === undefined ? undefined : readTextFile(file).trim();
        };
        const input =
          kind === 'email'
            ? {
                name: requireOption(context, 'name'),
                kind,
                smtp: defined({
                  host: optional(context, 'smtp-host'),
                  port: numberOf(context, 'smtp-port'),
                  secure: context.values['smtp-secure'] === true ? true : undefined,
                  user: optional(context, 'smtp-user'),
                  password: fromFile('smtp-password-file'),
                }),
                from: optional(context, 'from'),
                to: list(optional(context, 'to')),
              }
            : defined({
                name: requireOption(context, 'name'),
                kind,
                url: fromFile('url-file'),
                secret: fromFile('secret-file'),
              });
        const channel = await addAlertChannel(
          deps,
          await workspaceOf(deps, context),
          parsed(createAlertChannelSchema, input),
          CLI_ACTOR,
        );
        return { kind: 'result', value: channel, human: `Alert channel ${channel.name} added: ${channel.id}` };
      }),
  },
  {
    name: 'alerts channel list',
    summary: 'Lists the workspace’s alert channels (never a URL or secret).',
    usage: 'alerts channel list --workspace ID [--json]',
    options: { workspace: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { listWorkspaceAlertChannels } = await import('../services/alerts/index.ts');
        const channels = await listWorkspaceAlertChannels(deps, await workspaceOf(deps, context));
        return {
          kind: 'result',
          value: { channels },
          human: channels.map(channelLine).join('\n') || 'No alert channels: add one with alerts channel add.',
        };
      }),
  },
  {
    name: 'alerts channel remove',
    summary: 'Removes an alert channel no rule uses (audited).',
    usage: 'alerts channel remove --workspace ID --channel CHANNEL_ID [--json]',
    options: { workspace: { type: 'string' }, channel: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { removeAlertChannel } = await import('../services/alerts/index.ts');
        const id = requireOption(context, 'channel');
        await removeAlertChannel(deps, await workspaceOf(deps, context), id, CLI_ACTOR);
        return { kind: 'result', value: { removed: id }, human: `Alert channel ${id} removed.` };
      }),
  },
  {
    name: 'alerts rule add',
    summary:
      'Adds what raises alerts: kill switches and triggers, bypass writes, CRM auth, SIEM outages, rates, waits, caps.',
    usage:
      'alerts rule add --workspace ID --name NAME --kind KIND --channels NAME[,NAME…] [--threshold 0.5] [--min-count N] [--lookback-minutes N] [--hours N] [--window-minutes 60] [--start-from now|beginning] [--json]',
    options: {
      workspace: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      channels: { type: 'string' },
      threshold: { type: 'string' },
      'min-count': { type: 'string' },
      'lookback-minutes': { type: 'string' },
      hours: { type: 'string' },
      'window-minutes': { type: 'string' },
      'start-from': { type: 'string' },
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ createAlertRuleSchema }, { addAlertRule }] = await Promise.all([
          import('../../../shared/alert-api.ts'),
          import('../services/alerts/index.ts'),
        ]);
        const input = defined({
          name: requireOption(context, 'name'),
          kind: requireOption(context, 'kind'),
          channels: list(requireOption(context, 'channels')),
          params: defined({
            threshold: numberOf(context, 'threshold'),
            minCount: numberOf(context, 'min-count'),
            lookbackMinutes: numberOf(context, 'lookback-minutes'),
            hours: numberOf(context, 'hours'),
          }),
          windowMinutes: numberOf(context, 'window-minutes'),
          startFrom: optional(context, 'start-from'),
        });
        const rule = await addAlertRule(
          deps,
          await workspaceOf(deps, context),
          parsed(createAlertRuleSchema, input),
          CLI_ACTOR,
        );
        return { kind: 'result', value: rule, human: `Alert rule ${rule.name} added: ${rule.id}` };
      }),
  },
  {
    name: 'alerts rule list',
    summary: 'Lists the workspace’s alert rules.',
    usage: 'alerts rule list --workspace ID [--json]',
    options: { workspace: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { listWorkspaceAlertRules } = await import('../services/alerts/index.ts');
        const rules = await listWorkspaceAlertRules(deps, await workspaceOf(deps, context));
        return {
          kind: 'result',
          value: { rules },
          human: rules.map(ruleLine).join('\n') || 'No alert rules: add one with alerts rule add.',
        };
      }),
  },
  {
    name: 'alerts rule remove',
    summary: 'Removes an alert rule (audited).',
    usage: 'alerts rule remove --workspace ID --rule RULE_ID [--json]',
    options: { workspace: { type: 'string' }, rule: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { removeAlertRule } = await import('../services/alerts/index.ts');
        const id = requireOption(context, 'rule');
        await removeAlertRule(deps, await workspaceOf(deps, context), id, CLI_ACTOR);
        return { kind: 'result', value: { removed: id }, human: `Alert rule ${id} removed.` };
      }),
  },
  {
    name: 'alerts list',
    summary: 'The newest alerts, one line per channel: sent, being tried, or given up.',
    usage: 'alerts list --workspace ID [--limit 100] [--json]',
    options: { workspace: { type: 'string' }, limit: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { listRecentAlerts } = await import('../services/alerts/index.ts');
        const limit = numberOf(context, 'limit') ?? 100;
        if (!Number.isInteger(limit) || limit < 1 || limit > 1_000)
          throw new AppError('VALIDATION_FAILED', '--limit: must be a whole number from 1 to 1000');
        const alerts = await listRecentAlerts(deps, await workspaceOf(deps, context), limit);
        return {
          kind: 'result',
          value: { alerts },
          human:
            alerts
              .map(
                (a) =>
                  `${a.raisedAt}  ${a.status.padEnd(7)}  ${a.rule}: ${a.title} (${a.subject})  ${a.link}${a.lastError ? `  ${a.lastError}` : ''}`,
              )
              .join('\n') || 'No alerts raised yet.',
        };
      }),
  },
];

function channelLine(c: AlertChannelView): string {
  const email =
    c.kind === 'email' ? `  ${c.settings.smtpHost}:${c.settings.smtpPort} → ${c.settings.to?.join(', ')}` : '';
  return `${c.id}  ${c.kind.padEnd(7)}  ${c.name}${email}`;
}

function ruleLine(r: AlertRuleView): string {
  return `${r.id}  ${r.kind.padEnd(21)}  ${r.name}  every ${r.windowMinutes} min at most  ${JSON.stringify(r.params)}`;
}
