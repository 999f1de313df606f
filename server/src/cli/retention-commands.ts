import type { RetentionView } from '../../../shared/retention-api.ts';
import { CLI_ACTOR, parseWith, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import type { CommandContext, CommandSpec } from './parse.ts';

const optional = (context: CommandContext, name: string) => context.values[name] as string | undefined;

/** Each period's option; a value is a number of days or `never`. */
const PERIOD_OPTIONS = {
  changeRecordsDays: 'change-records-days',
  draftsDays: 'drafts-days',
  webhookPayloadsDays: 'webhook-payloads-days',
  auditPersonalDataDays: 'audit-personal-data-days',
} as const;

/** Retention periods and erasure of one person (issue 21, point 11; docs/retention.md). */
export const RETENTION_COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'retention show',
    summary: 'Shows how long the workspace keeps each kind of data, and its retention job.',
    usage: 'retention show --workspace ID [--json]',
    options: { workspace: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { showRetention } = await import('../services/retention/index.ts');
        const view = await showRetention(deps, await workspaceOf(deps, context));
        return { kind: 'result', value: view, human: retentionLines(view) };
      }),
  },
  {
    name: 'retention set',
    summary: 'Sets retention periods in days (`never` keeps for ever); periods not named stay as they are.',
    usage:
      'retention set --workspace ID [--change-records-days N|never] [--drafts-days N|never] [--webhook-payloads-days N|never] [--audit-personal-data-days N|never] [--json]',
    options: {
      workspace: { type: 'string' },
      ...Object.fromEntries(Object.values(PERIOD_OPTIONS).map((option) => [option, { type: 'string' }])),
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ retentionPeriodsSchema }, { setRetention, showRetention }] = await Promise.all([
          import('../../../shared/retention-api.ts'),
          import('../services/retention/index.ts'),
        ]);
        const workspaceId = await workspaceOf(deps, context);
        const periods = { ...(await showRetention(deps, workspaceId)).periods };
        for (const [field, option] of Object.entries(PERIOD_OPTIONS) as [keyof typeof periods, string][]) {
          const given = optional(context, option);
          if (given === undefined) continue;
          periods[field] = parseWith(
            retentionPeriodsSchema.shape[field],
            given === 'never' ? null : Number(given),
            option,
          );
        }
        const view = await setRetention(deps, workspaceId, periods, CLI_ACTOR);
        return { kind: 'result', value: view, human: retentionLines(view) };
      }),
  },
  {
    name: 'erase',
    summary:
      'Erases one person: their personal values in the audit log, settled drafts, change records and field history; the audit still verifies.',
    usage:
      'erase --workspace ID [--object-type TYPE --record RECORD_ID] [--email ADDRESS] [--acting-user CRM_USER_ID] [--json]',
    options: {
      workspace: { type: 'string' },
      'object-type': { type: 'string' },
      record: { type: 'string' },
      email: { type: 'string' },
      'acting-user': { type: 'string' },
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ erasureRequestSchema }, { requestErasure }] = await Promise.all([
          import('../../../shared/retention-api.ts'),
          import('../services/governance/index.ts'),
        ]);
        const request = parseWith(
          erasureRequestSchema,
          {
            ...(optional(context, 'object-type') === undefined ? {} : { objectType: optional(context, 'object-type') }),
            ...(optional(context, 'record') === undefined ? {} : { recordId: optional(context, 'record') }),
            ...(optional(context, 'email') === undefined ? {} : { email: optional(context, 'email') }),
            ...(optional(context, 'acting-user') === undefined
              ? {}
              : { actingUserId: optional(context, 'acting-user') }),
          },
          'record',
        );
        const outcome = await requestErasure(deps, await workspaceOf(deps, context), request, CLI_ACTOR);
        if ('pending' in outcome)
          return {
            kind: 'result',
            value: outcome.pending,
            human: `Nothing erased yet: the policy puts erasure under dual control. Governance request ${outcome.pending.id} waits for a second admin (POST /v1/admin/governance-requests/${outcome.pending.id}/confirm).`,
          };
        const { auditPersonalData, drafts, changeRecords, fieldHistory } = outcome.erased.erased;
        return {
          kind: 'result',
          value: outcome.erased,
          human: `Erased: personal values of ${auditPersonalData} audit events, ${drafts} drafts, ${changeRecords} change records, ${fieldHistory} field history entries.`,
        };
      }),
  },
];

function retentionLines(view: RetentionView): string {
  const period = (days: number | null) => (days === null ? 'kept for ever' : `${days} days`);
  return [
    `change records        ${period(view.periods.changeRecordsDays)}`,
    `drafts                ${period(view.periods.draftsDays)}`,
    `webhook payloads      ${period(view.periods.webhookPayloadsDays)}`,
    `audit personal data   ${period(view.periods.auditPersonalDataDays)}`,
    view.running ? `running since ${view.running.startedAt}` : `next run ${view.nextRunAt ?? 'when a period is set'}`,
  ].join('\n');
}
