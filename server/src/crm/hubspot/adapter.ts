import { Client } from '@hubspot/api-client';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import type {
  CrmCustomObjectSchema,
  CrmPort,
  CrmUpsertOutcome,
  CrmPropertyDefinition,
  CrmPropertyGroup,
  CrmRecordValues,
  CrmWriteOutcome,
  EnsurePropertiesResult,
} from '../port.ts';
import {
  batchObjectsSchema,
  batchPropertiesSchema,
  groupsSchema,
  ownersSchema,
  parseResponse,
  propertiesSchema,
  schemaSchema,
  schemasSchema,
  toCrmProperty,
  upsertSchema,
  type BatchError,
} from './responses.ts';
import { accountApis, accountMethods } from './account.ts';
import { engagementApis, engagementMethods } from './engagements.ts';
import { propertyHistoryMethods } from './property-history.ts';
import { userApis, userMethods } from './users.ts';
import { pacer, type RateLimit } from './pacing.ts';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryDeps, type RetryPolicy } from './retry.ts';

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
}

export interface HubSpotCrm extends CrmPort {
  readonly vendor: 'hubspot';
  readonly appId: string | undefined;
}

const BATCH_LIMIT = 100;
const DEFAULT_PROPERTY_CACHE_MS = 10 * 60_000;

type SchemaCreateInput = Parameters<Client['crm']['schemas']['coreApi']['create']>[0];
type SchemaPropertyCreate = SchemaCreateInput['properties'][number];
type PropertyCreateInput = Parameters<Client['crm']['properties']['batchApi']['create']>[1]['inputs'][number];

