import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler, Router } from 'express';

/** Paths the console's router owns; anything else (the API above all) keeps its JSON 404. */
const CONSOLE_PATHS = /^\/(?:inbox|batches|audit|records|settings|overview)(?:\/[^.]*)?$|^\/$/;

/**
 * No inline script or style, nothing from another origin, never framed (but by the CRM's own
 * domains when it opened the console inside itself, issue 20): what the console needs and
 * nothing an injected string could use.
 */
export function consoleContentSecurityPolicy(frameAncestors: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors.length === 0 ? "'none'" : frameAncestors.join(' ')}`,
  ].join('; ');
}
const CONTENT_SECURITY_POLICY = consoleContentSecurityPolicy([]);

export const consoleSecurityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'same-origin');
  next();
};

/** Serves the built console (console/dist) and its deep links; without a build, says how to make one. */
export function consoleStatic(distDir: string): Router {
  const router = Router();
  const indexFile = path.join(distDir, 'index.html');
  router.use(
    '/assets',
    consoleSecurityHeaders,
    express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '1y' }),
  );
  router.get(CONSOLE_PATHS, consoleSecurityHeaders, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    if (existsSync(indexFile)) res.sendFile(indexFile);
    else res.status(503).type('text/plain').send('The web console is not built yet: run "npm run build".');
  });
  return router;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);

const page = (title: string, body: string[]) =>
  [
    '<!doctype html>',
    // No icon to fetch (as the console's index.html): a browser would ask for /favicon.ico, a 404.
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title} · Agent Governance</title><link rel="icon" href="data:,"></head>`,
    '<body><main><h1>Agent Governance</h1>',
    ...body,
    '</main></body></html>',
  ].join('\n');

/**
 * What opening a sign-in link shows: who it signs in, and one button that posts the token back
 * (the console's CSP allows a form to this server and needs no script). Only that POST spends the
 * link, so whoever merely fetches the URL (a link preview, a mail scanner, an `<img>` on another
 * site) signs nobody in.
 */
export function signInPage(input: {
  action: string;
  token: string;
  next: string | undefined;
  workspaceName: string;
  crmUserId: string;
}): string {
  const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  return page('Sign in', [
    `<p>This one-time link signs you in to the web console of workspace <strong>${escapeHtml(input.workspaceName)}</strong> as CRM user <strong>${escapeHtml(input.crmUserId)}</strong>. If that is not you, close this page.</p>`,
    `<form method="post" action="${escapeHtml(input.action)}">`,
    hidden('token', input.token),
    ...(input.next === undefined ? [] : [hidden('next', input.next)]),
    '<button type="submit">Sign in</button>',
    '</form>',
  ]);
}

/**
 * What a person sees when a sign-in link they opened is refused: the server's sentence on a page
 * (the API's JSON error means nothing in a browser tab), with no script and nothing inline.
 */
export function signInRefusedPage(message: string): string {
  return page('Sign-in refused', [
    `<p>${escapeHtml(message)}</p>`,
    '<p>A sign-in link works once and for 15 minutes. Ask an admin for a new one (the CLI command "console-link"), then open it here.</p>',
  ]);
}
