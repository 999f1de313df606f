import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

const get = (path: string) => fetch(`${harness.url}${path}`);

describe('/docs, the browsable API reference', () => {
  it('serves a page that loads Swagger UI from this server and points it at /v1/openapi.json, under a strict CSP', async () => {
    const page = await get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await page.text();
    for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!)) {
      expect(src.startsWith('/docs/'), src).toBe(true);
      expect((await get(src)).status, src).toBe(200);
    }
    expect(await (await get('/docs/start.js')).text()).toContain("url: '/v1/openapi.json'");
    expect(await (await get('/docs/swagger-ui-bundle.js')).text()).toContain('SwaggerUIBundle');
  });

  it("serves none of the package's other files, such as its demo page pointing at someone else's API", async () => {
    for (const path of [
      '/docs/index.html',
      '/docs/swagger-initializer.js',
      '/docs/package.json',
      '/docs/%2e%2e/package.json',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
  });
});
