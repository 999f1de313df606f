import { parseArgs, type ParseArgsConfig } from 'node:util';
import { safeText, UNSAFE_TEXT_MESSAGE } from '../../../shared/safe-text.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { Runtime, RuntimeOptions } from '../runtime.ts';
import { closestName, editDistance } from './closest-name.ts';

export type OpenRuntime = (config: Config, holder: string, options?: RuntimeOptions) => Promise<Runtime>;

export interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  config: Config;
  stdout: NodeJS.WritableStream;
  openRuntime: OpenRuntime;
}

export interface CommandSpec<Output> {
  /** e.g. "agents create" */
  name: string;
  /** One sentence for `--help`: what the command does. */
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: number;
  run(context: CommandContext): Promise<Output>;
}

export type ParsedCommandLine<Output> =
  | { kind: 'command'; command: CommandSpec<Output>; values: CommandContext['values']; positionals: string[] }
  | { kind: 'help'; text: string }
  | { kind: 'version' };

/** The documented form; from a checkout `npm run --silent cli -- …` runs the same thing. */
export const PROGRAM = 'npx agent-governance';
const HELP_FLAGS = new Set(['--help', '-h']);

/** Finds the longest command name that prefixes argv, then parses its options strictly; `--help` anywhere asks for usage. */
export function parseCommandLine<Output>(
  argv: string[],
  commands: readonly CommandSpec<Output>[],
): ParsedCommandLine<Output> {
  // Arguments reach the audit and the database as the API's bodies do, so they meet the same text rule (issue 17).
  const unsafe = argv.findIndex((arg) => !safeText.safeParse(arg).success);
  if (unsafe >= 0) throw new AppError('VALIDATION_FAILED', `Argument ${unsafe + 1} ${UNSAFE_TEXT_MESSAGE}.`);
  const wantsHelp = argv.some((arg) => HELP_FLAGS.has(arg)) || argv[0] === 'help';
  const words = argv.filter((arg) => !arg.startsWith('-') && arg !== 'help');
  const command = [...commands]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((candidate) => candidate.name.split(' ').every((word, index) => words[index] === word));
  if (wantsHelp) return { kind: 'help', text: command ? commandHelp(command) : groupHelp(words[0], commands) };
  if (words.length === 0 && argv.includes('--version')) return { kind: 'version' };
  if (!command) throw unknownCommand(words, commands);
  const rest = [...argv];
  for (const word of command.name.split(' ')) rest.splice(rest.indexOf(word), 1);
  const options = { ...command.options, json: { type: 'boolean' } } satisfies ParseArgsConfig['options'];
  try {
    const parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    if (parsed.positionals.length > (command.positionals ?? 0))
      throw new Error(`unexpected argument ${parsed.positionals.at(-1)}`);
    return { kind: 'command', command, values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    const unknown =
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? unknownOption(rest, Object.keys(options))
        : undefined;
    const sentence = unknown ?? valueMissing((error as Error).message) ?? `${(error as Error).message}.`;
    throw new AppError('VALIDATION_FAILED', `${sentence} Usage: ${PROGRAM} ${command.usage}`);
  }
}

function unknownCommand<Output>(words: string[], commands: readonly CommandSpec<Output>[]): AppError {
  if (words.length === 0) return new AppError('VALIDATION_FAILED', `Give a command.\n${overview(commands)}`);
  // A group named alone ("workspace") wants its verbs, not a guess at one of them.
  if (words.length === 1 && commands.some((command) => command.name.startsWith(`${words[0]} `)))
    return new AppError('VALIDATION_FAILED', `Give a ${words[0]} command.\n${groupHelp(words[0], commands)}`);
  // Each command is compared with as many words as it has: "workspce add" with "workspace add", "rolback" with "rollback".
  const typedAs = (name: string) => words.slice(0, name.split(' ').length).join(' ');
  const nearest = commands
    .map((command) => ({ name: command.name, distance: editDistance(typedAs(command.name), command.name) }))
    .sort((a, b) => a.distance - b.distance)
    .find((guess) => closestName(typedAs(guess.name), [guess.name]) !== undefined);
  const typed = words.slice(0, 2).join(' ');
  const hint = nearest ? ` Did you mean "${nearest.name}"?` : '';
  return new AppError(
    'VALIDATION_FAILED',
    `Unknown command "${typed}".${hint} Run ${PROGRAM} --help for the list.`,
    nearest ? { details: { suggestion: nearest.name } } : {},
  );
}

/**
 * parseArgs says an option's value is missing in two ways: "argument missing" at the end, and, when
 * another option follows (`--crm --json`), three lines on "ambiguous" arguments. Both are one thing.
 */
function valueMissing(message: string): string | undefined {
  const option = /^Option '(--[a-z0-9-]+)[^']*' argument (?:missing|is ambiguous)/.exec(message)?.[1];
  return option && `${option} needs a value.`;
}

/** parseArgs names the unknown option; we name the nearest one the command has. */
function unknownOption(args: string[], known: string[]): string | undefined {
  const typed = args.find((arg) => arg.startsWith('--') && !known.includes(arg.slice(2).split('=')[0]!));
  if (typed === undefined) return undefined;
  const name = typed.slice(2).split('=')[0]!;
  const suggestion = closestName(name, known);
  return `Unknown option --${name}.${suggestion ? ` Did you mean --${suggestion}?` : ''}`;
}

function commandHelp<Output>(command: CommandSpec<Output>): string {
  return `${command.summary}\n\nUsage: ${PROGRAM} ${command.usage}\n\n--json prints one JSON object on stdout (failures: {"error": {"code", "message"}}, exit 1).`;
}

/** `workspace --help` lists the group's commands; anything else, every command. */
function groupHelp<Output>(group: string | undefined, commands: readonly CommandSpec<Output>[]): string {
  const inGroup = commands.filter((command) => command.name.split(' ')[0] === group);
  return inGroup.length > 0
    ? `${group} commands:\n${list(inGroup)}\n\nRun ${PROGRAM} ${group} VERB --help for a command's options.`
    : overview(commands);
}

function overview<Output>(commands: readonly CommandSpec<Output>[]): string {
  return [
    `Usage: ${PROGRAM} COMMAND [options] [--json]`,
    // npm reads flags before `--` as its own: `npm run cli workspace list --workspace X` loses --workspace.
    'From a checkout, npm run --silent cli -- COMMAND ... runs the same; keep the "--", or npm takes --workspace and other flags as its own.',
    '',
    'Commands:',
    list(commands),
    '',
    `Run ${PROGRAM} COMMAND --help for a command's options.`,
  ].join('\n');
}

function list<Output>(commands: readonly CommandSpec<Output>[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n');
}

export function requireOption(context: CommandContext, name: string): string {
  const value = context.values[name];
  if (typeof value !== 'string' || value === '') throw new AppError('VALIDATION_FAILED', `--${name} is required.`);
  return value;
}
