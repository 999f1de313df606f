import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { canvasOffRoutes, canvasRoutes, type CanvasRouteOptions } from './http/canvas-routes.ts';
import { consoleRoutes, consoleSignInRoutes } from './http/console-routes.ts';
import { consoleSettingsRoutes } from './http/console-settings-routes.ts';
import { consoleStatic } from './http/console-static.ts';
import { apiDocsRoutes } from './http/api-docs.ts';
import { jsonBody, refuseUnsafeJson, requireJsonBody } from './http/body-guards.ts';
import { errorHandler } from './http/errors.ts';
import { extensionRoutes } from './http/extension-routes.ts';
import { mcpRefusals, mcpRoutes } from './http/mcp.ts';
import { apiRoutes, openApiDocument } from './http/openapi.ts';
import { routerOf } from './http/route.ts';
import { webhookRoutes, type WebhookRouteOptions } from './http/webhook-routes.ts';
import type { Logger } from './logger.ts';
import type { ServiceDeps } from './services/common/index.ts';
import type { Database } from './store/database.ts';
import type { AgentTraffic } from './agent-traffic.ts';

export interface AppOptions {
  deps: ServiceDeps;
  database: Pick<Database, 'kind'>;
  logger: Logger;
  maxBodyBytes: number;
  publicUrl: string;
  /** HubSpot webhook intake (issue 6); the body limit is `maxBodyBytes`. */
  webhooks?: Omit<WebhookRouteOptions, 'maxBodyBytes'>;
  /** This server's audit checkpoint key (base64), trusted when verifying checkpoints (issue 17). */
  checkpointPublicKey?: string;
  /** The built web console (issue 19), served at `/`; tests that do not need it leave it out. */
  consoleDir?: string;
  /** Counts agent API requests in flight, which SIEM streaming yields to (issue 22). */
  agentTraffic?: AgentTraffic;
  /** The console opened inside Salesforce as a Canvas app (issue 20); off without a consumer secret. */
  canvas?: Omit<CanvasRouteOptions, 'consoleDir' | 'maxBodyBytes'>;
}

/** The agent API's work: change sets, drafts and MCP calls. */
const AGENT_REQUEST_PATHS = ['/v1/changesets', '/v1/actions', '/mcp'];

/** Builds the HTTP app from its dependencies; no module state, so tests build as many as they like. */
export function createApp(options: AppOptions): Express {
  const { deps, logger } = options;
  // PUBLIC_URL (the configured public address, which webhooks are signed for) is the console's too.
  const consoleOrigin = { publicUrl: options.webhooks?.publicUrl };
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.locals.requestId = randomUUID();
    res.setHeader('X-Request-Id', res.locals.requestId);
    next();
  });
  // Before the JSON parser: a webhook's signature covers its raw bytes.
  app.use(webhookRoutes(deps, { ...options.webhooks, maxBodyBytes: options.maxBodyBytes }));
  app.use(
    '/v1/extension',
    extensionRoutes(deps, {
      appClientSecret: options.webhooks?.appClientSecret,
      publicUrl: options.webhooks?.publicUrl,
      maxBodyBytes: options.maxBodyBytes,
    }),
  );
  app.use(
    options.canvas
      ? canvasRoutes(deps, { ...options.canvas, consoleDir: options.consoleDir, maxBodyBytes: options.maxBodyBytes })
      : canvasOffRoutes(),
  );
  app.use(consoleSignInRoutes(deps, consoleOrigin));
  const { agentTraffic } = options;
  if (agentTraffic)
    app.use(AGENT_REQUEST_PATHS, (_req, res, next) => {
      res.once('close', agentTraffic.begin());
      next();
    });
  app.use(requireJsonBody);
  app.use(jsonBody(options.maxBodyBytes));
  app.use(refuseUnsafeJson);

  app.get('/healthz', async (_req, res) => {
    const started = performance.now();
    await deps.db.execute('select 1');
    res.json({
      status: 'ok',
      database: { kind: options.database.kind, state: 'ready', latencyMs: Math.round(performance.now() - started) },
    });
  });
  const openapi = openApiDocument(options.publicUrl);
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use(apiDocsRoutes());
  app.use(routerOf(apiRoutes, { deps, checkpointPublicKey: options.checkpointPublicKey, ...consoleOrigin }));
  app.use(mcpRoutes(deps, { logger }));
  app.use(consoleRoutes(deps, { ...consoleOrigin, checkpointPublicKey: options.checkpointPublicKey }));
  app.use(consoleSettingsRoutes(deps, consoleOrigin));
  if (options.consoleDir) app.use(consoleStatic(options.consoleDir));
  app.use((req, res) => {
    res.status(404).json({
      error: { code: 'NOT_FOUND', message: `No route ${req.method} ${req.path}.`, requestId: res.locals.requestId },
    });
  });
  app.use('/mcp', mcpRefusals(logger));
  app.use(errorHandler(logger));
  return app;
}
