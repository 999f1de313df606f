import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  type CallToolResult,
  CallToolRequestSchema,
  ErrorCode as JsonRpcCode,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { type ErrorRequestHandler, Router } from 'express';
import { z } from 'zod';
import type { ErrorCode } from '../../../shared/errors.ts';
import { AppError } from '../errors.ts';
import { errorLogField, type Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import type { AuthenticatedAgent } from '../services/governance/index.ts';
import { agentFromRequest } from './auth.ts';
import { errorResponder, parseInput, toAppError } from './errors.ts';
import { MCP_TOOLS, type ToolAnswer } from './mcp-tools.ts';

/** Said once at initialize; models read it as the server's own instructions. */
const INSTRUCTIONS =
  'Agent Governance decides every CRM change you propose under your workspace policy. Start with what_may_i_change; check get_record_proposals before proposing on a record; a result with isError true is a refusal with reason codes: read them, do not retry the same thing. When a result says STOP, a kill switch is engaged: stop all work and tell a person.';

/** The first of the codes JSON-RPC 2.0 leaves to the server, as the MCP SDK's transport uses it for HTTP-level refusals. */
const SERVER_ERROR = -32000;

/** Computed once: the same JSON Schema for every session. */
const TOOL_LIST: Tool[] = MCP_TOOLS.map((tool) => ({
  name: tool.name,
  description: tool.description,
  inputSchema: toolInputSchema(tool.input),
}));

/**
 * The MCP server at /mcp over Streamable HTTP (issue 22), stateless: every POST is authenticated
 * by the agent's bearer token as the REST agent API is (a bad token is a 401 before any MCP
 * message is read, answered by mcpRefusals), and gets a fresh MCP server bound to that agent.
 * Nothing lives between requests, so any number of servers behind a balancer answer alike.
 */
export function mcpRoutes(deps: ServiceDeps, options: { logger: Logger }): Router {
  const router = Router();
  router.post('/mcp', async (req, res) => {
    const caller = await agentFromRequest(deps, req).catch((error: unknown) => {
      // The workspace switch suspends agent tokens (issue 21). Over MCP an HTTP 423 is a transport
      // failure the model never reads, which frameworks retry: each tool call answers the STOP instead.
      if (error instanceof AppError && error.code === 'KILL_SWITCH_ENGAGED') return { stopped: error };
      throw error;
    });
    const sharedId = idSharedInBatch(req.body);
    if (sharedId)
      return void res
        .status(400)
        .json(
          jsonRpcError(
            JsonRpcCode.InvalidRequest,
            `Invalid Request: ${sharedId.count} requests of this batch have the id ${JSON.stringify(sharedId.id)}, and only one answer could carry it; give each request an id of its own. None was run.`,
          ),
        );
    const server = mcpServer({ deps, caller, logger: options.logger, requestId: String(res.locals.requestId) });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void server.close());
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  // Stateless: no server-sent stream to open (GET) and no session to end (DELETE); clients expect 405 here.
  router.all('/mcp', (_req, res) => {
    res.status(405).set('Allow', 'POST').json(jsonRpcError(SERVER_ERROR, 'Method not allowed: POST MCP messages.'));
  });
  return router;
}

/**
 * A request to /mcp refused before the MCP server reads it (the body guards, the token) as a
 * JSON-RPC error, which is what an MCP client parses: the REST error body was not one. The HTTP
 * status stays the REST API's; `data` carries our code, the request id and any details.
 */
export function mcpRefusals(logger: Logger): ErrorRequestHandler {
  return errorResponder(logger, (error, requestId) =>
    jsonRpcError(jsonRpcCodeFor(error.code), error.message, {
      code: error.code,
      requestId,
      ...(error.details === undefined ? {} : { details: error.details }),
    }),
  );
}

/**
 * A body that is not JSON is a parse error and one the guards refuse an invalid request, as JSON-RPC
 * names them; the rest (too large, not JSON's media type, the token) are server errors, as the MCP
 * SDK's own transport answers a body too large or of the wrong type.
 */
function jsonRpcCodeFor(code: ErrorCode): number {
  if (code === 'MALFORMED_JSON') return JsonRpcCode.ParseError;
  if (code === 'VALIDATION_FAILED') return JsonRpcCode.InvalidRequest;
  if (code === 'INTERNAL') return JsonRpcCode.InternalError;
  return SERVER_ERROR;
}

/** A JSON-RPC error answer to no request in particular (id null): the one refused could not be read, or was a batch. */
function jsonRpcError(code: number, message: string, data?: object) {
  return { jsonrpc: '2.0', error: { code, message, ...(data === undefined ? {} : { data }) }, id: null };
}

/**
 * A request id that more than one request of a JSON-RPC batch carries. The SDK runs each of them
 * but keeps one answer per id, so the agent was told of one tool call's outcome (one change set)
 * while the others were held or written unseen.
 */
function idSharedInBatch(body: unknown): { id: unknown; count: number } | undefined {
  if (!Array.isArray(body)) return undefined;
  const counts = new Map<unknown, number>();
  for (const message of body as unknown[]) {
    if (typeof message !== 'object' || message === null || !('method' in message) || !('id' in message)) continue;
    counts.set(message.id, (counts.get(message.id) ?? 0) + 1);
  }
  for (const [id, count] of counts) if (count > 1) return { id, count };
  return undefined;
}

/**
 * What the SDK parses a tools/call with before its own check of the full schema: given the full
 * schema, a call whose `arguments` was null or a list failed that first parse, answered as -32603
 * Internal error with zod's dump, where the SDK's own check answers -32602 Invalid params.
 */
const TOOLS_CALL = z.looseObject({ method: z.literal('tools/call') });

/** An MCP server for one authenticated agent; low-level so that arguments are checked by our schemas and refusals carry our codes. */
function mcpServer(context: {
  deps: ServiceDeps;
  caller: AuthenticatedAgent | { stopped: AppError };
  logger: Logger;
  requestId: string;
}) {
  const { deps, caller } = context;
  const server = new Server(
    { name: 'agent-governance', version: '1.0.0' },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOL_LIST }));
  server.setRequestHandler(TOOLS_CALL, async (call): Promise<CallToolResult> => {
    // The SDK checked it against the full schema before this runs.
    const request = CallToolRequestSchema.parse(call);
    try {
      if ('stopped' in caller) throw caller.stopped;
      const tool = MCP_TOOLS.find((candidate) => candidate.name === request.params.name);
      if (!tool)
        throw new AppError('NOT_FOUND', `There is no tool ${request.params.name}; list the tools to see their names.`);
      const args = parseInput(tool.input, request.params.arguments ?? {}, `The arguments of ${tool.name}`);
      return answerResult(await tool.run(args, { deps, caller }));
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'INTERNAL')
        context.logger.error('mcp tool failed', {
          requestId: context.requestId,
          tool: request.params.name,
          error: errorLogField(error),
        });
      return refusalResult(appError);
    }
  });
  return server;
}

