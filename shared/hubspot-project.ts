import { z } from 'zod';
import { HUBSPOT_OBJECT_TYPES } from './crm-names.ts';

type HubSpotObjectType = (typeof HUBSPOT_OBJECT_TYPES)[number];
import type { Policy } from './policy.ts';
import { safeText } from './safe-text.ts';

/**
 * The HubSpot developer project in extension/ (issue 8), generated from the top-level
 * hs.config.json so one file changes per deployment. The *-hsmeta.json shapes below are the
 * ones HubSpot documents for platforms 2025.2 and 2026.03 (app, card, settings, app home page, webhooks),
 * plus the bulk action of the 2026.09 beta; no HubSpot account is reachable from CI, so
 * `npm test` checks the project against them.
 */

/**
 * The released platform the project targets. 2026.03 is the current GA version: it adds serverless
 * functions for static-auth apps (this app has none) and keeps every 2025.2 component shape this
 * project uses (app, card, settings, home page, webhooks), per HubSpot's migration guide.
 */
export const PLATFORM_VERSION = '2026.03';
/**
 * Bulk actions on index pages exist only on this beta (HubSpot's "Create a bulk action (BETA)"
 * guide; the CLI's own 2026.09-beta templates spell the version this way), so they are opt-in.
 */
export const BULK_ACTIONS_PLATFORM_VERSION = '2026.09-beta';
export const EXTENSION_API_PATH = '/v1/extension';
export const WEBHOOK_PATH = '/webhooks/hubspot';

const httpsOrigin = z
  .url({ protocol: /^https$/, error: 'must be an https URL (HubSpot only fetches from https origins)' })
  // The origin alone: a query or fragment went on into the webhook URL and, unescaped, into the code of deployment.ts.
  .refine(
    (url) => new URL(url).origin === url,
    'must be an origin with no path, query, fragment or trailing slash, such as https://governance.example.com',
  );

export const hsConfigSchema = z
  .strictObject({
    $comment: safeText.optional(),
    appName: safeText.trim().min(1).max(200),
    /** private: installed in named accounts; marketplace: listed (OAuth only). */
    distribution: z.enum(['private', 'marketplace']),
    /** static: one account, a static token; oauth: many accounts. */
    auth: z.enum(['static', 'oauth']),
    /** Where HubSpot sends people after consent; required with OAuth. */
    oauthRedirectUrls: z.array(z.url({ protocol: /^https?$/ })).default([]),
    backendBaseUrl: httpsOrigin,
    /** The HubSpot account `hs project upload` targets; not part of the metadata. */
    accountId: z.number().int().positive().nullable(),
    /** Which objects get the record card (and, when on, the bulk action on their index pages). */
    cardObjectTypes: z.array(z.enum(HUBSPOT_OBJECT_TYPES)).min(1),
    /**
     * The Agent Approval object's id in the one account this deployment serves, as `bootstrap`
     * prints it (`2-…`, different in every account): subscribes the webhooks to its status.
     */
    approvalObjectTypeId: safeText
      .regex(/^2-[0-9]{1,18}$/, 'must be a custom object type id such as 2-1234567, as bootstrap prints it')
      .nullable()
      .default(null),
    /** The bulk action on index pages, a HubSpot beta: on moves the project to the beta platform. */
    bulkActions: z.boolean().default(false),
    /**
     * The policy document this deployment publishes, relative to the repository root: every contact and
     * deal property it names gets a webhook subscription, so people's edits of them reach the server.
     */
    policyFile: safeText.min(1).default('examples/policy.json'),
  })
  .superRefine((config, ctx) => {
    if (config.distribution === 'marketplace' && config.auth !== 'oauth')
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: 'must be oauth: marketplace apps install in many accounts',
      });
    if (config.auth === 'oauth' && config.oauthRedirectUrls.length === 0)
      ctx.addIssue({ code: 'custom', path: ['oauthRedirectUrls'], message: 'needs at least one URL with OAuth' });
    // HubSpot takes webhook subscriptions on custom objects only from private apps, and a marketplace app's accounts each have their own id.
    if (config.distribution === 'marketplace' && config.approvalObjectTypeId !== null)
      ctx.addIssue({
        code: 'custom',
        path: ['approvalObjectTypeId'],
        message:
          'must be null for a marketplace app: custom-object webhooks are for private apps, and each account has its own id',
      });
  });
