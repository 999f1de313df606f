import type { Client } from '@hubspot/api-client';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import type { CrmPort, CrmPropertyDefinition, CrmPropertyGroup, EnsurePropertiesResult } from '../port.ts';
import type { Paced } from './pacing.ts';
import { batchPropertiesSchema, groupsSchema, parseResponse, propertiesSchema, toCrmProperty } from './responses.ts';
import { withRetry, type RetryDeps } from './retry.ts';

type PropertiesApi = Client['crm']['properties'];
type PropertyCreateInput = Parameters<PropertiesApi['batchApi']['create']>[1]['inputs'][number];

export interface PropertyApis {
  getAll(objectType: string): Promise<unknown>;
  batchCreate: PropertiesApi['batchApi']['create'];
  getGroups: PropertiesApi['groupsApi']['getAll'];
  createGroup: PropertiesApi['groupsApi']['create'];
}

export function propertyApis(client: Client, paced: Paced): PropertyApis {
  const { coreApi, batchApi, groupsApi } = client.crm.properties;
  return {
    getAll: paced((objectType: string) => coreApi.getAll(objectType)),
    batchCreate: paced(batchApi.create.bind(batchApi)),
    getGroups: paced(groupsApi.getAll.bind(groupsApi)),
    createGroup: paced(groupsApi.create.bind(groupsApi)),
  };
}

export interface PropertyCacheOptions {
  /** How long an object type's definitions are trusted. */
  cacheMs: number;
  now: () => number;
}

/** Property definitions (cached per object type, as every change set describes its fields) and the app's own properties. */
export function propertyMethods(
  apis: PropertyApis,
  retry: RetryDeps,
  { cacheMs, now }: PropertyCacheOptions,
): Pick<CrmPort, 'describeProperties' | 'ensureProperties'> {
  const cache = new Map<ObjectType, { at: number; definitions: Promise<Map<string, CrmPropertyDefinition>> }>();

  async function readProperties(objectType: ObjectType) {
    const answer = await withRetry(`read the ${objectType} properties`, () => apis.getAll(objectType), retry);
    return parseResponse(propertiesSchema, answer, `GET properties/${objectType}`).results;
  }

  async function ensureGroup(objectType: ObjectType, group: CrmPropertyGroup): Promise<boolean> {
    const answer = await withRetry(`read the ${objectType} property groups`, () => apis.getGroups(objectType), retry);
    const groups = parseResponse(groupsSchema, answer, `GET property groups/${objectType}`).results;
    if (groups.some((existing) => existing.name === group.name)) return false;
    try {
      await withRetry(
        `create the ${objectType} property group ${group.name}`,
        () => apis.createGroup(objectType, { name: group.name, label: group.label }),
        retry,
      );
      return true;
    } catch (error) {
      if (error instanceof AppError && isCategory(error, 'OBJECT_ALREADY_EXISTS')) return false;
      throw error;
    }
  }

  return {
    describeProperties(objectType, options) {
      const cached = cache.get(objectType);
      if (cached !== undefined && now() - cached.at < cacheMs && !options?.fresh) return cached.definitions;
      // Cache the promise so concurrent callers share one call; forget it if the call fails.
      const definitions = readProperties(objectType).then(
        (properties) => new Map(properties.map((property) => [property.name, toCrmProperty(property)])),
      );
      cache.set(objectType, { at: now(), definitions });
      definitions.catch(() => cache.delete(objectType));
      return definitions;
    },

    async ensureProperties({ objectType, group, properties }) {
      const groupCreated = await ensureGroup(objectType, group);
      const existingNames = new Set((await readProperties(objectType)).map((property) => property.name));
      const missing = properties.filter((property) => !existingNames.has(property.name));
      const result: EnsurePropertiesResult = {
        groupCreated,
        created: [],
        existing: properties.filter((p) => existingNames.has(p.name)).map((p) => p.name),
      };
      if (missing.length === 0) return result;

      const answer = await withRetry(
        `create ${missing.length} ${objectType} properties`,
        () => apis.batchCreate(objectType, { inputs: missing.map((property) => toPropertyCreate(property, group)) }),
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
  };
}

/** HubSpot lists an enumeration's options with an order and a visibility; ours are shown, in the order given. */
export function shownInOrder(options: readonly { label: string; value: string }[]) {
  return options.map((option, index) => ({
    label: option.label,
    value: option.value,
    displayOrder: index,
    hidden: false,
  }));
}

function toPropertyCreate(property: CrmPropertyDefinition, group: CrmPropertyGroup): PropertyCreateInput {
  return {
    name: property.name,
    label: property.label,
    type: property.type as PropertyCreateInput['type'],
    fieldType: property.fieldType as PropertyCreateInput['fieldType'],
    groupName: property.groupName ?? group.name,
    ...(property.description === undefined ? {} : { description: property.description }),
    ...(property.options === undefined ? {} : { options: shownInOrder(property.options) }),
  };
}

function isCategory(error: AppError, category: string): boolean {
  return (error.details as { category?: unknown } | undefined)?.category === category;
}
