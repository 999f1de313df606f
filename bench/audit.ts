/**
 * Issue 23: `audit verify` and `audit export` over a large log in one workspace, each run as a user
 * runs it (`npm run cli`, its own process), timed, with the process's peak resident memory (Linux
 * VmHWM, sampled until it exits). The log is BENCH_AUDIT_EVENTS events (default 1,000,000), seeded
 * through the real chain code first.
 *
 * Goals (issue 23): verify under 10 s on Postgres and under 20 s on PGlite at 1,000,000 events;
 * peak memory under 200 MB whatever the size (both stream the log page by page).
 * Last figures (docs/operations.md, Audit at scale), 2-core machine otherwise idle, median of 3, the CLI's
 * 8 MB semi-spaces: verify at 1,000,000 on Postgres 4.79 s (4.73-4.89), peak 122 MB; on PGlite 16.69 s
 * (16.10-19.03), peak 174 MB (PGlite medians ran 18.2-19.5 s at load average 1-7); export peaks 120 and 189 MB.
 * A first CLI run after a source change compiles its modules afresh and peaks 11-17 MB higher.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedAuditBacklog } from './audit-backlog.ts';
import { createBenchPostgres } from './databases.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';
import { measuredCli, scriptCommand } from './server-process.ts';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const GOAL_SECONDS = { postgres: 10, pglite: 20 };
const GOAL_PEAK_MB = 200;

async function measure(kind: 'pglite' | 'postgres') {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-audit-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    DEMO: 'off',
    ...(postgres ? { DATABASE_URL: postgres.url, SECRETS_KEY: randomBytes(32).toString('base64') } : {}),
  };
  try {
    console.error(`audit ${kind}: seeding ${EVENTS} audit events`);
    const seeded = await seedAuditBacklog(env, EVENTS, 'the audit benchmark');
    warmCompileCache(env);
    console.error(`audit ${kind}: verify`);
    const verify = await measuredCli(env, ['audit', 'verify', '--workspace', seeded.workspaceId, '--json']);
    if (verify.output.ok !== true) throw new Error(`verify failed: ${JSON.stringify(verify.output)}`);
    console.error(`audit ${kind}: export`);
    const file = path.join(dataDir, 'export.ndjson');
    const exported = await measuredCli(env, [
      'audit',
      'export',
      '--workspace',
      seeded.workspaceId,
      '--out',
      file,
      '--json',
    ]);
    return { seeded, verify, exported, exportMb: Math.round(fs.statSync(file).size / 1024 / 1024) };
  } finally {
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Runs `audit verify` on a workspace that does not exist (it fails at once, after loading what verify
 * loads), so the measured runs find the CLI's modules in Node's compile cache. The first run after a
 * source change would otherwise compile them afresh, loading Node's TypeScript stripper: 11-17 MB more
 * peak, the same in any run (docs/operations.md, Audit at scale), which made one run in three 208 MB.
 */
function warmCompileCache(env: Record<string, string>): void {
  const command = scriptCommand('cli', env);
  spawnSync(process.execPath, [...command.args, 'audit', 'verify', '--workspace', randomUUID(), '--json'], {
    env: command.env,
    stdio: 'ignore',
  });
}

export async function benchAudit(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measure(kind);
    if (!result) {
      console.log(`audit ${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    const events = Number(result.verify.output.events);
    rows.push({
      database: kind,
      events,
      'verify s': result.verify.seconds.toFixed(2),
      // Apart from wall time: CPU time tells a run slowed by other processes from a slower run.
      'verify CPU s': result.verify.cpuSeconds.toFixed(2),
      'verify events/s': Math.round(events / result.verify.seconds),
      [`verify goal (${GOAL_SECONDS[kind]} s at 1M)`]:
        result.verify.seconds <= (GOAL_SECONDS[kind] * events) / 1_000_000,
      'verify peak MB': result.verify.peakMemoryMb,
      'export s': result.exported.seconds.toFixed(2),
      'export MB': result.exportMb,
      'export peak MB': result.exported.peakMemoryMb,
      [`peak goal (< ${GOAL_PEAK_MB} MB)`]:
        Math.max(result.verify.peakMemoryMb, result.exported.peakMemoryMb) < GOAL_PEAK_MB,
      'seeding events/s': Math.round(EVENTS / result.seeded.seconds),
    });
  }
  return [
    {
      title: `Audit log of ${EVENTS} events in one workspace: \`audit verify\` and \`audit export\` (NDJSON to a file), each the CLI in its own process:`,
      rows,
    },
  ];
}

if (import.meta.main) printTables(await benchAudit(databaseArgument()));
