import { httpUrlOf } from '../config.ts';
import { AppError } from '../errors.ts';
import { readTextFile, type CommandOutput } from './command-kit.ts';
import { requireOption, type CommandContext, type CommandSpec } from './parse.ts';

/**
 * `mcp`: the MCP tools on stdin/stdout for a client that spawns its servers (issue 22). It speaks
 * to a running server over HTTP, never opening the database, so it runs beside `npm start`.
 */
export const MCP_COMMAND: CommandSpec<CommandOutput> = {
  name: 'mcp',
  summary: 'Serves the MCP tools to an agent on stdin/stdout, relaying each call to the server’s /mcp.',
  usage: 'mcp --token-file FILE [--server-url URL]',
  options: { 'token-file': { type: 'string' }, 'server-url': { type: 'string' } },
  run: async (context) => {
    const token = readTextFile(requireOption(context, 'token-file')).trim();
    if (!/^\S+$/.test(token))
      throw new AppError('VALIDATION_FAILED', '--token-file must hold one agent token (agt_...) and nothing else.');
    const { relayStdioToServer } = await import('./mcp-relay.ts');
    await relayStdioToServer({ url: mcpUrl(context), token, stdin: process.stdin, stdout: context.stdout });
    return { kind: 'streamed' };
  },
};

/** --server-url, else the server this configuration starts (HOST and PORT), on loopback when it listens on every address. */
function mcpUrl(context: CommandContext): URL {
  const given = context.values['server-url'];
  const { host, port } = context.config;
  const base =
    typeof given === 'string' && given !== ''
      ? given
      : httpUrlOf(host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port);
  try {
    return new URL('mcp', base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new AppError('VALIDATION_FAILED', `--server-url must be a URL such as http://127.0.0.1:3000; got ${base}.`);
  }
}