export type HsConfig = z.infer<typeof hsConfigSchema>;

const scopeSchema = safeText.regex(/^[a-z][a-z0-9_.-]*$/);
const entrypointSchema = safeText.regex(
  /^\/app\/[A-Za-z0-9_/-]+\.(tsx|jsx)$/,
  'must be a path under /app ending in .tsx or .jsx',
);
const uidSchema = safeText.regex(/^[A-Za-z0-9_-]{1,64}$/);

export const hsprojectSchema = z.strictObject({
  name: safeText.min(1),
  srcDir: z.literal('src'),
  platformVersion: z.enum([PLATFORM_VERSION, BULK_ACTIONS_PLATFORM_VERSION]),
});

export const appMetaSchema = z.strictObject({
  uid: uidSchema,
  type: z.literal('app'),
  config: z.strictObject({
    name: safeText.min(1),
    description: safeText.min(1),
    distribution: z.enum(['private', 'marketplace']),
    auth: z.strictObject({
      type: z.enum(['static', 'oauth']),
      redirectUrls: z.array(z.url()).optional(),
      requiredScopes: z.array(scopeSchema).min(1),
      optionalScopes: z.array(scopeSchema),
      conditionallyRequiredScopes: z.array(scopeSchema),
    }),
    permittedUrls: z.strictObject({ fetch: z.array(z.url()), iframe: z.array(z.url()), img: z.array(z.url()) }),
  }),
});

export const cardMetaSchema = z.strictObject({
  uid: uidSchema,
  type: z.literal('card'),
  config: z.strictObject({
    name: safeText.min(1),
    description: safeText,
    location: z.enum(['crm.record.tab', 'crm.record.sidebar', 'crm.preview', 'helpdesk.sidebar']),
    entrypoint: entrypointSchema,
    objectTypes: z.array(safeText.min(1)).min(1),
  }),
});

export const settingsMetaSchema = z.strictObject({
  uid: uidSchema,
  type: z.literal('settings'),
  config: z.strictObject({ name: safeText.min(1), entrypoint: entrypointSchema }),
});

export const homePageMetaSchema = z.strictObject({
  uid: uidSchema,
  type: z.literal('page'),
  config: z.strictObject({ entrypoint: entrypointSchema, location: z.literal('home') }),
});

export const bulkActionMetaSchema = z.strictObject({
  uid: uidSchema,
  type: z.literal('crm-bulk-action'),
  config: z.strictObject({
    label: safeText.min(1),
    entrypoint: entrypointSchema,
    objectTypes: z.array(safeText.min(1)).min(1),
    displayMode: z.enum(['PANEL', 'MODAL']),
    /** A name of the SDK's Icon component. */
    icon: safeText.min(1),
  }),
});

const legacySubscriptionSchema = z.strictObject({
  subscriptionType: safeText.regex(/^(contact|deal|company|ticket)\.[a-zA-Z]+$/),
  propertyName: safeText.optional(),
  active: z.boolean(),
});
/** The generic form; `objectType` names a standard object or, in a private app, a custom object's type id. */
const crmObjectSubscriptionSchema = z.strictObject({
  subscriptionType: safeText.regex(/^object\.[a-zA-Z]+$/),
  objectType: safeText.min(1),
  propertyName: safeText.optional(),
  active: z.boolean(),
});
export const webhooksMetaSchema = z.strictObject({
  uid: uidSchema,
  type: z.literal('webhooks'),
  config: z.strictObject({
    settings: z.strictObject({ targetUrl: z.url(), maxConcurrentRequests: z.number().int().min(5).max(100) }),
    subscriptions: z.strictObject({
      crmObjects: z.array(crmObjectSubscriptionSchema),
      legacyCrmObjects: z.array(legacySubscriptionSchema),
      hubEvents: z.array(z.unknown()),
    }),
  }),
});

