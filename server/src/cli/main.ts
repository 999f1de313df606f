// The resolution hook goes in before the CLI's modules load (see ../drizzle-resolution.ts).
import '../drizzle-resolution.ts';

const { runCli } = await import('./run-cli.ts');

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
