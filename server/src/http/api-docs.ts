import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';

// swagger-ui-dist is the browsable reference, served from our own origin: nothing is fetched from a CDN.
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS = new Set(['/swagger-ui.css', '/swagger-ui-bundle.js', '/favicon-32x32.png']);

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Agent Governance API</title>
<link rel="icon" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
`;

// The document is read from this server; "try it out" sends requests to it with the token a person pastes.
const START = `window.ui = SwaggerUIBundle({ url: '/v1/openapi.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false });\n`;

/** `/docs`: the OpenAPI document (`/v1/openapi.json`) as a browsable page. */
export function apiDocsRoutes(): Router {
  const router = Router();
  router.use('/docs', (_req, res, next) => {
    // Scripts only from this origin; Swagger UI sets styles inline, and its logos are data URLs.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    );
    next();
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/docs/start.js', (_req, res) => {
    res.type('js').send(START);
  });
  router.use('/docs', (req, res, next) =>
    ASSETS.has(req.path)
      ? next()
      : res.status(404).json({
          error: {
            code: 'NOT_FOUND',
            message: `No route ${req.method} /docs${req.path}.`,
            requestId: res.locals.requestId,
          },
        }),
  );
  router.use('/docs', express.static(SWAGGER_UI_DIR, { index: false, maxAge: '1h' }));
  return router;
}
