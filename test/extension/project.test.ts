import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  missingSubscriptions,
  projectDrift,
  readDeploymentPolicy,
  readHsConfig,
  REPO_ROOT,
  writeProject,
} from '../../server/src/cli/hs-config.ts';
import { APPROVAL_OBJECT_SCHEMA } from '../../server/src/services/governance/index.ts';
import { AGENT_ROLES, OBJECT_TYPES } from '../../shared/crm-names.ts';
import {
  BULK_ACTIONS_PLATFORM_VERSION,
  EXTENSION_API_PATH,
  MAX_WEBHOOK_SUBSCRIPTIONS,
  PLATFORM_VERSION,
  PROJECT_FILES,
  WEBHOOK_PATH,
  generateProjectFiles as generateFromPolicy,
  governedProperties,
  hsConfigSchema,
  type HsConfig,
} from '../../shared/hubspot-project.ts';
import type { Policy } from '../../shared/policy.ts';
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

/** The committed configuration with every optional feature on, so the checks below cover the beta files too. */
const everythingOn = (): HsConfig => ({ ...readHsConfig(), bulkActions: true, approvalObjectTypeId: '2-1234567' });
const schemaOf = (file: string) => PROJECT_FILES[file as keyof typeof PROJECT_FILES];
/** The files generated from a configuration and the policy the committed hs.config.json names. */
const generateProjectFiles = (config: HsConfig, policy: Policy = readDeploymentPolicy()) =>
  generateFromPolicy(config, policy);

