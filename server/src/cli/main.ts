// The compile cache and the resolution hook go in before the CLI's modules load.
import '../../../bin/compile-cache.js';
import '../drizzle-resolution.ts';

const { runCli } = await import('./run-cli.ts');

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