/**
 * The JSON goes once, as text, which is what a model is shown: also sending it as
 * `structuredContent` doubled the bytes of a large change set's answer for clients that read text.
 */
function answerResult(answer: ToolAnswer): CallToolResult {
  return {
    content: [
      { type: 'text', text: answer.summary },
      { type: 'text', text: JSON.stringify(answer.value) },
    ],
    ...(answer.refused ? { isError: true } : {}),
  };
}

/** What the REST API answers as an error body, as a tool result the model can act on; a kill switch says stop. */
function refusalResult(error: AppError): CallToolResult {
  const stop = error.code === 'KILL_SWITCH_ENGAGED';
  const sentence = stop
    ? `STOP: ${error.message.replace(/\.$/, '')}. Do not retry and do not work around it: stop this work and tell a person; it resumes only when a person releases the switch.`
    : error.message;
  const body = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
      ...(error.retryable ? { retryable: true } : {}),
      ...(stop ? { stop: true } : {}),
    },
  };
  return {
    isError: true,
    content: [
      { type: 'text', text: sentence },
      { type: 'text', text: JSON.stringify(body) },
    ],
  };
}

/**
 * The tool's JSON Schema from its zod schema. zod writes a schema that has an id (`.meta({ id })`)
 * as a `$ref` into `$defs`; MCP wants the input's root to be the object itself, so the root's
 * definition is brought up and the others stay referenced.
 */
function toolInputSchema(schema: z.ZodType): Tool['inputSchema'] {
  const { $ref, $defs = {}, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  const rootName = typeof $ref === 'string' ? $ref.replace('#/$defs/', '') : undefined;
  const { [rootName ?? '']: root, ...others } = $defs;
  const inlined = {
    ...rest,
    ...(root as object | undefined),
    ...(Object.keys(others).length > 0 ? { $defs: others } : {}),
  };
  if ((inlined as { type?: unknown }).type !== 'object')
    throw new Error(`A tool's input must be a JSON object schema; got ${JSON.stringify(inlined).slice(0, 200)}`);
  return inlined as Tool['inputSchema'];
}
