import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectDrift, readHsConfig, REPO_ROOT } from '../../server/src/cli/hs-config.ts';
import { AGENT_ROLES, OBJECT_TYPES } from '../../shared/crm-names.ts';
import { EXTENSION_API_PATH, PROJECT_FILES, WEBHOOK_PATH, hsConfigSchema, hsprojectSchema } from '../../shared/hubspot-project.ts';
import { TIERS } from '../../shared/policy.ts';
import { MATRIX_OBJECT_TYPES, MATRIX_ROLES, MATRIX_TIERS } from '../../shared/views/policy-matrix.ts';

const EXTENSION = path.join(REPO_ROOT, 'extension');
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(EXTENSION, file), 'utf8'));

function hsmetaFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : hsmetaFiles(full);
    return entry.name.endsWith('-hsmeta.json') ? [path.relative(EXTENSION, full)] : [];
  });
}

// No HubSpot account is reachable from CI, so the project is checked against the documented shapes here.
describe('the HubSpot project in extension/', () => {
  it('is a 2025.2 developer project', () => {
    expect(hsprojectSchema.safeParse(readJson('hsproject.json')).success).toBe(true);
  });

  it.each(Object.entries(PROJECT_FILES))('has %s in the shape HubSpot documents', (file, schema) => {
    const parsed = schema.safeParse(readJson(file));
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('holds no metadata file the generator does not know', () => {
    expect(hsmetaFiles(path.join(EXTENSION, 'src')).sort()).toEqual(Object.keys(PROJECT_FILES).sort());
  });

  it('points every entrypoint at a file that exists, with a package.json beside it for HubSpot to install', () => {
    for (const file of Object.keys(PROJECT_FILES)) {
      const { config } = readJson(file) as { config: { entrypoint?: string } };
      if (!config.entrypoint) continue;
      const entry = path.join(EXTENSION, 'src', config.entrypoint);
      expect(fs.existsSync(entry), `${file} → ${config.entrypoint}`).toBe(true);
      expect(fs.existsSync(path.join(path.dirname(entry), 'package.json')), `package.json beside ${config.entrypoint}`).toBe(true);
    }
  });

  it('imports nothing from outside extension/src at run time (HubSpot bundles only that folder; types are erased)', () => {
    const sources = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? (entry.name === 'node_modules' ? [] : sources(path.join(dir, entry.name))) : /\.tsx?$/.test(entry.name) ? [path.join(dir, entry.name)] : []));
    const leaving = sources(path.join(EXTENSION, 'src')).flatMap((file) =>
      [...fs.readFileSync(file, 'utf8').matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)]
        .map((match) => match[1]!)
        .filter((specifier) => specifier.startsWith('.') && !path.resolve(path.dirname(file), specifier).startsWith(path.join(EXTENSION, 'src')))
        .map((specifier) => `${path.relative(EXTENSION, file)} → ${specifier}`),
    );
    expect(leaving).toEqual([]);
  });

  it('lets the UI fetch from the backend in hs.config.json and nowhere else, and sends webhooks there', () => {
    const { backendBaseUrl, cardObjectTypes } = readHsConfig();
    const app = readJson('src/app/app-hsmeta.json') as { config: { permittedUrls: { fetch: string[] } } };
    expect(app.config.permittedUrls.fetch).toEqual([backendBaseUrl]);
    const webhooks = readJson('src/app/webhooks/webhooks-hsmeta.json') as { config: { settings: { targetUrl: string } } };
    expect(webhooks.config.settings.targetUrl).toBe(`${backendBaseUrl}${WEBHOOK_PATH}`);
    expect(fs.readFileSync(path.join(EXTENSION, 'src/app/lib/deployment.ts'), 'utf8')).toContain(`'${backendBaseUrl}${EXTENSION_API_PATH}'`);
    const card = readJson('src/app/cards/governance-card-hsmeta.json') as { config: { objectTypes: string[] } };
    expect(card.config.objectTypes).toEqual(cardObjectTypes);
  });

  it('is exactly what `npm run hs:config` generates from hs.config.json and shared/views', () => {
    expect(projectDrift()).toEqual([]);
  });
});

describe('hs.config.json', () => {
  const valid = { appName: 'Agent Governance', distribution: 'private', auth: 'static', backendBaseUrl: 'https://governance.example.com', accountId: null, cardObjectTypes: ['contacts'] };
  it.each([
    ['a marketplace app with static auth', { distribution: 'marketplace' }, 'auth'],
    ['OAuth without a redirect URL', { auth: 'oauth' }, 'oauthRedirectUrls'],
    ['a backend over plain http', { backendBaseUrl: 'http://governance.example.com' }, 'backendBaseUrl'],
    ['a backend URL with a path', { backendBaseUrl: 'https://governance.example.com/api' }, 'backendBaseUrl'],
    ['a card on an object the app does not govern', { cardObjectTypes: ['tickets'] }, 'cardObjectTypes'],
  ])('refuses %s', (_what, change, field) => {
    const parsed = hsConfigSchema.safeParse({ ...valid, ...change });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => String(issue.path[0]))).toContain(field);
  });

  it('accepts OAuth for many accounts with a redirect URL', () => {
    expect(hsConfigSchema.safeParse({ ...valid, distribution: 'marketplace', auth: 'oauth', oauthRedirectUrls: ['https://governance.example.com/oauth/callback'] }).success).toBe(true);
  });
});

describe('the view logic copied into the extension', () => {
  // The copy cannot import shared/ at run time (HubSpot bundles only extension/src), so it repeats these lists.
  it('knows the same object types, agent roles and tiers as the policy', () => {
    expect([...MATRIX_ROLES]).toEqual([...AGENT_ROLES]);
    expect([...MATRIX_TIERS]).toEqual([...TIERS]);
    expect([...MATRIX_OBJECT_TYPES]).toEqual([...OBJECT_TYPES]);
  });
});
