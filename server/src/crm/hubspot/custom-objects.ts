import type { Client } from '@hubspot/api-client';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import type { CrmCustomObjectSchema, CrmPort } from '../port.ts';
import type { Paced } from './pacing.ts';
import { shownInOrder } from './properties.ts';
import { assertBatchSize, ofHubSpotObject } from './records.ts';
import { parseResponse, schemaSchema, schemasSchema, upsertSchema } from './responses.ts';
import { withRetry, type RetryDeps } from './retry.ts';

type SchemasApi = Client['crm']['schemas']['coreApi'];
type SchemaCreateInput = Parameters<SchemasApi['create']>[0];
type SchemaPropertyCreate = SchemaCreateInput['properties'][number];

export interface CustomObjectApis {
  getSchemas(): Promise<unknown>;
  createSchema: SchemasApi['create'];
  upsert: Client['crm']['objects']['batchApi']['upsert'];
  associate: Client['crm']['associations']['v4']['batchApi']['createDefault'];
}

export function customObjectApis(client: Client, paced: Paced): CustomObjectApis {
  const schemas = client.crm.schemas.coreApi;
  const objects = client.crm.objects.batchApi;
  const associations = client.crm.associations.v4.batchApi;
  return {
    getSchemas: paced(() => schemas.getAll()),
    createSchema: paced(schemas.create.bind(schemas)),
    upsert: paced(objects.upsert.bind(objects)),
    associate: paced(associations.createDefault.bind(associations)),
  };
}

/** The app's own object (the Agent Approval records people decide on), its records and their links to contacts and deals. */
export function customObjectMethods(
  apis: CustomObjectApis,
  retry: RetryDeps,
): Pick<CrmPort, 'ensureCustomObject' | 'upsertCustomRecords' | 'associate'> {
  return {
    async ensureCustomObject(schema) {
      const listed = await withRetry('read the custom object schemas', () => apis.getSchemas(), retry);
      const existing = parseResponse(schemasSchema, listed, 'GET schemas').results.find(
        (found) => found.name === schema.name,
      );
      if (existing !== undefined) return { objectTypeId: existing.objectTypeId, created: false };
      const created = await withRetry(
        `create the ${schema.name} object`,
        () => apis.createSchema(toSchemaCreate(schema)),
        retry,
      );
      return { objectTypeId: parseResponse(schemaSchema, created, 'POST schemas').objectTypeId, created: true };
    },

    async upsertCustomRecords({ objectTypeId, keyProperty, records }) {
      assertBatchSize(records.length);
      if (records.length === 0) return [];
      // Keyed by a unique-value property, so a retried upsert updates what the first attempt created.
      const answer = await withRetry(
        `upsert ${records.length} ${objectTypeId}`,
        () =>
          apis.upsert(objectTypeId, {
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
    },

    async associate({ fromObjectType, toObjectType, pairs }) {
      assertBatchSize(pairs.length);
      if (pairs.length === 0) return;
      await withRetry(
        `associate ${pairs.length} ${fromObjectType} with ${toObjectType}`,
        () =>
          apis.associate(fromObjectType, toObjectType, {
            inputs: pairs.map((pair) => ({ _from: { id: pair.fromId }, to: { id: pair.toId } })),
          }),
        retry,
      );
    },
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
    associatedObjects: schema.associatedObjects.map((objectType) =>
      ofHubSpotObject(ASSOCIATED_OBJECT_NAMES, objectType),
    ),
    properties: schema.properties.map((property) => ({
      name: property.name,
      label: property.label,
      type: property.type as SchemaPropertyCreate['type'],
      fieldType: property.fieldType,
      hasUniqueValue: property.hasUniqueValue ?? false,
      ...(property.description === undefined ? {} : { description: property.description }),
      ...(property.options === undefined ? {} : { options: shownInOrder(property.options) }),
    })),
  };
}

const ASSOCIATED_OBJECT_NAMES: Partial<Record<ObjectType, string>> = { contacts: 'CONTACT', deals: 'DEAL' };
