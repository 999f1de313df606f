import { CLI_ACTOR, parseWith, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import { requireOption, type CommandSpec } from './parse.ts';

const workspaceOption = { workspace: { type: 'string' } } as const;

/** The quarantine's review queue (issue 21): what waits for a person, and clearing one record. */
export const REVIEW_COMMANDS: CommandSpec<CommandOutput>[] = [
  {
    name: 'reviews list',
    summary: 'Lists the records a quarantine marked for review, newest first.',
    usage: 'reviews list --workspace ID [--json]',
    options: { ...workspaceOption },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { listRecordReviews } = await import('../services/governance/index.ts');
        const reviews = await listRecordReviews(deps, await workspaceOf(deps, context));
        const human =
          reviews.length === 0
            ? 'No record waits for review.'
            : reviews
                .map((r) => `${r.objectType} ${r.recordId}  agent ${r.agentId}  since ${r.markedAt}  ${r.reason}`)
                .join('\n');
        return { kind: 'result', value: { reviews }, human };
      }),
  },
  {
    name: 'reviews clear',
    summary: 'Clears a record’s review once a person checked it (audited; empties ag_needs_review in the CRM).',
    usage: 'reviews clear --workspace ID --object-type TYPE --record RECORD_ID [--json]',
    options: { ...workspaceOption, 'object-type': { type: 'string' }, record: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ clearRecordReviewSchema }, { clearRecordReview }] = await Promise.all([
          import('../../../shared/admin-api.ts'),
          import('../services/governance/index.ts'),
        ]);
        const record = parseWith(
          clearRecordReviewSchema,
          { objectType: requireOption(context, 'object-type'), recordId: requireOption(context, 'record') },
          'record',
        );
        const cleared = await clearRecordReview(deps, await workspaceOf(deps, context), record, CLI_ACTOR);
        return { kind: 'result', value: cleared, human: `Review of ${record.objectType} ${record.recordId} cleared.` };
      }),
  },
];
