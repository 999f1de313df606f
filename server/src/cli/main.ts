import { loadConfig } from '../config.ts';
import { AppError } from '../errors.ts';
import { errorLogField } from '../logger.ts';
import { COMMANDS, type CommandOutput } from './commands.ts';
import { parseCommandLine } from './parse.ts';

/**
 * `agent-governance <group> <verb> [options]`. With --json, stdout carries exactly one JSON object
 * (or the export stream) and failures exit non-zero with `{"error": {...}}`.
 */
export async function runCli(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: Record<string, string | undefined> }): Promise<number> {
  const json = argv.includes('--json');
  try {
    const { command, values, positionals } = parseCommandLine(argv, COMMANDS);
    const output: CommandOutput = await command.run({ values, positionals, config: loadConfig(io.env), stdout: io.stdout });
    if (output.kind === 'streamed') return 0;
    io.stdout.write(json ? `${JSON.stringify(output.value)}\n` : `${output.human}\n`);
    return output.exitCode ?? 0;
  } catch (error) {
    const appError = error instanceof AppError ? error : new AppError('INTERNAL', internalSentence(error));
    if (json) io.stdout.write(`${JSON.stringify({ error: { code: appError.code, message: appError.message, ...(appError.details === undefined ? {} : { details: appError.details }) } })}\n`);
    else io.stderr.write(`error: ${appError.message}\n`);
    return 1;
  }
}

/** An unexpected failure in one line for the operator, without the values a failed query carried (issue 17). */
function internalSentence(error: unknown): string {
  const field = errorLogField(error);
  if (field.message !== undefined) return `${field.name}: ${field.message}`;
  return `the database refused a statement (SQLSTATE ${field.sqlState ?? 'unknown'}${field.constraint ? `, constraint ${field.constraint}` : ''}): ${field.statement ?? 'unknown statement'}`;
}

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