export function createHubSpotCrm(options: HubSpotCrmOptions): HubSpotCrm {
  const apis = createApis(options);
  const now = options.now ?? Date.now;
  const cacheMs = options.propertyCacheMs ?? DEFAULT_PROPERTY_CACHE_MS;
  const retry: RetryDeps = {
    policy: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
  };
  const cache = new Map<ObjectType, { at: number; definitions: Promise<Map<string, CrmPropertyDefinition>> }>();

  async function fetchProperties(objectType: ObjectType): Promise<Map<string, CrmPropertyDefinition>> {
    const answer = await withRetry(
      `read the ${objectType} properties`,
      () => apis.properties.getAll(objectType),
      retry,
    );
    const parsed = parseResponse(propertiesSchema, answer, `GET properties/${objectType}`);
    return new Map(parsed.results.map((property) => [property.name, toCrmProperty(property)]));
  }

  const crm: HubSpotCrm = {
    vendor: 'hubspot',
    batchLimit: BATCH_LIMIT,
    ownerProperty: 'hubspot_owner_id',
    appId: options.appId,

    describeProperties(objectType) {
      const cached = cache.get(objectType);
      if (cached !== undefined && now() - cached.at < cacheMs) return cached.definitions;
      // Cache the promise so concurrent callers share one call; forget it if the call fails.
      const definitions = fetchProperties(objectType);
      cache.set(objectType, { at: now(), definitions });
      definitions.catch(() => cache.delete(objectType));
      return definitions;
    },

    async readBatch({ objectType, recordIds, properties }) {
      assertBatchSize(recordIds.length);
      const found = new Map<string, CrmRecordValues>();
      if (recordIds.length === 0) return found;
      const answer = await withRetry(
        `read ${recordIds.length} ${objectType}`,
        () =>
          apis.objects.read(objectType, {
            inputs: recordIds.map((id) => ({ id })),
            properties: [...properties],
            propertiesWithHistory: [],
          }),
        retry,
      );
      const parsed = parseResponse(batchObjectsSchema, answer, `batch read of ${objectType}`);
      // HubSpot answers 207 with OBJECT_NOT_FOUND for ids it does not have: those are simply absent.
      const unexpected = (parsed.errors ?? []).find((error) => error.category !== 'OBJECT_NOT_FOUND');
      if (unexpected !== undefined)
        throw new AppError('CRM_REJECTED', unexpected.message, { details: { category: unexpected.category } });
      for (const record of parsed.results) {
        const values: CrmRecordValues = {};
        for (const name of properties) values[name] = record.properties[name] ?? null;
        found.set(record.id, values);
      }
      return found;
    },

    async writeBatch({ objectType, writes }) {
      assertBatchSize(writes.length);
      if (writes.length === 0) return [];
      let answer: unknown;
      try {
        // Setting values is idempotent, so repeating a batch after a 5xx or a dropped connection is safe.
        answer = await withRetry(
          `write ${writes.length} ${objectType}`,
          () =>
            apis.objects.update(objectType, {
              inputs: writes.map((write) => ({ id: write.recordId, properties: { ...write.properties } })),
            }),
          retry,
        );
      } catch (error) {
        // A 400 refuses the whole batch (HubSpot validates every value before writing any).
        if (error instanceof AppError && error.code === 'CRM_REJECTED') {
          return writes.map((write) => ({
            recordId: write.recordId,
            ok: false,
            reason: 'crm_rejected',
            message: error.message,
          }));
        }
        throw error;
      }
      const parsed = parseResponse(batchObjectsSchema, answer, `batch update of ${objectType}`);
      return outcomesInOrder(
        writes.map((write) => write.recordId),
        new Set(parsed.results.map((record) => record.id)),
        parsed.errors ?? [],
      );
    },

    async ensureProperties({ objectType, group, properties }) {
      const groupCreated = await ensureGroup(objectType, group);
      const existingAnswer = await withRetry(
        `read the ${objectType} properties`,
        () => apis.properties.getAll(objectType),
        retry,
      );
      const existingNames = new Set(
        parseResponse(propertiesSchema, existingAnswer, `GET properties/${objectType}`).results.map((p) => p.name),
      );
      const missing = properties.filter((property) => !existingNames.has(property.name));
      const result: EnsurePropertiesResult = {
        groupCreated,
        created: [],
        existing: properties.filter((p) => existingNames.has(p.name)).map((p) => p.name),
      };
      if (missing.length === 0) return result;

      const answer = await withRetry(
        `create ${missing.length} ${objectType} properties`,
        () =>
          apis.properties.batchCreate(objectType, {
            inputs: missing.map((property) => toPropertyCreate(property, group)),
          }),
        retry,
      );
      const parsed = parseResponse(batchPropertiesSchema, answer, `batch create of ${objectType} properties`);
      // Another instance may have created some in the meantime: HubSpot says so per property.
      const failure = (parsed.errors ?? []).find((error) => error.category !== 'OBJECT_ALREADY_EXISTS');
      if (failure !== undefined)
        throw new AppError('CRM_REJECTED', failure.message, { details: { category: failure.category } });
      const created = new Set(parsed.results.map((property) => property.name));
      for (const property of missing)
        (created.has(property.name) ? result.created : result.existing).push(property.name);
      cache.delete(objectType);
      return result;
    },

    ensureCustomObject,
    upsertCustomRecords,
    findOwnerIdOfUser,
    associate,
    ...engagementMethods(apis.engagements, retry),
    ...propertyHistoryMethods(apis.objects, retry),
    ...userMethods(apis.users, retry, now),
    ...accountMethods(apis.account, retry),
  };

  async function ensureCustomObject(
    schema: CrmCustomObjectSchema,
  ): Promise<{ objectTypeId: string; created: boolean }> {
    const listed = await withRetry('read the custom object schemas', () => apis.schemas.getAll(), retry);
    const existing = parseResponse(schemasSchema, listed, 'GET schemas').results.find(
      (found) => found.name === schema.name,
    );
    if (existing !== undefined) return { objectTypeId: existing.objectTypeId, created: false };
    const created = await withRetry(
      `create the ${schema.name} object`,
      () => apis.schemas.create(toSchemaCreate(schema)),
      retry,
    );
    return { objectTypeId: parseResponse(schemaSchema, created, 'POST schemas').objectTypeId, created: true };
  }

  async function upsertCustomRecords({
    objectTypeId,
    keyProperty,
    records,
  }: Parameters<CrmPort['upsertCustomRecords']>[0]): Promise<CrmUpsertOutcome[]> {
    assertBatchSize(records.length);
    if (records.length === 0) return [];
    // Keyed by a unique-value property, so a retried upsert updates what the first attempt created.
    const answer = await withRetry(
      `upsert ${records.length} ${objectTypeId}`,
      () =>
        apis.objects.upsert(objectTypeId, {
          inputs: records.map((record) => ({
            id: record.key,
            idProperty: keyProperty,
            properties: { ...record.properties, [keyProperty]: record.key },
          })),
        }),
      retry,
    );
    const parsed = parseResponse(upsertSchema, answer, `batch upsert of ${objectTypeId}`);
    const failure = parsed.errors?.[0];
    if (failure !== undefined)
      throw new AppError('CRM_REJECTED', failure.message, { details: { category: failure.category } });
    return parsed.results.map((result) => ({
      key: result.properties[keyProperty] ?? '',
      id: result.id,
      created: result._new,
    }));
  }

  async function findOwnerIdOfUser(userId: string): Promise<string | null> {
    let after: string | undefined;
    do {
      const answer = await withRetry('read the owners', () => apis.owners.getPage(undefined, after, 100), retry);
      const page = parseResponse(ownersSchema, answer, 'GET owners');
      const owner = page.results.find(
        (candidate) => candidate.userId !== undefined && String(candidate.userId) === userId,
      );
      if (owner) return owner.id;
      after = page.paging?.next?.after;
    } while (after !== undefined);
    return null;
  }

  async function associate({
    fromObjectType,
    toObjectType,
    pairs,
  }: Parameters<CrmPort['associate']>[0]): Promise<void> {
    assertBatchSize(pairs.length);
    if (pairs.length === 0) return;
    await withRetry(
      `associate ${pairs.length} ${fromObjectType} with ${toObjectType}`,
      () =>
        apis.associations.createDefault(fromObjectType, toObjectType, {
          inputs: pairs.map((pair) => ({ _from: { id: pair.fromId }, to: { id: pair.toId } })),
        }),
      retry,
    );
  }

  async function ensureGroup(objectType: ObjectType, group: CrmPropertyGroup): Promise<boolean> {
    const answer = await withRetry(
      `read the ${objectType} property groups`,
      () => apis.groups.getAll(objectType),
      retry,
    );
    if (
      parseResponse(groupsSchema, answer, `GET property groups/${objectType}`).results.some(
        (existing) => existing.name === group.name,
      )
    )
      return false;
    try {
      await withRetry(
        `create the ${objectType} property group ${group.name}`,
        () => apis.groups.create(objectType, { name: group.name, label: group.label }),
        retry,
      );
      return true;
    } catch (error) {
      if (error instanceof AppError && isCategory(error, 'OBJECT_ALREADY_EXISTS')) return false;
      throw error;
    }
  }

  return crm;
}

