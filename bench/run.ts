/**
 * `npm run bench`: every issue's figures, on PGlite and (when reachable) Postgres, each benchmark run
 * several times and reported as the median with its spread (issue 23).
 *
 *   npm run bench -- [--only NAME[,NAME…]] [--runs N] [--db=pglite|postgres] [--json]
 *
 * `--only` reruns one figure alone; `--runs` (default 3) sets the repetitions; `--json` prints the
 * aggregate as JSON after the tables. A figure whose runs spread over more than 10% of its median is
 * marked `~`: too noisy to compare between commits. Each file also runs once alone
 * (`node bench/rollback.ts --db=postgres`).
 */
import { aggregateTables, type BenchTable, databaseArgument, printTables } from './report.ts';

interface Benchmark {
  about: string;
  run: (db: string | undefined) => Promise<BenchTable[]>;
}

const BENCHMARKS: Record<string, Benchmark> = {
  'change-set': {
    about:
      'Issue 3: a change set of 1,000 contacts × 10 properties through the server, against a fake HubSpot over HTTP.',
    run: async (db) => (await import('./change-set.ts')).benchChangeSet(db),
  },
  'change-set-creates': {
    about:
      'Issue 21: the change set made of creations (duplicate check, then create) against updates, and the CRM searches per 100 created.',
    run: async (db) => (await import('./change-set.ts')).benchChangeSetCreates(db),
  },
  'change-set-drafts': {
    about: 'Issue 21: email drafts per second without and with content rules in force.',
    run: async (db) => (await import('./change-set.ts')).benchChangeSetDrafts(db),
  },
  'content-phrases': {
    about: 'Issue 21: a 65,536-character draft against 50 and 500 banned phrases, holding none and all of them.',
    run: async () => (await import('./content-phrases.ts')).benchContentPhrases(),
  },
  sandbox: {
    about: 'Issue 4: seconds from `npm start` to the demo summary, and the sandbox’s own cost per batch call.',
    run: async () => (await import('./sandbox.ts')).benchSandbox(),
  },
  approvals: {
    about:
      'Issue 5: deciding 1,000 approvals until HubSpot shows values, cleared shadows and updated approval objects.',
    run: async (db) => (await import('./approvals.ts')).benchApprovals(db),
  },
  webhooks: {
    about:
      'Issue 6: webhook intake against its reference and a bare Express endpoint, then the stored backlog processed.',
    run: async (db) => (await import('./webhooks.ts')).benchWebhooks(db),
  },
  rollback: {
    about: 'Issue 7: rollback of 8,000 contacts under HubSpot’s rate limit, and the CLI’s memory for 100,000 items.',
    run: async (db) => (await import('./rollback.ts')).benchRollback(db),
  },
  'extension-card': {
    about: 'Issue 8: the HubSpot app’s card and settings reads, signed as HubSpot signs them.',
    run: async (db) => (await import('./extension-card.ts')).benchExtension(db),
  },
  salesforce: {
    about: 'Issue 20: a change set and a rollback against the local Salesforce, API calls against the floor.',
    run: async (db) => (await import('./salesforce.ts')).benchSalesforce(db),
  },
  'salesforce-bulk': {
    about: 'Issue 20: one write of N records through Collections calls and through one Bulk API 2.0 job.',
    run: async () => (await import('./salesforce-bulk.ts')).benchSalesforceBulk(),
  },
  mcp: {
    about: 'Issue 22: propose_crm_changes over MCP against the REST call for the same change set.',
    run: async (db) => (await import('./mcp.ts')).benchMcp(db),
  },
  'siem-load': {
    about: 'Issue 22: the agent API’s change-set throughput with and without a backlog streaming to a SIEM.',
    run: async (db) => (await import('./siem.ts')).benchSiemLoad(db),
  },
  console: {
    about:
      'Issue 19: the web console’s reads with 100,000 change records and 1,000,000 audit events, and approve-to-gone.',
    run: async (db) => (await import('./console.ts')).benchConsole(db),
  },
  audit: {
    about: 'Issue 23: `audit verify` and `audit export` over 1,000,000 events, with the CLI’s peak memory.',
    run: async (db) => (await import('./audit.ts')).benchAudit(db),
  },
  portals: {
    about:
      'Issue 23: 20 workspaces on their own HubSpot portals submitting change sets at once, one flooding: each quiet one against its time alone.',
    run: async (db) => (await import('./portals.ts')).benchPortals(db),
  },
  siem: {
    about: 'Issue 22: audit events streamed per second to a local OTLP receiver from a stored backlog.',
    run: async (db) => (await import('./siem.ts')).benchSiem(db),
  },
};

const argv = process.argv.slice(2);
const flagValue = (flag: string) => {
  const inline = argv.find((arg) => arg.startsWith(`${flag}=`));
  if (inline) return inline.slice(flag.length + 1);
  const at = argv.indexOf(flag);
  return at === -1 ? undefined : argv[at + 1];
};

const names = flagValue('--only')?.split(',') ?? Object.keys(BENCHMARKS);
const unknown = names.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`No benchmark named ${unknown.join(', ')}; the names are: ${Object.keys(BENCHMARKS).join(', ')}.`);
  process.exit(2);
}
const runs = Number(flagValue('--runs') ?? 3);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs takes a whole number of at least 1, not ${flagValue('--runs')}.`);
  process.exit(2);
}
const db = databaseArgument();

const report: Record<string, ReturnType<typeof aggregateTables>> = {};
for (const name of names) {
  const benchmark = BENCHMARKS[name]!;
  console.log(`\n== ${name}: ${benchmark.about}`);
  const results: BenchTable[][] = [];
  for (let run = 1; run <= runs; run += 1) {
    console.log(`-- run ${run} of ${runs}`);
    const tables = await benchmark.run(db);
    printTables(tables);
    results.push(tables);
  }
  report[name] = aggregateTables(results);
  if (runs > 1) {
    console.log(`-- ${name}: median of ${runs} runs (min–max, spread); ~ marks a spread over 10%`);
    printTables(report[name]);
  }
}
if (argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
