import type { SingleBar } from 'cli-progress';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { RollbackPlan, RollbackSelector, RollbackView } from '../../../shared/rollback-api.ts';
import { AppError } from '../errors.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { CLI_ACTOR, collectGarbageSooner, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import type { CommandContext, CommandSpec } from './parse.ts';
import { terminalBar } from './progress-bar.ts';
import { readableMessage } from '../../../shared/zod-issues.ts';

/**
 * `rollback` (issue 7) runs the job in this process, as the CLI talks to the database directly
 * (with PGlite the server cannot hold the data folder meanwhile). Running the same command
 * again after a crash resumes the rollback it left: the lease a dead process held runs out and
 * this one takes it over.
 */
export const ROLLBACK_COMMAND: CommandSpec<CommandOutput> = {
  name: 'rollback',
  summary:
    'Reverts a batch, an agent’s writes, changes or records that no person changed since; resumes after a crash.',
  usage:
    'rollback --workspace ID (--batch ID | --agent ID [--since ISO] [--until ISO] | --change ID... | --record ID...) [--dry-run] [--force] [--report-dir DIR] [--json]',
  options: {
    workspace: { type: 'string' },
    batch: { type: 'string' },
    agent: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    change: { type: 'string', multiple: true },
    record: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
    'report-dir': { type: 'string' },
  },
  run: (context) => {
    collectGarbageSooner();
    return withRuntime(context, async (deps) => {
      const workspaceId = await workspaceOf(deps, context);
      const selector = await selectorFrom(context);
      const force = context.values.force === true;
      if (context.values['dry-run'] === true) {
        const { dryRunRollback } = await import('../services/rollbacks/index.ts');
        return dryRunOutput(await dryRunRollback(deps, workspaceId, { selector, force, dryRun: true }));
      }
      const rollback = await startOrResume(deps, workspaceId, selector, force);
      const bar = await terminalBar(
        context,
        'Rolling back |{bar}| {value}/{total} fields · {conflict} conflicts · {failed} failed · ETA {eta_formatted}',
      );
      const finished = await drive(deps, workspaceId, rollback, bar);
      const reportDir =
        typeof context.values['report-dir'] === 'string'
          ? context.values['report-dir']
          : path.join(context.config.dataDir, 'reports');
      return runOutput(finished, await writeReports(deps, workspaceId, finished.id, reportDir), rollback.resumed);
    });
  },
};

async function selectorFrom(context: CommandContext): Promise<RollbackSelector> {
  const { rollbackSelectorSchema } = await import('../../../shared/rollback-api.ts');
  const { batch, agent, since, until, change, record } = context.values as Record<
    string,
    string | string[] | undefined
  >;
  const parsed = rollbackSelectorSchema.safeParse(
    {
      batchId: batch,
      agentId: agent,
      since,
      until,
      changeIds: change,
      recordIds: record,
    },
    { error: readableMessage },
  );
  if (!parsed.success) {
    const names: Record<string, string> = {
      batchId: 'batch',
      agentId: 'agent',
      since: 'since',
      until: 'until',
      changeIds: 'change',
      recordIds: 'record',
    };
    const issue = parsed.error.issues[0];
    const field = issue?.path[0] === undefined ? undefined : String(issue.path[0]);
    const option = field === undefined ? 'selector' : `--${names[field] ?? field}`;
    // The hint fits the problem: a person who gave --batch and a mistyped --since needs the time's form.
    const hints: Record<string, string> = {
      selector: ' Give --batch, --agent, --change or --record.',
      '--since': ' Give an ISO 8601 time with its zone, such as 2026-12-01T09:00:00Z.',
      '--until': ' Give an ISO 8601 time with its zone, such as 2026-12-01T09:00:00Z.',
      '--change': ' Give change ids as a change set’s results and rollback reports name them.',
      '--agent': ' Give the agent’s id, as agents list shows it.',
    };
    throw new AppError(
      'VALIDATION_FAILED',
      `rollback ${option}: ${issue?.message ?? 'invalid'}.${hints[option] ?? ''}`,
    );
  }
  return parsed.data;
}

/** Starts the rollback, or takes back the one this same command started before it was interrupted. */
async function startOrResume(
  deps: ServiceDeps,
  workspaceId: string,
  selector: RollbackSelector,
  force: boolean,
): Promise<RollbackView & { resumed: boolean }> {
  const { startRollback, getRollback, isSameRollbackRequest } = await import('../services/rollbacks/index.ts');
  try {
    return {
      ...(await startRollback(deps, workspaceId, { selector, force, dryRun: false }, CLI_ACTOR)),
      resumed: false,
    };
  } catch (error) {
    const activeId =
      error instanceof AppError && error.code === 'CONFLICT'
        ? (error.details as { rollbackId?: string } | undefined)?.rollbackId
        : undefined;
    if (!activeId) throw error;
    const active = await getRollback(deps, workspaceId, activeId);
    // Only the same request resumes; a different selector on the same batch stays refused.
    if (!isSameRollbackRequest(active, { selector, force })) throw error;
    return { ...active, resumed: true };
  }
}

