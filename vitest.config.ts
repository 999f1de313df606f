import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';
import ProcessesFirst from './test/support/sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // The drills (real processes, thousands of requests, kill -9) run on their own: `npm run drills`.
    exclude: [...configDefaults.exclude, 'test/drills/**'],
    // A worker keeps its PGlite instances or Postgres databases and empties them between tests
    // (test/support/database.ts); opening one takes ~1.5 s on a loaded machine, so allow for it.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A worker runs file after file with its modules loaded once: starting a process and loading the
    // server's module graph for each of 160 files cost a fifth of the suite's CPU (issue 18). Each file
    // still starts and closes its own servers; only emptied databases are handed on.
    isolate: false,
    // Each test file's process resolves drizzle-orm's modules as the server and the CLI do: without the
    // hook, Node spends ~1.5 s of CPU per file re-reading drizzle-orm's package.json (issue 18).
    execArgv: ['--import', './server/src/drizzle-resolution.ts'],
    // A file per core: each file's work (PGlite in-process, or a server it starts) is mostly one
    // thread, and vitest's default of one worker fewer left one of two cores idle (issue 18).
    maxWorkers: availableParallelism(),
    // Migrates one database for the run; each file's database is a copy of it.
    globalSetup: ['test/support/global-setup.ts'],
    sequence: { sequencer: ProcessesFirst },
  },
});
