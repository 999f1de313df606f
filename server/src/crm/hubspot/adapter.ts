import { Client } from '@hubspot/api-client';
import { HUBSPOT_OBJECT_TYPES } from '../../../../shared/crm-names.ts';
import type { CrmPort } from '../port.ts';
import { accountApis, accountMethods } from './account.ts';
import { associationApis, associationMethods } from './associations.ts';
import { HUBSPOT_CONTACT_FIELDS, hubspotChangeSource, userOfSourceId } from './change-sources.ts';
import { creationApis, creationMethods } from './creation.ts';
import { customObjectApis, customObjectMethods } from './custom-objects.ts';
import { engagementApis, engagementMethods } from './engagements.ts';
import { listApis, listMethods } from './lists.ts';
import { pacer, type RateLimit } from './pacing.ts';
import { propertyApis, propertyMethods } from './properties.ts';
import { propertyHistoryMethods } from './property-history.ts';
import { BATCH_LIMIT, recordApis, recordMethods } from './records.ts';
import { DEFAULT_RETRY_POLICY, type RetryDeps, type RetryPolicy, type TokenRefusal } from './retry.ts';
import { userApis, userMethods } from './users.ts';

export interface HubSpotCrmOptions {
  accessToken: string;
  /** HubSpot's API root; point it at the fake in tests and benchmarks. */
  basePath?: string;
  /** Our HubSpot app id: the `sourceId` HubSpot records on our writes. */
  appId?: string;
  /** Pace calls so HubSpot's rolling window is never exceeded (private apps: 100 or 190 per 10 s). */
  rateLimit?: RateLimit;
  retry?: Partial<RetryPolicy>;
  /** How long property definitions stay cached per object type; default 10 minutes. */
  propertyCacheMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /**
   * Told, once in the adapter's life (it lives as long as its token), that HubSpot answered 401 to
   * a call: its category (`INVALID_AUTHENTICATION`). From then on every call but the token check
   * (`readAccount`) fails at once with that answer, nothing sent.
   */
  onAuthRefused?: (category: string) => void;
}

export interface HubSpotCrm extends CrmPort {
  readonly vendor: 'hubspot';
  readonly appId: string | undefined;
}

const DEFAULT_PROPERTY_CACHE_MS = 10 * 60_000;

/** The CrmPort over HubSpot's APIs, a module per capability; every call is paced and retried alike. */
export function createHubSpotCrm(options: HubSpotCrmOptions): HubSpotCrm {
  const now = options.now ?? Date.now;
  const asking: RetryDeps = {
    policy: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
  };
  const refusal: TokenRefusal = {
    refused: undefined,
    ...(options.onAuthRefused ? { onRefused: options.onAuthRefused } : {}),
  };
  const retry: RetryDeps = { ...asking, refusal };
  const client = createClient(options);
  const paced = pacer(options.rateLimit);
  const records = recordApis(client, paced);
  return {
    vendor: 'hubspot',
    batchLimit: BATCH_LIMIT,
    ownerProperty: 'hubspot_owner_id',
    objectTypes: HUBSPOT_OBJECT_TYPES,
    contactObjectType: 'contacts',
    checksPolicyFieldsAtPublish: false,
    contactFields: HUBSPOT_CONTACT_FIELDS,
    changeSourceOf: hubspotChangeSource,
    userOfSource: userOfSourceId,
    appId: options.appId,
    forObject() {
      return this;
    },
    ...recordMethods(records, retry),
    ...propertyHistoryMethods(records, retry, options.appId ?? null),
    ...creationMethods(creationApis(client, paced), retry),
    ...propertyMethods(propertyApis(client, paced), retry, {
      cacheMs: options.propertyCacheMs ?? DEFAULT_PROPERTY_CACHE_MS,
      now,
    }),
    ...customObjectMethods(customObjectApis(client, paced), retry),
    ...engagementMethods(engagementApis(client, paced), retry),
    ...userMethods(userApis(client, paced), retry, now),
    // The token check of `workspace add`/`update` always asks: it is how a refused token is told apart.
    ...accountMethods(accountApis(client, paced), asking),
    ...listMethods(listApis(client, paced), retry),
    ...associationMethods(associationApis(client, paced), retry),
  };
}

/**
 * The api-client keeps its decorators in a process-wide singleton that each `new Client()`
 * overwrites, so we leave its limiter and retries off and pace the bound methods ourselves.
 */
function createClient(options: HubSpotCrmOptions): Client {
  return new Client({
    accessToken: options.accessToken,
    ...(options.basePath === undefined ? {} : { basePath: options.basePath }),
    numberOfApiCallRetries: 0,
  });
}
