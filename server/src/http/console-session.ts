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

/** HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure except on loopback HTTP. */
export function setSessionCookie(req: Request, res: Response, token: string, expiresAt: Date): void {
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: !LOOPBACK.has(req.hostname),
    path: '/',
    expires: expiresAt,
  });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, {
    httpOnly: true,
    sameSite: 'strict',
    secure: !LOOPBACK.has(req.hostname),
    path: '/',
  });
}

/** The request's Origin is the host it reached; browsers send Origin on every POST. */
export function fromThisOrigin(req: Request): boolean {
  const origin = req.get('origin');
  return origin !== undefined && URL.canParse(origin) && new URL(origin).host === req.get('host');
}

/**
 * A state-changing call must carry our custom header (a cross-site form or image cannot, and
 * adding it forces a CORS preflight we never grant) and an Origin of this very host.
 */
export const refuseCrossSiteWrites: RequestHandler = (req, _res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  if (req.get(CONSOLE_REQUEST_HEADER) !== '1' || !fromThisOrigin(req))
    throw new AppError(
      'FORBIDDEN',
      `A console call that changes something must come from the console itself (header ${CONSOLE_REQUEST_HEADER}: 1 and this server's Origin).`,
      { details: { reason: 'cross_site_request' } },
    );
  next();
};

/**
 * Where to land after signing in: a path of this server only. Anything that could leave it (a
 * scheme, `//host`, a backslash some browsers read as a slash) lands on the inbox instead.
 */
export function landingPath(next: string | undefined): string {
  if (next === undefined || !/^\/(?![/\\])[^\\]*$/.test(next)) return '/inbox';
  const url = new URL(next, 'http://console.invalid');
  return url.host === 'console.invalid' ? `${url.pathname}${url.search}` : '/inbox';
}
