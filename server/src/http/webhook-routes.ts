import express, { Router, type Request } from 'express';
import type { SignedRequest } from '../crm/port.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { ingestHubSpotWebhook, createPortalDirectory } from '../services/webhooks/index.ts';

export interface WebhookRouteOptions {
  maxBodyBytes: number;
  appClientSecret?: string | undefined;
  /** Where HubSpot reaches us, when a proxy stands in front (the signature covers the full URI). */
  publicUrl?: string | undefined;
  /** Called after events were stored, so an in-process worker starts at once instead of at its next poll. */
  onStored?: () => void;
}

/** `POST /webhooks/hubspot`: mounted before the JSON parser, because the signature covers the raw bytes. */
export function webhookRoutes(deps: ServiceDeps, options: WebhookRouteOptions): Router {
  const router = Router();
  const portals = createPortalDirectory(deps.db, deps.clock);
  router.post('/webhooks/hubspot', express.raw({ type: () => true, limit: options.maxBodyBytes }), async (req, res) => {
    const result = await ingestHubSpotWebhook(deps, signedRequest(req, options.publicUrl), {
      appClientSecret: options.appClientSecret,
      portals,
    });
    if (result.stored > 0) options.onStored?.();
    res.json(result);
  });
  return router;
}

/** What HubSpot's v3 signature covers, read off a request whose body was kept raw (webhooks, the app's hubspot.fetch calls). */
export function signedRequest(req: Request, publicUrl: string | undefined): SignedRequest {
  return {
    method: req.method,
    url: signedUrl(req, publicUrl),
    rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    signature: req.get('x-hubspot-signature-v3'),
    timestamp: req.get('x-hubspot-request-timestamp'),
  };
}

/**
 * The full URI HubSpot signed: the public URL when a proxy stands in front, its path included (a
 * proxy serving the app under a path takes it off before passing the request on, as the console's
 * and alerts' links under `PUBLIC_URL` expect), else the request's own origin.
 */
function signedUrl(req: Request, publicUrl: string | undefined): string {
  if (!publicUrl) return `${req.protocol}://${req.get('host') ?? ''}${req.originalUrl}`;
  const base = new URL(publicUrl);
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}${req.originalUrl}`;
}