/**
 * The api-client keeps its decorators in a process-wide singleton that each `new Client()`
 * overwrites, so we leave its limiter and retries off and pace the bound methods ourselves.
 */
function createApis(options: HubSpotCrmOptions) {
  const client = new Client({
    accessToken: options.accessToken,
    ...(options.basePath === undefined ? {} : { basePath: options.basePath }),
    numberOfApiCallRetries: 0,
  });
  const paced = pacer(options.rateLimit);
  const objects = client.crm.objects.batchApi;
  const properties = client.crm.properties;
  return {
    objects: {
      read: paced(objects.read.bind(objects)),
      update: paced(objects.update.bind(objects)),
      upsert: paced(objects.upsert.bind(objects)),
    },
    schemas: {
      getAll: paced(() => client.crm.schemas.coreApi.getAll()),
      create: paced(client.crm.schemas.coreApi.create.bind(client.crm.schemas.coreApi)),
    },
    owners: { getPage: paced(client.crm.owners.ownersApi.getPage.bind(client.crm.owners.ownersApi)) },
    associations: {
      createDefault: paced(client.crm.associations.v4.batchApi.createDefault.bind(client.crm.associations.v4.batchApi)),
    },
    properties: {
      getAll: paced((type: string) => properties.coreApi.getAll(type)),
      batchCreate: paced(properties.batchApi.create.bind(properties.batchApi)),
    },
    groups: {
      getAll: paced(properties.groupsApi.getAll.bind(properties.groupsApi)),
      create: paced(properties.groupsApi.create.bind(properties.groupsApi)),
    },
    engagements: engagementApis(client, paced),
    users: userApis(client, paced),
    account: accountApis(client, paced),
  };
}

