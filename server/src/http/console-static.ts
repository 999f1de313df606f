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

/**
 * What a person sees when a sign-in link they opened is refused: the server's sentence on a page
 * (the API's JSON error means nothing in a browser tab), with no script and nothing inline.
 */
export function signInRefusedPage(message: string): string {
  const escaped = message.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Sign-in refused · Agent Governance</title></head>',
    '<body><main><h1>Agent Governance</h1>',
    `<p>${escaped}</p>`,
    '<p>A sign-in link works once and for 15 minutes. Ask an admin for a new one (the CLI command "console-link"), then open it here.</p>',
    '</main></body></html>',
  ].join('\n');
}
