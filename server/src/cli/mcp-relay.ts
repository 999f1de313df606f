import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { type JSONRPCMessage, isJSONRPCRequest, isJSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';
import { ZodError } from 'zod';
import { parseJson } from '../../../shared/json-text.ts';

/** The JSON-RPC code the relay answers with when the server never answered a request (an implementation-defined server error). */
const SERVER_UNREACHABLE = -32000;
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

/**
 * `agent-governance mcp` (issue 22): an MCP server on stdin/stdout for clients that only spawn
 * processes, relaying every message to the server's /mcp with the agent's token. The server
 * authenticates, decides and audits each call exactly as for an HTTP client; the relay holds
 * no tools of its own. Resolves when stdin ends.
 */
export async function relayStdioToServer(options: {
  url: URL;
  token: string;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
}): Promise<void> {
  const upstream = new StreamableHTTPClientTransport(options.url, {
    requestInit: { headers: { authorization: `Bearer ${options.token}` } },
  });
  const local = new StdioServerTransport(
    options.stdin as ConstructorParameters<typeof StdioServerTransport>[0],
    options.stdout as ConstructorParameters<typeof StdioServerTransport>[1],
  );
  // A line that is not a JSON-RPC message was dropped without a word, as the SDK only reports it:
  // JSON-RPC answers it, as the server's /mcp does, so the client is not left waiting: with no id, as MCP's
  // schema has an error that answers no request (an id of null fails the SDK client's parse of the line).
  local.onerror = (error) => {
    const parse = error instanceof SyntaxError;
    if (parse || error instanceof ZodError)
      void local.send({
        jsonrpc: '2.0',
        error: {
          code: parse ? PARSE_ERROR : INVALID_REQUEST,
          message: parse
            ? 'Parse error: the line is not JSON.'
            : 'Invalid Request: the line is not a JSON-RPC message.',
        },
      });
  };
  const initializeIds = new Set<string | number>();
  const inFlight = new Set<Promise<void>>();
  local.onmessage = (message) => {
    if (isJSONRPCRequest(message) && message.method === 'initialize') initializeIds.add(message.id);
    const relayed = upstream.send(message).catch(async (error: unknown) => {
      // A request must be answered, or the client waits forever: say why the server did not.
      if (isJSONRPCRequest(message))
        await local.send({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: SERVER_UNREACHABLE, message: unreachableSentence(options.url, error) },
        });
    });
    inFlight.add(relayed);
    void relayed.finally(() => inFlight.delete(relayed));
  };
  upstream.onmessage = (message: JSONRPCMessage) => {
    // Later requests carry the negotiated protocol version, as the SDK's own client sends it.
    if (isJSONRPCResultResponse(message) && initializeIds.delete(message.id)) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') upstream.setProtocolVersion(version);
    }
    void local.send(message);
  };
  const ended = new Promise<void>((resolve) => {
    options.stdin.once('end', resolve);
    options.stdin.once('close', resolve);
  });
  await upstream.start();
  await local.start();
  await ended;
  // The end of stdin ends the client's messages, not the answers it is owed: closing at once aborted
  // the requests still at the server (`echo … | agent-governance mcp` got none), answering each
  // "No agent-governance server answers", though the server may have decided them.
  await Promise.all(inFlight);
  await Promise.all([local.close(), upstream.close()]);
}

function unreachableSentence(url: URL, error: unknown): string {
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) {
    // The body is our error JSON; its sentence is what the person reading the client's log needs.
    const sentence = errorSentence(/\{.*\}/s.exec(error.message)?.[0]);
    return `The server at ${url.href} refused the request (HTTP ${error.code}): ${sentence ?? error.message}`;
  }
  return `No agent-governance server answers at ${url.href}: ${(error as Error).message}. Start it (npm start), or give --server-url where it listens.`;
}

function errorSentence(body: string | undefined): string | undefined {
  try {
    return body === undefined ? undefined : (parseJson(body) as { error?: { message?: string } }).error?.message;
  } catch {
    return undefined;
  }
}
