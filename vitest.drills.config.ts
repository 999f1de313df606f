import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * `npm run drills`: issue 17's drills (fuzz, crash, two servers, races, tampering), each a bounded
 * run of real processes on loopback. CI runs them on PGlite and on Postgres after the suite.
 */
export default defineConfig({
  test: {
    ...base.test,
    include: ['test/drills/**/*.drill.test.ts'],
    exclude: [],
    // Each drill in a fresh process: they kill processes and fill databases, and must not meet each other's leftovers.
    isolate: true,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
