import type { AgentSafetyView, RegressionRun } from '../../../shared/agent-safety-api.ts';
import { CLI_ACTOR, parseWith, readJsonFile, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import { requireOption, type CommandContext, type CommandSpec } from './parse.ts';

const options = { workspace: { type: 'string' }, agent: { type: 'string' } } as const;
const optional = (context: CommandContext, name: string) => context.values[name] as string | undefined;

/** Safe re-enable and gates on change (issue 21): an agent's regression set, its runs, its safety state and accepting its changes. */
export const AGENT_SAFETY_COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'agents regression-set',
    summary:
      'Shows the cases an agent must pass before a release from a kill trigger; with --file, replaces them with the file’s {"cases": […]}.',
    usage: 'agents regression-set --workspace ID --agent AGENT_ID [--file cases.json] [--json]',
    options: { ...options, file: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ regressionSetSchema }, { getRegressionSet, putRegressionSet }] = await Promise.all([
          import('../../../shared/agent-safety-api.ts'),
          import('../services/governance/index.ts'),
        ]);
        const workspaceId = await workspaceOf(deps, context);
        const agentId = requireOption(context, 'agent');
        const file = optional(context, 'file');
        const set = file
          ? await putRegressionSet(
              deps,
              workspaceId,
              agentId,
              parseWith(regressionSetSchema, readJsonFile(file), 'file'),
              CLI_ACTOR,
            )
          : await getRegressionSet(deps, workspaceId, agentId);
        const names = set.cases.map((c) => `  ${c.name}: expects ${c.expected.tier}`).join('\n');
        return {
          kind: 'result',
          value: set,
          human: `${file ? 'Stored' : 'The'} regression set: ${set.cases.length} case(s).${names ? `\n${names}` : ''}`,
        };
      }),
  },
  {
    name: 'agents regression-run',
    summary:
      'Decides an agent’s cases and its recent rejected writes under the policy in force; exits 1 when something fails.',
    usage: 'agents regression-run --workspace ID --agent AGENT_ID [--json]',
    options,
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { runRegressionSet } = await import('../services/governance/index.ts');
        const run = await runRegressionSet(deps, await workspaceOf(deps, context), requireOption(context, 'agent'));
        return { kind: 'result', value: run, human: runText(run), exitCode: run.passed ? 0 : 1 };
      }),
  },
  {
    name: 'agents safety',
    summary: 'Shows an agent’s safe mode, prompt hashes, daily volume and what holds its writes now.',
    usage: 'agents safety --workspace ID --agent AGENT_ID [--json]',
    options,
    run: (context) =>
      withRuntime(context, async (deps) => {
        const { agentSafetyView } = await import('../services/governance/index.ts');
        const view = await agentSafetyView(deps, await workspaceOf(deps, context), requireOption(context, 'agent'));
        return { kind: 'result', value: view, human: safetyText(view) };
      }),
  },
  {
    name: 'agents accept-change',
    summary: 'Accepts an agent’s new prompt hash, or its volume today, so its writes are no longer held for it.',
    usage: 'agents accept-change --workspace ID --agent AGENT_ID --gate prompt|volume --reason TEXT [--json]',
    options: { ...options, gate: { type: 'string' }, reason: { type: 'string' } },
    run: (context) =>
      withRuntime(context, async (deps) => {
        const [{ changeAcceptanceSchema }, { acceptAgentChange }] = await Promise.all([
          import('../../../shared/agent-safety-api.ts'),
          import('../services/governance/index.ts'),
        ]);
        const acceptance = parseWith(
          changeAcceptanceSchema,
          { gate: requireOption(context, 'gate'), reason: requireOption(context, 'reason') },
          'gate',
        );
        const view = await acceptAgentChange(
          deps,
          await workspaceOf(deps, context),
          requireOption(context, 'agent'),
          acceptance,
          CLI_ACTOR,
        );
        return { kind: 'result', value: view, human: `Accepted (${acceptance.gate}).\n${safetyText(view)}` };
      }),
  },
];

function runText(run: RegressionRun): string {
  const head = `Regression run under policy version ${run.policyVersion}: ${run.passed ? 'passed' : 'FAILED'} (${run.cases.filter((c) => c.passed).length}/${run.cases.length} cases, ${run.recent.replayed} rejected writes of the last ${run.recent.lookbackHours} h decided again).`;
  return [head, ...run.failures.map((failure) => `  ${failure}`)].join('\n');
}

function safetyText(view: AgentSafetyView): string {
  return [
    `Safe mode: ${view.inSafeMode ? `on until ${view.safeModeUntil}` : 'off'}`,
    `Prompt hash: ${view.acceptedPromptHash ?? '(none declared)'}${view.pendingPromptHash ? `, new one waiting: ${view.pendingPromptHash}` : ''}`,
    `Volume today: ${view.volume.today} (trailing average ${view.volume.trailingAverage.toFixed(1)})${view.volume.jumped ? ', a jump' : ''}${view.volume.acceptedToday ? ', accepted today' : ''}`,
    `Holds: ${view.holds.join(', ') || 'none'}; regression cases: ${view.regressionCases}`,
  ].join('\n');
}
