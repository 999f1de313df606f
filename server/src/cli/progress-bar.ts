import type { SingleBar } from 'cli-progress';
import type { CommandContext } from './parse.ts';
import { writesToTerminal } from './terminal-text.ts';

/**
 * A progress bar for a person at a terminal: none under --json or when the output is piped or
 * redirected, where it would be noise in what a script reads.
 */
export async function terminalBar(context: CommandContext, format: string): Promise<SingleBar | undefined> {
  if (context.values.json === true || !writesToTerminal(context.stdout)) return undefined;
  const { default: cliProgress } = await import('cli-progress');
  return new cliProgress.SingleBar(
    { stream: context.stdout, format, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
}
