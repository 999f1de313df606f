import { Writable } from 'node:stream';
import { runCli } from '../../server/src/cli/run-cli.ts';
import type { Runtime } from '../../server/src/runtime.ts';
import type { Harness } from './harness.ts';
import { AllowedNetworks } from '../../server/src/domain/outbound-addresses.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout's one JSON object, when `--json` was given. */
  json: Record<string, any>;
}

/**
 * Runs a CLI command in this process over the harness's database and its msw fake HubSpot: the
 * same command code as `npx agent-governance`, on PGlite or Postgres as the suite runs.
 */
export function cliOver(harness: Harness, ...args: string[]): Promise<CliResult> {
  return cliOverWithEnv(harness, {}, ...args);
}

/** As cliOver, with stdout a terminal's (`isTTY`), as a person running the command sees it. */
export function cliAtTerminal(harness: Harness, ...args: string[]): Promise<CliResult> {
  return runOver(harness, {}, { terminal: true }, args);
}

/** As cliOver, with configuration from these environment variables (PORT, PUBLIC_URL...). */
export function cliOverWithEnv(harness: Harness, env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return runOver(harness, env, { terminal: false }, args);
}

async function runOver(
  harness: Harness,
  env: Record<string, string>,
  stdoutIs: { terminal: boolean },
  args: string[],
): Promise<CliResult> {
  const stdout = collector();
  if (stdoutIs.terminal) Object.assign(stdout.stream, { isTTY: true });
  const stderr = collector();
  const runtime: Runtime = {
    database: harness.database,
    deps: harness.deps,
    checkpointKey: { key: undefined, why: 'no key in this test' },
    crmAddresses: { networks: new AllowedNetworks([]), localOrigins: new Set() },
    close: async () => {},
  };
  const code = await runCli(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { DATA_DIR: 'unused-by-an-injected-runtime', ...env },
    openRuntime: async () => runtime,
  });
  const text = stdout.text();
  return {
    code,
    stdout: text,
    stderr: stderr.text(),
    json: args.includes('--json') && text.trim() !== '' ? JSON.parse(text) : {},
  };
}

/** A stream that keeps what is written to it, as a stdout or stderr. */
export function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}
