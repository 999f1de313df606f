import { parseArgs, type ParseArgsConfig } from 'node:util';
import { safeText, UNSAFE_TEXT_MESSAGE } from '../../../shared/safe-text.ts';
import { AppError } from '../errors.ts';

export interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  config: import('../config.ts').Config;
  stdout: NodeJS.WritableStream;
}

export interface CommandSpec<Output> {
  /** e.g. "agents create" */
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: number;
  run(context: CommandContext): Promise<Output>;
}

/** Finds the longest command name that prefixes argv, then parses its options strictly. */
export function parseCommandLine<Output>(argv: string[], commands: readonly CommandSpec<Output>[]): { command: CommandSpec<Output>; values: CommandContext['values']; positionals: string[] } {
  // Arguments reach the audit and the database as the API's bodies do, so they meet the same text rule (issue 17).
  const unsafe = argv.findIndex((arg) => !safeText.safeParse(arg).success);
  if (unsafe >= 0) throw new AppError('VALIDATION_FAILED', `Argument ${unsafe + 1} ${UNSAFE_TEXT_MESSAGE}.`);
  const words = argv.filter((arg) => !arg.startsWith('-'));
  const command = [...commands]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((candidate) => candidate.name.split(' ').every((word, index) => words[index] === word));
  if (!command) {
    throw new AppError('VALIDATION_FAILED', `Unknown command. Commands:\n${commands.map((c) => `  agent-governance ${c.usage}`).join('\n')}`);
  }
  const rest = [...argv];
  for (const word of command.name.split(' ')) rest.splice(rest.indexOf(word), 1);
  try {
    const parsed = parseArgs({ args: rest, options: { ...command.options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
    if (parsed.positionals.length > (command.positionals ?? 0)) throw new Error(`unexpected argument ${parsed.positionals.at(-1)}`);
    return { command, values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    throw new AppError('VALIDATION_FAILED', `${(error as Error).message}. Usage: agent-governance ${command.usage}`);
  }
}

export function requireOption(context: CommandContext, name: string): string {
  const value = context.values[name];
  if (typeof value !== 'string' || value === '') throw new AppError('VALIDATION_FAILED', `--${name} is required.`);
  return value;
}
