import fs from 'node:fs';
import { parseJson } from '../../../shared/json-text.ts';
import { loadConfig } from '../config.ts';
import { AppError } from '../errors.ts';
import { errorLogField } from '../logger.ts';
import type { Runtime } from '../runtime.ts';
import type { CommandOutput } from './command-kit.ts';
import { COMMANDS } from './commands.ts';
import { parseCommandLine, type OpenRuntime } from './parse.ts';
import { terminalText } from './terminal-text.ts';

const PACKAGE_JSON = new URL('../../../package.json', import.meta.url);

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Opens the database and CRM connections a command needs; tests pass one over their own database. */
  openRuntime?: OpenRuntime;
}

/**
 * `agent-governance <group> <verb> [options]`. With --json, stdout carries exactly one JSON object
 * (or the export stream) and failures exit non-zero with `{"error": {...}}`.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  const output = watchWrites(io.stdout);
  try {
    const parsed = parseCommandLine(argv, COMMANDS);
    if (parsed.kind === 'help') {
      await output.write(`${parsed.text}\n`);
      return 0;
    }
    if (parsed.kind === 'version') {
      const { version } = parseJson(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
      await output.write(json ? `${JSON.stringify({ version })}\n` : `agent-governance ${version}\n`);
      return 0;
    }
    const { command, values, positionals } = parsed;
    const result: CommandOutput = await command.run({
      values,
      positionals,
      config: loadConfig(io.env),
      stdout: io.stdout,
      openRuntime: io.openRuntime ?? openRealRuntime,
    });
    if (result.kind === 'streamed') return 0;
    await output.write(json ? `${JSON.stringify(result.value)}\n` : `${terminalText(result.human)}\n`);
    return result.exitCode ?? 0;
  } catch (error) {
    const failedWrite = output.failure();
    if (failedWrite) {
      // The reader stopped early (`| head -1`): nothing is wrong, and nobody is left to tell.
      if (failedWrite.code === 'EPIPE') return 0;
      io.stderr.write(`error: could not write the output: ${terminalText(failedWrite.message)}\n`);
      return 1;
    }
    const appError = error instanceof AppError ? error : new AppError('INTERNAL', internalSentence(error));
    if (json)
      io.stdout.write(
        `${JSON.stringify({ error: { code: appError.code, message: appError.message, ...(appError.details === undefined ? {} : { details: appError.details }) } })}\n`,
      );
    else io.stderr.write(`error: ${terminalText(appError.message)}\n`);
    return 1;
  }
}

/**
 * stdout's writes, each awaited so that a failed one (a closed pipe, a full disk) reaches the
 * command's catch; the listener keeps a failure from crashing the process with a stack trace.
 */
function watchWrites(stdout: NodeJS.WritableStream) {
  let failure: NodeJS.ErrnoException | undefined;
  const fail = (error: NodeJS.ErrnoException) => {
    failure ??= error;
  };
  stdout.on('error', fail);
  return {
    failure: () => failure,
    write: (text: string) =>
      new Promise<void>((resolve, reject) =>
        stdout.write(text, (error) => {
          if (!error) return resolve();
          fail(error);
          reject(error);
        }),
      ),
  };
}

// Imported when a command needs it: `--help` or `sandbox edit` load no database driver.
async function openRealRuntime(...args: Parameters<OpenRuntime>): Promise<Runtime> {
  const { openRuntime } = await import('../runtime.ts');
  return openRuntime(...args);
}

/** An unexpected failure in one line for the operator, without the values a failed query carried (issue 17). */
function internalSentence(error: unknown): string {
  const field = errorLogField(error);
  if (field.message !== undefined) return `${field.name}: ${field.message}`;
  return `the database refused a statement (SQLSTATE ${field.sqlState ?? 'unknown'}${field.constraint ? `, constraint ${field.constraint}` : ''}): ${field.statement ?? 'unknown statement'}`;
}
