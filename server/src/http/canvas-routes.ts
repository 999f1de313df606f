import path from 'node:path';
import { existsSync } from 'node:fs';
import express, { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { type EmbeddedAppCheck, startEmbeddedSession } from '../services/console/index.ts';
import { consoleContentSecurityPolicy } from './console-static.ts';
import { SESSION_COOKIE } from './console-session.ts';

export interface CanvasRouteOptions {
  /** The Canvas app's consumer secret(s) (several while one is being rotated). */
  consumerSecrets: readonly string[];
  /** The CRM adapter's check of a signed request (Salesforce's, from runtime). */
  check: EmbeddedAppCheck;
  /** The built console; without it the route still signs in and says to build. */
  consoleDir?: string | undefined;
  maxBodyBytes: number;
}

const workspaceParam = z.uuid();

/**
 * `POST /canvas/:workspaceId`: Salesforce opens the console as a Canvas app (issue 20, point 6)
 * by posting a signed request. A signature that does not verify with the consumer secret (an
 * altered body, another secret, no signed request at all) gets 401 and an empty body: nothing
 * of the request was trusted or echoed. A verified one posted from the org's own pages (its
 * `Origin`), whose user token the org still accepts, starts a console session for that
 * Salesforce user (their role from `people`, as on HubSpot) and answers the console itself,
 * frameable only by the org's own domains (the refusals: `startEmbeddedSession`). The cookie is
 * `SameSite=None; Partitioned`: inside Salesforce's page the console is a third party, and its
 * cookie lives in that frame alone.
 * Mounted before the JSON parser (the body is a form).
 */
export function canvasRoutes(deps: ServiceDeps, options: CanvasRouteOptions): Router {
  const router = Router();
  router.post(
    '/canvas/:workspaceId',
    express.urlencoded({ extended: false, limit: options.maxBodyBytes }),
    async (req, res) => {
      const signed = (req.body as Record<string, unknown> | undefined)?.signed_request;
      const verified =
        typeof signed === 'string' && options.consumerSecrets.length > 0
          ? options.check(signed, options.consumerSecrets)
          : { ok: false as const };
      const workspaceId = workspaceParam.safeParse(req.params.workspaceId);
      if (!verified.ok || !workspaceId.success) {
        res.status(401).end();
        return;
      }
      const session = await startEmbeddedSession(deps, {
        workspaceId: workspaceId.data,
        request: verified.request,
        posted: { origin: req.get('origin'), fetchSite: req.get('sec-fetch-site') },
      });
      res.cookie(SESSION_COOKIE, session.sessionToken, {
        httpOnly: true,
        sameSite: 'none',
        secure: true,
        partitioned: true,
        path: '/',
        expires: session.expiresAt,
      });
      res.setHeader('Content-Security-Policy', consoleContentSecurityPolicy(session.frameAncestors));
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'same-origin');
      res.setHeader('Cache-Control', 'no-store');
      const indexFile = options.consoleDir ? path.join(options.consoleDir, 'index.html') : undefined;
      if (indexFile && existsSync(indexFile)) res.sendFile(indexFile);
      else res.status(503).type('text/plain').send('The web console is not built yet: run "npm run build".');
    },
  );
  return router;
}

/**
 * `POST /canvas/:workspaceId` on a server without the consumer secret: nothing can be verified,
 * and Salesforce's form would otherwise be answered as a body that is not JSON (415), which sends
 * whoever installed the Canvas app looking at the wrong thing.
 */
export function canvasOffRoutes(): Router {
  const router = Router();
  router.post('/canvas/:workspaceId', () => {
    throw new AppError(
      'NOT_FOUND',
      "The console inside Salesforce is off on this server: its operator sets SALESFORCE_CANVAS_CONSUMER_SECRET to the Canvas app's consumer secret.",
      { details: { reason: 'canvas_off' } },
    );
  });
  return router;
}
