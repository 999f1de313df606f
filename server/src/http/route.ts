import { type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import { errorResponseSchema } from '../../../shared/agent-api.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import type { AuthenticatedAgent, WorkspaceRow } from '../services/governance/index.ts';
import { adminWorkspaceFromRequest, agentFromRequest } from './auth.ts';
import { parseInput } from './errors.ts';
import { idParam } from './params.ts';

/** One part of a request and how a refusal names it ("The decision is invalid: ..."). */
export interface Input<T extends z.ZodType> {
  schema: T;
  what: string;
}

/** A path segment naming a row: documented as a uuid, and anything else is the 404 of an unknown id (issue 17). */
export interface RowId {
  rowOf: string;
}

/** A body the service parses itself, so its refusal carries the service's own code (a policy: POLICY_INVALID). */
export interface ServiceParsedBody {
  schema: z.ZodType;
  parsedBy: 'service';
}

type Method = 'get' | 'post' | 'put' | 'delete';
/** Who may call: an agent's token or the workspace's admin token; the route authenticates before it reads anything. */
type Security = 'agent' | 'admin';
type ParamSpec = Input<z.ZodType<string>> | RowId;
type HeaderSpecs = Record<string, Input<z.ZodType>>;
/** A query string arrives as an object of its parameters. */
type QuerySchema = z.ZodType<unknown, Record<string, unknown>>;
type BodySpec = Input<z.ZodType> | ServiceParsedBody;

/** What every route's handler is given besides its request. */
export interface RouteContext {
  deps: ServiceDeps;
  /** This server's audit checkpoint key (base64), trusted when verifying checkpoints (issue 17). */
  checkpointPublicKey: string | undefined;
  /** PUBLIC_URL, when set: the address people reach this server at, which links it hands out name. */
  publicUrl: string | undefined;
}

export interface RouteRequest<
  S extends Security,
  P extends Record<string, ParamSpec>,
  Q extends QuerySchema,
  H extends HeaderSpecs,
  B extends BodySpec | undefined,
> {
  caller: S extends 'agent' ? AuthenticatedAgent : WorkspaceRow;
  params: { [K in keyof P]: string };
  query: z.infer<Q>;
  headers: { [K in keyof H]: z.infer<H[K]['schema']> };
  body: B extends Input<infer T> ? z.infer<T> : B extends ServiceParsedBody ? unknown : undefined;
  context: RouteContext;
}

/** A route declared once: what it takes, what it answers (its OpenAPI operation) and its handler. */
export interface RouteSpec<
  S extends Security,
  P extends Record<string, ParamSpec>,
  Q extends QuerySchema,
  H extends HeaderSpecs,
  B extends BodySpec | undefined,
> {
  method: Method;
  /** OpenAPI's form, `/v1/admin/approvals/{id}`; each `{name}` is declared in `params`. */
  path: string;
  operationId: string;
  summary: string;
  security: S;
  params?: P;
  /** Without one the query string is not read; with one, it is validated (strict schemas refuse unknown names). */
  query?: Input<Q>;
  headers?: H;
  body?: B;
  responses: ZodOpenApiResponsesObject;
  handle: (request: RouteRequest<S, P, Q, H, B>, res: Response) => Promise<void>;
}

export interface Route {
  method: Method;
  path: string;
  operation: ZodOpenApiOperationObject;
  handler: (context: RouteContext) => RequestHandler;
}

/**
 * The one way to write a route of the REST API: authenticate, then validate path, query, headers
 * and body in that order through `parseInput`, then call `handle`; the OpenAPI operation is made
 * from the same schemas, so the document cannot drift from what is checked.
 */
export function defineRoute<
  S extends Security,
  P extends Record<string, ParamSpec> = Record<string, never>,
  Q extends QuerySchema = QuerySchema,
  H extends HeaderSpecs = Record<string, never>,
  B extends BodySpec | undefined = undefined,
>(spec: RouteSpec<S, P, Q, H, B>): Route {
  return {
    method: spec.method,
    path: spec.path,
    operation: operationOf(spec),
    handler: (context) => async (req, res) => {
      const caller =
        spec.security === 'agent'
          ? await agentFromRequest(context.deps, req)
          : await adminWorkspaceFromRequest(context.deps, req);
      const params = mapEntries(spec.params ?? {}, (param, name) => {
        // Express 5 gives a string for every `:name` segment; only wildcards give arrays, and routes declare none.
        const value = String(req.params[name]);
        return 'rowOf' in param ? idParam(value, param.rowOf) : parseInput(param.schema, value, param.what);
      });
      const query = spec.query === undefined ? undefined : parseInput(spec.query.schema, req.query, spec.query.what);
      const headers = mapEntries(spec.headers ?? {}, (header, name) =>
        parseInput(header.schema, req.header(name), header.what),
      );
      const body =
        spec.body === undefined
          ? undefined
          : 'what' in spec.body
            ? parseInput(spec.body.schema, req.body, spec.body.what)
            : req.body;
      await spec.handle({ caller, params, query, headers, body, context } as RouteRequest<S, P, Q, H, B>, res);
    },
  };
}

/** Mounts the routes, each at its OpenAPI path written as Express's (`{id}` → `:id`). */
export function routerOf(routes: readonly Route[], context: RouteContext): Router {
  const router = Router();
  for (const route of routes) router[route.method](route.path.replace(/\{(\w+)\}/g, ':$1'), route.handler(context));
  return router;
}

/** The routes' operations as OpenAPI paths, in the order given. */
export function openApiPaths(routes: readonly Route[]): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) paths[route.path] = { ...paths[route.path], [route.method]: route.operation };
  return paths;
}

export const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

/** The error responses of a group of routes, each status described once for the group: `errors(400, 404)`. */
export function errorResponses(descriptions: Record<number, string>) {
  return (...statuses: number[]): ZodOpenApiResponsesObject =>
    Object.fromEntries(statuses.map((status) => [String(status), errorResponse(descriptions[status] ?? 'Error')]));
}

export const errorResponse = (description: string) => ({ description, content: json(errorResponseSchema) });

/** The header both submissions (change sets and actions) take, checked and documented alike. */
export const idempotencyKeyHeader = {
  'idempotency-key': {
    schema: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional()
      .meta({ description: 'Repeat it on a retry: the first answer is returned and nothing is written twice.' }),
    what: 'The Idempotency-Key header',
  },
};

type DocumentedSpec = Omit<
  RouteSpec<Security, Record<string, ParamSpec>, QuerySchema, HeaderSpecs, BodySpec | undefined>,
  'handle'
>;

function operationOf(spec: DocumentedSpec): ZodOpenApiOperationObject {
  const path =
    spec.params && z.object(mapEntries(spec.params, (param) => ('rowOf' in param ? z.uuid() : param.schema)));
  const header = spec.headers && z.object(mapEntries(spec.headers, (input) => input.schema));
  const requestParams = {
    ...(path ? { path } : {}),
    ...(spec.query ? { query: spec.query.schema } : {}),
    ...(header ? { header } : {}),
  };
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.security === 'admin' ? { security: [{ adminToken: [] }] } : {}),
    ...(Object.keys(requestParams).length > 0 ? { requestParams } : {}),
    ...(spec.body ? { requestBody: { required: true, content: json(spec.body.schema) } } : {}),
    responses: spec.responses,
  };
}

/** Writes each chunk as the client takes it, then ends the response (exports and reports). */
export async function streamTo(res: Response, chunks: AsyncIterable<string>): Promise<void> {
  for await (const chunk of chunks) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

function mapEntries<T, U>(record: Record<string, T>, map: (value: T, key: string) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value, key)]));
}