// No HubSpot account is reachable from CI, so the project is checked against the documented shapes here.
describe('the HubSpot project in extension/', () => {
  it('targets the released platform unless the beta bulk action is turned on', () => {
    expect(readJson('hsproject.json')).toMatchObject({
      platformVersion: readHsConfig().bulkActions ? BULK_ACTIONS_PLATFORM_VERSION : PLATFORM_VERSION,
    });
  });

  it.each(Object.keys(generateProjectFiles(readHsConfig())))('has %s in the shape HubSpot documents', (file) => {
    const parsed = schemaOf(file).safeParse(readJson(file));
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('generates every optional feature in the shape HubSpot documents', () => {
    for (const [file, content] of Object.entries(generateProjectFiles(everythingOn())))
      expect(schemaOf(file).safeParse(content).error?.issues ?? [], file).toEqual([]);
  });

  it('holds no metadata file the generator does not make', () => {
    const generated = Object.keys(generateProjectFiles(readHsConfig())).filter((file) => file.endsWith('-hsmeta.json'));
    expect(hsmetaFiles(path.join(EXTENSION, 'src')).sort()).toEqual(generated.sort());
  });

  it('points every entrypoint, optional features included, at a file that exists, with a package.json beside it for HubSpot to install', () => {
    for (const [file, content] of Object.entries(generateProjectFiles(everythingOn()))) {
      const entrypoint = 'config' in content ? (content.config as { entrypoint?: string }).entrypoint : undefined;
      if (!entrypoint) continue;
      const entry = path.join(EXTENSION, 'src', entrypoint);
      expect(fs.existsSync(entry), `${file} → ${entrypoint}`).toBe(true);
      expect(fs.existsSync(path.join(path.dirname(entry), 'package.json')), `package.json beside ${entrypoint}`).toBe(
        true,
      );
    }
  });

  it('imports nothing from outside extension/src at run time (HubSpot bundles only that folder; types are erased)', () => {
    const sources = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((entry) =>
          entry.isDirectory()
            ? entry.name === 'node_modules'
              ? []
              : sources(path.join(dir, entry.name))
            : /\.tsx?$/.test(entry.name)
              ? [path.join(dir, entry.name)]
              : [],
        );
    const leaving = sources(path.join(EXTENSION, 'src')).flatMap((file) =>
      [...fs.readFileSync(file, 'utf8').matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)]
        .map((match) => match[1]!)
        .filter(
          (specifier) =>
            specifier.startsWith('.') &&
            !path.resolve(path.dirname(file), specifier).startsWith(path.join(EXTENSION, 'src')),
        )
        .map((specifier) => `${path.relative(EXTENSION, file)} → ${specifier}`),
    );
    expect(leaving).toEqual([]);
  });

  it('lets the UI fetch from the backend in hs.config.json and nowhere else, and sends webhooks there', () => {
    const { backendBaseUrl, cardObjectTypes } = readHsConfig();
    const app = readJson('src/app/app-hsmeta.json') as { config: { permittedUrls: { fetch: string[] } } };
    expect(app.config.permittedUrls.fetch).toEqual([backendBaseUrl]);
    const webhooks = readJson('src/app/webhooks/webhooks-hsmeta.json') as {
      config: { settings: { targetUrl: string } };
    };
    expect(webhooks.config.settings.targetUrl).toBe(`${backendBaseUrl}${WEBHOOK_PATH}`);
    expect(fs.readFileSync(path.join(EXTENSION, 'src/app/lib/deployment.ts'), 'utf8')).toContain(
      `'${backendBaseUrl}${EXTENSION_API_PATH}'`,
    );
    const card = readJson('src/app/cards/governance-card-hsmeta.json') as { config: { objectTypes: string[] } };
    expect(card.config.objectTypes).toEqual(cardObjectTypes);
  });

  it("requires the scope of every HubSpot API the server reads or writes for the app, per HubSpot's API reference", () => {
    const app = readJson('src/app/app-hsmeta.json') as { config: { auth: { requiredScopes: string[] } } };
    const needed = {
      'records and their properties (batch read/update, properties API)': OBJECT_TYPES.flatMap((type) => [
        `crm.objects.${type}.read`,
        `crm.objects.${type}.write`,
        `crm.schemas.${type}.write`,
      ]),
      "a person's teams (GET /settings/v3/users/{userId})": ['settings.users.read', 'settings.users.teams.read'],
      "a rep's owner id (GET /crm/v3/owners)": ['crm.objects.owners.read'],
    };
    for (const [api, scopes] of Object.entries(needed))
      expect(app.config.auth.requiredScopes, api).toEqual(expect.arrayContaining(scopes));
  });

  it('is exactly what `npm run hs:config` generates from hs.config.json and shared/views', () => {
    expect(projectDrift()).toEqual([]);
  });

  it('subscribes to the changes of every property the policy governs, each by name, as HubSpot documents propertyChange', () => {
    const webhooks = readJson('src/app/webhooks/webhooks-hsmeta.json') as {
      config: { subscriptions: { legacyCrmObjects: { subscriptionType: string; propertyName?: string }[] } };
    };
    const propertyChanges = webhooks.config.subscriptions.legacyCrmObjects.filter((subscription) =>
      subscription.subscriptionType.endsWith('.propertyChange'),
    );
    expect(propertyChanges.filter((subscription) => subscription.propertyName === undefined)).toEqual([]);
    const governed = governedProperties(readDeploymentPolicy());
    expect(governed.contacts).toEqual(
      expect.arrayContaining(['jobtitle', 'company', 'hs_email_optout', 'lifecyclestage']),
    );
    expect(
      propertyChanges.map((subscription) => `${subscription.subscriptionType}:${subscription.propertyName}`).sort(),
    ).toEqual(
      [
        ...governed.contacts.map((property) => `contact.propertyChange:${property}`),
        ...governed.deals.map((property) => `deal.propertyChange:${property}`),
      ].sort(),
    );
    expect(missingSubscriptions()).toEqual([]);
  });
});

describe('optional features generated from hs.config.json', () => {
  it("subscribes the webhooks to the Agent Approval object's status once its type id is set, and to nothing of it before", () => {
    const webhooks = (config: HsConfig) =>
      generateProjectFiles(config)['src/app/webhooks/webhooks-hsmeta.json'].config.subscriptions.crmObjects;
    expect(webhooks({ ...readHsConfig(), approvalObjectTypeId: null })).toEqual([]);
    const [subscription, ...others] = webhooks(everythingOn());
    expect(others).toEqual([]);
    expect(subscription).toEqual({
      subscriptionType: 'object.propertyChange',
      objectType: '2-1234567',
      propertyName: expect.any(String),
      active: true,
    });
    // The property the approval reconciliation reads is one bootstrap creates on the object.
    expect(APPROVAL_OBJECT_SCHEMA.properties.map((property) => property.name)).toContain(subscription?.propertyName);
  });

  it('adds the bulk action on the card object types and moves the project to the beta platform only when turned on', () => {
    const off = generateProjectFiles({ ...readHsConfig(), bulkActions: false });
    expect(off['src/app/actions/decide-approvals-hsmeta.json']).toBeUndefined();
    expect(off['hsproject.json'].platformVersion).toBe(PLATFORM_VERSION);
    const on = generateProjectFiles(everythingOn());
    expect(on['hsproject.json'].platformVersion).toBe(BULK_ACTIONS_PLATFORM_VERSION);
    expect(on['src/app/actions/decide-approvals-hsmeta.json']?.config).toMatchObject({
      objectTypes: readHsConfig().cardObjectTypes,
      entrypoint: '/app/actions/BulkDecisions.tsx',
    });
  });

  it('writes the bulk action when turned on, calls the project out of date when it is turned off again, and removes it then', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-config-'));
    try {
      fs.symlinkSync(path.join(REPO_ROOT, 'shared'), path.join(root, 'shared'));
      fs.symlinkSync(path.join(REPO_ROOT, 'examples'), path.join(root, 'examples'));
      const configure = (change: Partial<HsConfig>) =>
        fs.writeFileSync(
          path.join(root, 'hs.config.json'),
          JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'hs.config.json'), 'utf8')), ...change }),
        );
      const bulkMeta = 'extension/src/app/actions/decide-approvals-hsmeta.json';
      configure({ bulkActions: true });
      expect(writeProject(root).written).toContain(bulkMeta);
      expect(projectDrift(root)).toEqual([]);
      configure({ bulkActions: false });
      expect(projectDrift(root)).toEqual(expect.arrayContaining(['extension/hsproject.json', bulkMeta]));
      expect(writeProject(root).removed).toEqual([bulkMeta]);
      expect(projectDrift(root)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('webhook subscriptions generated from the policy', () => {
  it('calls the project out of date, naming the property, when the policy comes to govern one with no subscription', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-config-'));
    try {
      fs.symlinkSync(path.join(REPO_ROOT, 'shared'), path.join(root, 'shared'));
      const policy = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples/policy.json'), 'utf8'));
      fs.writeFileSync(path.join(root, 'policy.json'), JSON.stringify(policy));
      fs.writeFileSync(
        path.join(root, 'hs.config.json'),
        JSON.stringify({
          ...JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'hs.config.json'), 'utf8')),
          policyFile: 'policy.json',
        }),
      );
      writeProject(root);
      expect(projectDrift(root)).toEqual([]);
      policy.objects.contacts.properties.website = { enrichment: 'auto' };
      fs.writeFileSync(path.join(root, 'policy.json'), JSON.stringify(policy));
      expect(projectDrift(root)).toEqual(['extension/src/app/webhooks/webhooks-hsmeta.json']);
      expect(missingSubscriptions(root)).toEqual(['contacts.website']);
      writeProject(root);
      expect(missingSubscriptions(root)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it(`refuses a policy that needs more than HubSpot's ${MAX_WEBHOOK_SUBSCRIPTIONS} subscriptions per app`, () => {
    const policy = readDeploymentPolicy();
    const many = Object.fromEntries(
      Array.from({ length: MAX_WEBHOOK_SUBSCRIPTIONS }, (_, i) => [`custom_${i}`, { enrichment: 'auto' as const }]),
    );
    const huge: Policy = {
      ...policy,
      objects: { ...policy.objects, contacts: { properties: { ...policy.objects.contacts?.properties, ...many } } },
    };
    expect(() => generateProjectFiles(readHsConfig(), huge)).toThrow(/allows an app 1000/);
  });
});

describe('hs.config.json', () => {
  const valid = {
    appName: 'Agent Governance',
    distribution: 'private',
    auth: 'static',
    backendBaseUrl: 'https://governance.example.com',
    accountId: null,
    cardObjectTypes: ['contacts'],
  };
  it.each([
    ['a marketplace app with static auth', { distribution: 'marketplace' }, 'auth'],
    ['OAuth without a redirect URL', { auth: 'oauth' }, 'oauthRedirectUrls'],
    ['a backend over plain http', { backendBaseUrl: 'http://governance.example.com' }, 'backendBaseUrl'],
    ['a backend URL with a path', { backendBaseUrl: 'https://governance.example.com/api' }, 'backendBaseUrl'],
    [
      'a backend URL with a query that would end the quoted string in deployment.ts',
      { backendBaseUrl: "https://governance.example.com?a=';globalThis.x=1;'" },
      'backendBaseUrl',
    ],
    ['a backend URL with a fragment', { backendBaseUrl: 'https://governance.example.com#top' }, 'backendBaseUrl'],
    ['a backend URL with credentials', { backendBaseUrl: 'https://user:pw@governance.example.com' }, 'backendBaseUrl'],
    ['a card on an object the app does not govern', { cardObjectTypes: ['tickets'] }, 'cardObjectTypes'],
    [
      'an approval object named rather than given by its type id',
      { approvalObjectTypeId: 'p42_agent_approval' },
      'approvalObjectTypeId',
    ],
    [
      'an approval object type id in a marketplace app',
      {
        distribution: 'marketplace',
        auth: 'oauth',
        oauthRedirectUrls: ['https://governance.example.com/oauth/callback'],
        approvalObjectTypeId: '2-1234567',
      },
      'approvalObjectTypeId',
    ],
  ])('refuses %s', (_what, change, field) => {
    const parsed = hsConfigSchema.safeParse({ ...valid, ...change });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => String(issue.path[0]))).toContain(field);
  });

  it('names the file when it is not JSON at all', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-hs-config-'));
    try {
      fs.writeFileSync(path.join(root, 'hs.config.json'), '{\n  "appName": "Agent Governance",\n');
      expect(() => readHsConfig(root)).toThrow(/^hs\.config\.json is not valid JSON: /);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('accepts OAuth for many accounts with a redirect URL', () => {
    expect(
      hsConfigSchema.safeParse({
        ...valid,
        distribution: 'marketplace',
        auth: 'oauth',
        oauthRedirectUrls: ['https://governance.example.com/oauth/callback'],
      }).success,
    ).toBe(true);
  });

  it('leaves the beta bulk action off and the approval subscription out unless asked for', () => {
    expect(hsConfigSchema.parse(valid)).toMatchObject({ bulkActions: false, approvalObjectTypeId: null });
    expect(hsConfigSchema.parse({ ...valid, bulkActions: true, approvalObjectTypeId: '2-1234567' })).toMatchObject({
      bulkActions: true,
      approvalObjectTypeId: '2-1234567',
    });
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