/** Each generated file, with the schema it must satisfy; entrypoints point at hand-written components. */
export const PROJECT_FILES = {
  'hsproject.json': hsprojectSchema,
  'src/app/app-hsmeta.json': appMetaSchema,
  'src/app/cards/governance-card-hsmeta.json': cardMetaSchema,
  'src/app/settings/settings-hsmeta.json': settingsMetaSchema,
  'src/app/pages/home-hsmeta.json': homePageMetaSchema,
  'src/app/webhooks/webhooks-hsmeta.json': webhooksMetaSchema,
  // HubSpot requires bulk actions in app/actions/.
  'src/app/actions/decide-approvals-hsmeta.json': bulkActionMetaSchema,
} as const;
export type ProjectFile = keyof typeof PROJECT_FILES;
type ProjectContent = { [File in ProjectFile]: z.infer<(typeof PROJECT_FILES)[File]> };
/** Present only when hs.config.json turns them on; otherwise the file must not exist. */
type OptionalFile = 'src/app/actions/decide-approvals-hsmeta.json';

/**
 * What the backend does with HubSpot, and no more: read and write every governed object type
 * (whichever carry the card), create
 * their provenance properties (bootstrap). The approval mirror's custom object needs the custom
 * scopes, optional so an account can install the app before it is bootstrapped.
 */
function scopes() {
  return {
    requiredScopes: [
      ...HUBSPOT_OBJECT_TYPES.flatMap((type) => [
        `crm.objects.${type}.read`,
        `crm.objects.${type}.write`,
        `crm.schemas.${type}.read`,
        `crm.schemas.${type}.write`,
      ]),
      // A person's HubSpot teams (GET /settings/v3/users/{userId}) give their role when they have none of their own; the teams list names them on the settings page.
      'settings.users.read',
      'settings.users.teams.read',
      // A rep decides on records they own: records name HubSpot owners, read through the Owners API (GET /crm/v3/owners).
      'crm.objects.owners.read',
    ],
    optionalScopes: [
      'crm.objects.custom.read',
      'crm.objects.custom.write',
      'crm.schemas.custom.read',
      'crm.schemas.custom.write',
    ],
    conditionallyRequiredScopes: [],
  };
}

/** HubSpot allows an app this many webhook subscriptions ("Announcing new limits for Developer Accounts and Applications"). */
export const MAX_WEBHOOK_SUBSCRIPTIONS = 1_000;

const LEGACY_OBJECT_NAMES: Record<HubSpotObjectType, string> = { contacts: 'contact', deals: 'deal' };

/**
 * Every property of each object type the policy names: in its tier matrix (denied ones too, so an
 * agent writing around us is seen) and in its record conditions. The stale-approval, bypass and
 * velocity rules need a webhook for each; HubSpot sends propertyChange only for a named property.
 */
export function governedProperties(policy: Policy): Record<HubSpotObjectType, string[]> {
  const governed = Object.fromEntries(
    HUBSPOT_OBJECT_TYPES.map((type) => [type, new Set(Object.keys(policy.objects[type]?.properties ?? {}))]),
  ) as Record<HubSpotObjectType, Set<string>>;
  for (const condition of policy.conditions) {
    if (condition.kind === 'record_matches')
      governed[condition.objectType as HubSpotObjectType]?.add(condition.property);
  }
  return Object.fromEntries(HUBSPOT_OBJECT_TYPES.map((type) => [type, [...governed[type]].sort()])) as Record<
    HubSpotObjectType,
    string[]
  >;
}

/** Subscriptions the webhook intake (issue 6) classifies: each governed property's changes, deletions and merges of governed objects. */
function legacySubscriptions(policy: Policy) {
  const governed = governedProperties(policy);
  return HUBSPOT_OBJECT_TYPES.flatMap((type) => {
    const object = LEGACY_OBJECT_NAMES[type];
    return [
      ...governed[type].map((propertyName) => ({
        subscriptionType: `${object}.propertyChange`,
        propertyName,
        active: true,
      })),
      { subscriptionType: `${object}.deletion`, active: true },
      { subscriptionType: `${object}.merge`, active: true },
    ];
  });
}

/** Governed properties with no propertyChange subscription in a webhooks file: people's edits of them would never reach the server. */
export function unsubscribedProperties(
  legacyCrmObjects: readonly { subscriptionType: string; propertyName?: string | undefined }[],
  policy: Policy,
): string[] {
  const subscribed = new Set(
    legacyCrmObjects.map((subscription) => `${subscription.subscriptionType}:${subscription.propertyName ?? ''}`),
  );
  const governed = governedProperties(policy);
  return HUBSPOT_OBJECT_TYPES.flatMap((type) =>
    governed[type]
      .filter((property) => !subscribed.has(`${LEGACY_OBJECT_NAMES[type]}.propertyChange:${property}`))
      .map((property) => `${type}.${property}`),
  );
}

