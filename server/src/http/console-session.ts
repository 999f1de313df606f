import type { Request, RequestHandler, Response } from 'express';
import { CONSOLE_REQUEST_HEADER } from '../../../shared/console-api.ts';
import { AppError } from '../errors.ts';

/** The `__Host-` prefix (which demands Secure) is not usable on plain loopback HTTP, so the name stays plain. */
export const SESSION_COOKIE = 'ag_console_session';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Our cookie's value; one that does not decode (no token of ours) counts as none, so it cannot block signing in. */
export function sessionToken(req: Request): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name !== SESSION_COOKIE) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Where the console is reached, as the server is configured: `PUBLIC_URL` when set. Without it
 * the request's `Host` is all there is, which a proxy may rewrite (to `127.0.0.1:3000`, say), so
 * with it the cookie's Secure flag and the same-origin check follow `PUBLIC_URL` instead.
 */
export interface ConsoleOrigin {
  publicUrl?: string | undefined;
}

/** Secure when `PUBLIC_URL` is https; without one, except on loopback HTTP. */
function secureCookie(req: Request, { publicUrl }: ConsoleOrigin): boolean {
  return publicUrl ? new URL(publicUrl).protocol === 'https:' : !LOOPBACK.has(req.hostname);
}

/** HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure as above. */
export function setSessionCookie(
  req: Request,
  res: Response,
  origin: ConsoleOrigin,
  token: string,
  expiresAt: Date,
): void {
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: secureCookie(req, origin),
    path: '/',
    expires: expiresAt,
  });
}

export function clearSessionCookie(req: Request, res: Response, origin: ConsoleOrigin): void {
  res.clearCookie(SESSION_COOKIE, {
    httpOnly: true,
    sameSite: 'strict',
    secure: secureCookie(req, origin),
    path: '/',
  });
}

/**
 * The request's Origin is this server: `PUBLIC_URL`'s origin, or the host the request reached, which
 * stays accepted for a server opened directly while `PUBLIC_URL` names its proxy. Only a page served
 * under that very host name can send it (one under another name resolving here holds that name's
 * cookies, never ours); browsers send Origin on every POST.
 */
export function fromThisOrigin(req: Request, { publicUrl }: ConsoleOrigin): boolean {
  const origin = req.get('origin');
  if (origin === undefined || !URL.canParse(origin)) return false;
  const parsed = new URL(origin);
  return (publicUrl !== undefined && parsed.origin === new URL(publicUrl).origin) || parsed.host === req.get('host');
}

/**
 * A state-changing call must carry our custom header (a cross-site form or image cannot, and
 * adding it forces a CORS preflight we never grant) and an Origin of this very server.
 */
export function refuseCrossSiteWrites(origin: ConsoleOrigin): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (req.get(CONSOLE_REQUEST_HEADER) !== '1' || !fromThisOrigin(req, origin))
      throw new AppError(
        'FORBIDDEN',
        `A console call that changes something must come from the console itself (header ${CONSOLE_REQUEST_HEADER}: 1 and this server's Origin).`,
        { details: { reason: 'cross_site_request' } },
      );
    next();
  };
}

/**
 * Where to land after signing in: a path of this server only. Anything that could leave it (a
 * scheme, `//host`, a backslash some browsers read as a slash) lands on the inbox instead.
 */
export function landingPath(next: string | undefined): string {
  if (next === undefined || !/^\/(?![/\\])[^\\]*$/.test(next)) return '/inbox';
  const url = new URL(next, 'http://console.invalid');
  // Parsing resolves dot segments and drops tabs, so `/..//evil.example` came out as `//evil.example`,
  // which a browser reads as another host.
  return url.host === 'console.invalid' && !url.pathname.startsWith('//') ? `${url.pathname}${url.search}` : '/inbox';
}
