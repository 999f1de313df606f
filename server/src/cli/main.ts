import { loadConfig } from '../config.ts';
import { AppError } from '../errors.ts';
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
    const appError = error instanceof AppError ? error : new AppError('INTERNAL', error instanceof Error ? error.message : String(error));
    if (json) io.stdout.write(`${JSON.stringify({ error: { code: appError.code, message: appError.message, ...(appError.details === undefined ? {} : { details: appError.details }) } })}\n`);
    else io.stderr.write(`error: ${appError.message}\n`);
    return 1;
  }
}

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