/** The Agent Approval property whose change inside HubSpot the server reconciles as a decision (issue 6). */
const APPROVAL_STATUS_PROPERTY = 'ag_status';

/** A person deciding on the Agent Approval record in HubSpot: its status changes, once the account's object type id is known. */
function approvalSubscriptions(config: HsConfig) {
  return config.approvalObjectTypeId === null
    ? []
    : [
        {
          subscriptionType: 'object.propertyChange',
          objectType: config.approvalObjectTypeId,
          propertyName: APPROVAL_STATUS_PROPERTY,
          active: true,
        },
      ];
}

export function generateProjectFiles(
  config: HsConfig,
  policy: Policy,
): Omit<ProjectContent, OptionalFile> & Partial<Pick<ProjectContent, OptionalFile>> {
  const crmObjects = approvalSubscriptions(config);
  const legacyCrmObjects = legacySubscriptions(policy);
  const subscriptions = crmObjects.length + legacyCrmObjects.length;
  if (subscriptions > MAX_WEBHOOK_SUBSCRIPTIONS) {
    throw new Error(
      `The policy in ${config.policyFile} needs ${subscriptions} webhook subscriptions; HubSpot allows an app ${MAX_WEBHOOK_SUBSCRIPTIONS}. Govern fewer properties.`,
    );
  }
  return {
    'hsproject.json': {
      name: 'agent-governance',
      srcDir: 'src',
      platformVersion: config.bulkActions ? BULK_ACTIONS_PLATFORM_VERSION : PLATFORM_VERSION,
    },
    'src/app/app-hsmeta.json': {
      uid: 'agent_governance_app',
      type: 'app',
      config: {
        name: config.appName,
        description:
          'Puts AI agents under control inside the CRM: per-field policy, approvals, provenance, audit and rollback.',
        distribution: config.distribution,
        auth: {
          type: config.auth,
          ...(config.auth === 'oauth' ? { redirectUrls: config.oauthRedirectUrls } : {}),
          ...scopes(),
        },
        permittedUrls: { fetch: [config.backendBaseUrl], iframe: [], img: [] },
      },
    },
    'src/app/cards/governance-card-hsmeta.json': {
      uid: 'agent_governance_card',
      type: 'card',
      config: {
        name: config.appName,
        description: 'What agents want to change on this record, and what they changed.',
        location: 'crm.record.sidebar',
        entrypoint: '/app/cards/GovernanceCard.tsx',
        objectTypes: config.cardObjectTypes,
      },
    },
    'src/app/settings/settings-hsmeta.json': {
      uid: 'agent_governance_settings',
      type: 'settings',
      config: { name: `${config.appName} settings`, entrypoint: '/app/settings/Settings.tsx' },
    },
    'src/app/pages/home-hsmeta.json': {
      uid: 'agent_governance_home',
      type: 'page',
      config: { entrypoint: '/app/pages/Home.tsx', location: 'home' },
    },
    'src/app/webhooks/webhooks-hsmeta.json': {
      uid: 'agent_governance_webhooks',
      type: 'webhooks',
      config: {
        settings: { targetUrl: `${config.backendBaseUrl}${WEBHOOK_PATH}`, maxConcurrentRequests: 10 },
        subscriptions: { crmObjects, legacyCrmObjects, hubEvents: [] },
      },
    },
    ...(config.bulkActions
      ? {
          'src/app/actions/decide-approvals-hsmeta.json': {
            uid: 'agent_governance_bulk_decisions',
            type: 'crm-bulk-action',
            config: {
              label: 'Decide agent proposals',
              entrypoint: '/app/actions/BulkDecisions.tsx',
              objectTypes: config.cardObjectTypes,
              displayMode: 'PANEL',
              icon: 'approvals',
            },
          },
        }
      : {}),
  };
}

/** The files as committed: two-space JSON with a final newline. */
export function serialize(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
