import type { SiemDestinationView } from '../../../shared/siem-api.ts';
import { AppError } from '../errors.ts';
import { CLI_ACTOR, readTextFile, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import { requireOption, type CommandContext, type CommandSpec } from './parse.ts';
import { readableMessage } from '../../../shared/zod-issues.ts';

const optional = (context: CommandContext, name: string) => context.values[name] as string | undefined;

/** The API's field each option fills, so a refusal names the option the operator typed. */
const OPTION_OF_FIELD: Record<string, string> = {
  name: 'name',
  kind: 'kind',
  url: 'url',
  secret: 'secret-file',
  downAfterSeconds: 'down-after-seconds',
  startFrom: 'start-from',
};

/** Audit streaming to SIEMs (issue 22). A secret is read from a file, so it never sits in a shell history or `ps`. */
export const SIEM_COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'siem add',
    summary: 'Streams the workspace’s audit chain to an OTLP collector, a Splunk HEC or a signed webhook.',
    usage:
      'siem add --workspace ID --name NAME --kind otlp|splunk_hec|webhook --url URL [--secret-file FILE] [--down-after-seconds N] [--start-from beginning|now] [--json]',
    options: {
      workspace: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      url: { type: 'string' },
      'secret-file': { type: 'string' },
      'down-after-seconds': { type: 'string' },
      'start-from': { type: 'string' },
    },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ createSiemDestinationSchema }, { addSiemDestination }] = await Promise.all([
          import('../../../shared/siem-api.ts'),
          import('../services/siem/index.ts'),
        ]);
        const secretFile = optional(context, 'secret-file');
        const downAfter = optional(context, 'down-after-seconds');
        const parsed = createSiemDestinationSchema.safeParse(
          {
            name: requireOption(context, 'name'),
            kind: requireOption(context, 'kind'),
            url: requireOption(context, 'url'),
            ...(secretFile === undefined ? {} : { secret: readTextFile(secretFile).trim() }),
            ...(downAfter === undefined ? {} : { downAfterSeconds: Number(downAfter) }),
            ...(optional(context, 'start-from') === undefined ? {} : { startFrom: optional(context, 'start-from') }),
          },
          { error: readableMessage },
        );
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const option = OPTION_OF_FIELD[String(issue?.path[0])] ?? 'kind';
          throw new AppError('VALIDATION_FAILED', `--${option}: ${issue?.message ?? 'invalid'}`);
        }
        const destination = await addSiemDestination(deps, await workspaceOf(deps, context), parsed.data, CLI_ACTOR);
        return {
          kind: 'result',
          value: destination,
          human: `SIEM destination ${destination.name} added: ${destination.id}\n${destinationLine(destination)}`,
        };
      }),
  },
  {
    name: 'siem list',
    summary:
      'Lists the workspace’s SIEM destinations: how far each has got and whether it is failing (never a secret).',
    usage: 'siem list --workspace ID [--json]',
    options: { workspace: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { listWorkspaceSiemDestinations } = await import('../services/siem/index.ts');
        const destinations = await listWorkspaceSiemDestinations(deps, await workspaceOf(deps, context));
        return {
          kind: 'result',
          value: { destinations },
          human: destinations.map(destinationLine).join('\n') || 'No SIEM destinations: add one with siem add.',
        };
      }),
  },
  {
    name: 'siem remove',
    summary: 'Stops streaming to a SIEM destination (audited).',
    usage: 'siem remove --workspace ID --destination DESTINATION_ID [--json]',
    options: { workspace: { type: 'string' }, destination: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { removeSiemDestination } = await import('../services/siem/index.ts');
        const id = requireOption(context, 'destination');
        await removeSiemDestination(deps, await workspaceOf(deps, context), id, CLI_ACTOR);
        return { kind: 'result', value: { removed: id }, human: `SIEM destination ${id} removed.` };
      }),
  },
];

function destinationLine(d: SiemDestinationView): string {
  const failing = d.lastError === null ? '' : `  failing since ${d.failingSince}: ${d.lastError}`;
  return `${d.id}  ${d.kind.padEnd(10)}  ${d.status.padEnd(7)}  seq ${d.cursorSeq}/${d.headSeq}  ${d.name}  ${d.url}${failing}`;
}
