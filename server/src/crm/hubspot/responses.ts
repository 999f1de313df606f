import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { CrmPropertyDefinition, CrmPropertyType } from '../port.ts';

/**
 * Shapes of the HubSpot answers the adapter relies on. The api-client deserialises into its own
 * classes without checking anything, so we check here, at the edge, and keep only what we use.
 */

export const batchErrorSchema = z.object({
  category: z.string(),
  message: z.string(),
  context: z.record(z.string(), z.array(z.string())).optional(),
});
export type BatchError = z.infer<typeof batchErrorSchema>;

export const batchObjectsSchema = z.object({
  results: z.array(z.object({ id: z.string(), properties: z.record(z.string(), z.string().nullable()) })),
  errors: z.array(batchErrorSchema).optional(),
});

export const propertiesSchema = z.object({
  results: z.array(
    z.object({
      name: z.string(),
      label: z.string(),
      type: z.string(),
      fieldType: z.string(),
      description: z.string().optional(),
      groupName: z.string().optional(),
      options: z.array(z.object({ label: z.string(), value: z.string() })).optional(),
    }),
  ),
});

export const schemaSchema = z.object({ name: z.string(), objectTypeId: z.string() });
export const schemasSchema = z.object({ results: z.array(schemaSchema) });

/** HubSpot answers `new` per record; the api-client's model renames it `_new`. */
export const upsertSchema = z.object({
  results: z.array(
    z.object({ id: z.string(), _new: z.boolean(), properties: z.record(z.string(), z.string().nullable()) }),
  ),
  errors: z.array(batchErrorSchema).optional(),
});

export const ownersSchema = z.object({
  results: z.array(z.object({ id: z.string(), userId: z.number().optional() })),
  paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional(),
});

/** Settings API (user provisioning): GET /settings/v3/users/{userId}. The docs' sample sends superAdmin as a string, so it is not read. */
export const settingsUserSchema = z.object({
  id: z.string(),
  primaryTeamId: z.string().optional(),
  secondaryTeamIds: z.array(z.string()).optional(),
});

/** GET /settings/v3/users/teams: every team of the account, unpaged. */
export const settingsTeamsSchema = z.object({ results: z.array(z.object({ id: z.string(), name: z.string() })) });

export const groupsSchema = z.object({ results: z.array(z.object({ name: z.string() })) });

export const batchPropertiesSchema = z.object({
  results: z.array(z.object({ name: z.string() })),
  errors: z.array(batchErrorSchema).optional(),
});

const KNOWN_TYPES: readonly CrmPropertyType[] = ['string', 'number', 'enumeration', 'datetime', 'date', 'bool'];

/** HubSpot has a few more types (phone_number, json, object_coordinates); to us they are text. */
export function toCrmProperty(property: z.infer<typeof propertiesSchema>['results'][number]): CrmPropertyDefinition {
  const type = (KNOWN_TYPES as readonly string[]).includes(property.type)
    ? (property.type as CrmPropertyType)
    : 'string';
  return {
    name: property.name,
    label: property.label,
    type,
    fieldType: property.fieldType,
    ...(property.description ? { description: property.description } : {}),
    ...(property.groupName ? { groupName: property.groupName } : {}),
    ...(type === 'enumeration' || type === 'bool'
      ? { options: (property.options ?? []).map(({ label, value }) => ({ label, value })) }
      : {}),
  };
}

/** Parses a HubSpot answer; a shape we do not understand is HubSpot misbehaving, not our input being wrong. */
export function parseResponse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new AppError('CRM_UNAVAILABLE', `HubSpot's answer to ${what} did not have the expected shape.`, {
    details: { path: issue?.path.join('.'), problem: issue?.message },
  });
}
