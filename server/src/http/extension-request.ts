import type { Request } from 'express';
import { parseJson } from '../../../shared/json-text.ts';
import { AppError, assertSafeJson, assertUniqueKeys } from '../errors.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { authenticateExtensionRequest, type ExtensionCaller } from '../services/extension/index.ts';
import { signedRequest } from './webhook-routes.ts';

export interface ExtensionRouteOptions {
  maxBodyBytes: number;
  /** The HubSpot app's client secret (OAuth apps: one for every account); a workspace's own secret is tried too. */
  appClientSecret?: string | undefined;
  publicUrl?: string | undefined;
}

/** Who HubSpot says is asking, once the request's v3 signature over its raw body checks out. */
export function extensionAuthenticator(
  deps: ServiceDeps,
  options: ExtensionRouteOptions,
): (req: Request) => Promise<ExtensionCaller> {
  return (req) =>
    authenticateExtensionRequest(deps, signedRequest(req, options.publicUrl), {
      appClientSecret: options.appClientSecret,
    });
}

/** The raw body (kept raw for the signature) read as JSON; empty is undefined. Refused like any body when it is too deep or holds unsafe text. */
export function jsonBody(req: Request): unknown {
  const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  let body: unknown;
  try {
    body = raw === '' ? undefined : parseJson(raw);
  } catch {
    throw new AppError('MALFORMED_JSON', 'The request body is not valid JSON.');
  }
  assertUniqueKeys(raw, 'The request body');
  assertSafeJson(body, 'The request body');
  return body;
}