function assertBatchSize(size: number): void {
  if (size > BATCH_LIMIT)
    throw new AppError(
      'VALIDATION_FAILED',
      `HubSpot takes at most ${BATCH_LIMIT} records per call; got ${size}. Chunk by batchLimit.`,
    );
}

function outcomesInOrder(
  recordIds: readonly string[],
  written: ReadonlySet<string>,
  errors: readonly BatchError[],
): CrmWriteOutcome[] {
  const failures = new Map<string, string>();
  for (const error of errors) {
    for (const id of error.context?.['ids'] ?? []) failures.set(id, error.message);
  }
  return recordIds.map((recordId): CrmWriteOutcome => {
    const message = failures.get(recordId);
    if (message !== undefined) return { recordId, ok: false, reason: 'crm_rejected', message };
    if (written.has(recordId)) return { recordId, ok: true };
    // Neither written nor refused: we cannot tell what HubSpot did, so do not claim either.
    return { recordId, ok: false, reason: 'crm_unavailable', message: 'HubSpot reported no outcome for this record.' };
  });
}

function toPropertyCreate(property: CrmPropertyDefinition, group: CrmPropertyGroup): PropertyCreateInput {
  return {
    name: property.name,
    label: property.label,
    type: property.type as PropertyCreateInput['type'],
    fieldType: property.fieldType as PropertyCreateInput['fieldType'],
    groupName: property.groupName ?? group.name,
    ...(property.description === undefined ? {} : { description: property.description }),
    ...(property.options === undefined
      ? {}
      : {
          options: property.options.map((option, index) => ({
            label: option.label,
            value: option.value,
            displayOrder: index,
            hidden: false,
          })),
        }),
  };
}

function toSchemaCreate(schema: CrmCustomObjectSchema): SchemaCreateInput {
  return {
    name: schema.name,
    labels: schema.labels,
    primaryDisplayProperty: schema.primaryDisplayProperty,
    requiredProperties: [schema.primaryDisplayProperty],
    searchableProperties: [schema.primaryDisplayProperty],
    secondaryDisplayProperties: [],
    associatedObjects: schema.associatedObjects.map((objectType) => ASSOCIATED_OBJECT_NAMES[objectType]),
    properties: schema.properties.map((property) => ({
      name: property.name,
      label: property.label,
      type: property.type as SchemaPropertyCreate['type'],
      fieldType: property.fieldType,
      hasUniqueValue: property.hasUniqueValue ?? false,
      ...(property.description === undefined ? {} : { description: property.description }),
      ...(property.options === undefined
        ? {}
        : {
            options: property.options.map((option, index) => ({
              label: option.label,
              value: option.value,
              displayOrder: index,
              hidden: false,
            })),
          }),
    })),
  };
}

const ASSOCIATED_OBJECT_NAMES: Record<ObjectType, string> = { contacts: 'CONTACT', deals: 'DEAL' };

function isCategory(error: AppError, category: string): boolean {
  return (error.details as { category?: unknown } | undefined)?.category === category;
}