/** Works the rollback here until it completes or pauses; if another process holds it, follows its progress. */
async function drive(
  deps: ServiceDeps,
  workspaceId: string,
  rollback: RollbackView,
  bar: SingleBar | undefined,
): Promise<RollbackView> {
  const { getRollback, claimAndRunRollback, DEFAULT_LEASE_MS, leaseHolderName } = await import(
    '../services/rollbacks/index.ts'
  );
  const holder = leaseHolderName();
  bar?.start(rollback.total, rollback.done, { conflict: rollback.counts.conflict, failed: rollback.counts.failed });
  const refresh = async () => {
    const view = await getRollback(deps, workspaceId, rollback.id);
    bar?.update(view.done, { conflict: view.counts.conflict, failed: view.counts.failed });
    return view;
  };
  const ticker = bar ? setInterval(() => void refresh().catch(() => undefined), 500) : undefined;
  let stopping = false;
  const interrupt = () => {
    stopping = true;
  };
  process.once('SIGINT', interrupt);
  try {
    for (;;) {
      const result = await claimAndRunRollback(deps, {
        holder,
        leaseMs: DEFAULT_LEASE_MS,
        only: { workspaceId, id: rollback.id },
        stopping: () => stopping,
      });
      const view = await refresh();
      if (view.status !== 'running' || stopping) return view;
      if (result === 'none') await new Promise((resolve) => setTimeout(resolve, 1_000)); // another process holds it, or held it and died
    }
  } finally {
    process.off('SIGINT', interrupt);
    if (ticker) clearInterval(ticker);
    bar?.stop();
  }
}

async function writeReports(
  deps: ServiceDeps,
  workspaceId: string,
  id: string,
  dir: string,
): Promise<{ csv: string; json: string }> {
  const { rollbackReport } = await import('../services/rollbacks/index.ts');
  fs.mkdirSync(dir, { recursive: true });
  const files = { csv: path.resolve(dir, `rollback-${id}.csv`), json: path.resolve(dir, `rollback-${id}.json`) };
  for (const format of ['csv', 'json'] as const)
    await pipeline(Readable.from(rollbackReport(deps, workspaceId, id, format)), fs.createWriteStream(files[format]));
  return files;
}

function dryRunOutput(plan: RollbackPlan): CommandOutput {
  const { counts } = plan;
  const conflicts = plan.sample
    .filter((item) => item.outcome === 'conflict')
    .map((item) => `  ${item.objectType} ${item.recordId} ${item.property}: ${item.explanation}`);
  const human = [
    `Dry run: ${plan.total} field values selected${plan.force ? ' (--force: conflicts would be overwritten)' : ''}.`,
    `  go back to what they were: ${counts.revert}`,
    `  changed since by someone else, left alone: ${counts.conflict}`,
    `  already back: ${counts.alreadyReverted}`,
    ...(conflicts.length > 0 ? ['Some conflicts:', ...conflicts] : []),
    'Nothing was written. Run again without --dry-run to roll back.',
  ].join('\n');
  return {
    kind: 'result',
    value: { rollbackId: null, counts, report: { dryRun: true, total: plan.total, sample: plan.sample } },
    human,
  };
}

function runOutput(view: RollbackView, files: { csv: string; json: string }, resumed: boolean): CommandOutput {
  const { counts } = view;
  const state =
    view.status === 'completed'
      ? 'completed'
      : view.status === 'paused'
        ? `paused (${view.statusReason ?? 'no reason given'}); resume it with POST /v1/admin/rollbacks/${view.id}/resume, then run the same command to follow it`
        : 'interrupted; run the same command again to resume';
  const human = [
    `Rollback ${view.id}${resumed ? ' (resumed)' : ''} ${state}: ${view.done} of ${view.total} field values done.`,
    `  reverted: ${counts.reverted}, conflicts left alone: ${counts.conflict}, already back: ${counts.alreadyReverted}, failed: ${counts.failed}`,
    `Report: ${files.csv} (and ${path.basename(files.json)})`,
  ].join('\n');
  return {
    kind: 'result',
    value: { rollbackId: view.id, status: view.status, counts, report: files },
    human,
    exitCode: view.status === 'completed' ? 0 : 1,
  };
}
