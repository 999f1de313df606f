import type { ApprovalListingView, BatchDecisionResult } from '../../../shared/approval-api.ts';
import { AppError } from '../errors.ts';
import { parseWith, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import { requireOption, type CommandContext, type CommandSpec } from './parse.ts';
import { readableMessage } from '../../../shared/zod-issues.ts';

const optional = (context: CommandContext, name: string) => context.values[name] as string | undefined;

/**
 * Approvals for people who live in a terminal (issue 18): the same listing and the same batch
 * decision service as GET /v1/admin/approvals and POST /v1/admin/approvals/decisions.
 */
export const APPROVAL_COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'approvals list',
    summary:
      'Lists approvals (held field changes, drafts, creations and associations), newest first, as the admin API does.',
    usage:
      'approvals list --workspace ID [--status pending|approved|applied|rejected|expired|stale|withdrawn] [--batch BATCH_ID] [--record RECORD_ID] [--json]',
    options: {
      workspace: { type: 'string' },
      status: { type: 'string' },
      batch: { type: 'string' },
      record: { type: 'string' },
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ approvalListQuerySchema }, { findApprovals }] = await Promise.all([
          import('../../../shared/approval-api.ts'),
          import('../services/held/index.ts'),
        ]);
        const given = {
          status: optional(context, 'status'),
          batch: optional(context, 'batch'),
          record: optional(context, 'record'),
        };
        const query = parseWith(
          approvalListQuerySchema,
          Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)),
          'status, --batch or --record',
        );
        const approvals = await findApprovals(deps, await workspaceOf(deps, context), {
          recordId: query.record,
          batchId: query.batch,
          status: query.status,
          limit: query.limit,
        });
        return {
          kind: 'result',
          value: { approvals },
          human: approvals.map(approvalLine).join('\n') || 'No approvals match.',
        };
      }),
  },
  {
    name: 'approvals decide',
    summary:
      'Approves or rejects approvals as a CRM user (their role decides what they may decide); approved writes are applied.',
    usage:
      'approvals decide --workspace ID --approval APPROVAL_ID... --acting-user USER_ID (--approve | --reject --reason TEXT) [--note TEXT] [--json]',
    options: {
      workspace: { type: 'string' },
      approval: { type: 'string', multiple: true },
      'acting-user': { type: 'string' },
      approve: { type: 'boolean' },
      reject: { type: 'boolean' },
      reason: { type: 'string' },
      note: { type: 'string' },
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ batchApprovalDecisionSchema }, { decideBatch }, { requireActiveWorkspace }] = await Promise.all([
          import('../../../shared/approval-api.ts'),
          import('../services/change-sets/index.ts'),
          import('../services/governance/index.ts'),
        ]);
        const kind = decisionKind(context);
        const approvalIds = (context.values.approval as unknown as string[] | undefined) ?? [];
        if (approvalIds.length === 0)
          throw new AppError(
            'VALIDATION_FAILED',
            'Name at least one approval: --approval ID (repeat it for several; approvals list gives the ids).',
          );
        if (kind === 'reject' && !optional(context, 'reason'))
          throw new AppError(
            'VALIDATION_FAILED',
            '--reason is required with --reject: the agent and the audit log are told why.',
          );
        const parsed = batchApprovalDecisionSchema.safeParse(
          {
            kind,
            actingUserId: requireOption(context, 'acting-user'),
            approvalIds,
            ...(kind === 'reject' ? { reason: optional(context, 'reason') } : {}),
            ...(optional(context, 'note') ? { note: optional(context, 'note') } : {}),
          },
          { error: readableMessage },
        );
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new AppError(
            'VALIDATION_FAILED',
            `--${FLAG_OF_FIELD[String(issue?.path[0])] ?? 'approval'}: ${issue?.message ?? 'invalid'}`,
          );
        }
        const request = parsed.data;
        const workspace = await requireActiveWorkspace(deps, requireOption(context, 'workspace'));
        const result = await decideBatch(deps, { workspace, request, via: 'admin_api' });
        return {
          kind: 'result',
          value: result,
          human: decisionLines(result),
          ...(result.summary.refused > 0 ? { exitCode: 1 } : {}),
        };
      }),
  },
];

const FLAG_OF_FIELD: Record<string, string> = {
  actingUserId: 'acting-user',
  approvalIds: 'approval',
  reason: 'reason',
  note: 'note',
};

function decisionKind(context: CommandContext): 'approve' | 'reject' {
  const approve = context.values.approve === true;
  const reject = context.values.reject === true;
  if (approve === reject)
    throw new AppError('VALIDATION_FAILED', 'Give exactly one of --approve or --reject (with --reason).');
  return approve ? 'approve' : 'reject';
}

function approvalLine(approval: ApprovalListingView): string {
  const what =
    approval.kind === 'field_change'
      ? approval.items
          .map(
            (item) =>
              `${item.property}: ${JSON.stringify(item.before)} → ${JSON.stringify(item.edited ?? item.proposed)}`,
          )
          .join('; ')
      : approval.kind === 'draft'
        ? `draft ${approval.draft.kind}`
        : approval.kind === 'creation'
          ? `create ${JSON.stringify(approval.properties)}`
          : `link with ${approval.toObjectType} ${approval.toRecordId}`;
  return `${approval.id}  ${approval.status.padEnd(9)}  ${approval.objectType} ${approval.recordId ?? '(new)'}  ${what}`;
}

function decisionLines(result: BatchDecisionResult): string {
  const lines = result.results.map(
    (entry) => `${entry.approvalId}  ${entry.refusal ? `refused: ${entry.refusal.message}` : (entry.status ?? '')}`,
  );
  // The summary's `applied` also counts approvals refused because they were applied before.
  const decided = result.results.filter((entry) => !entry.refusal);
  const applied = decided.filter((entry) => entry.status === 'applied').length;
  return [...lines, `${decided.length} decided (${applied} applied), ${result.summary.refused} refused.`].join('\n');
}
