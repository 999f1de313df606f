import type { Connection } from '@jsforce/jsforce-node';
import type { CrmPropertyDefinition } from '../port.ts';

/** The permission set bootstrap grants our fields through: new fields are invisible to the API user until then. */
export const PERMISSION_SET = 'Agent_Governance';
/** Metadata CRUD calls take at most 10 components each. */
const PER_CALL = 10;
const MAX_LABEL = 40;

type MetadataItem = Record<string, unknown> & { fullName: string };

/** A custom field's metadata for one of our property definitions. */
export function customFieldMetadata(fullName: string, definition: CrmPropertyDefinition): MetadataItem {
  const base = {
    fullName,
    label: definition.label.slice(0, MAX_LABEL),
    ...(definition.description ? { description: definition.description.slice(0, 1_000) } : {}),
  };
  if (definition.type === 'bool') return { ...base, type: 'Checkbox', defaultValue: 'false' };
  if (definition.type === 'number') return { ...base, type: 'Number', precision: 18, scale: 4 };
  if (definition.type === 'datetime') return { ...base, type: 'DateTime' };
  if (definition.type === 'date') return { ...base, type: 'Date' };
  if (definition.type === 'enumeration')
    return {
      ...base,
      type: 'Picklist',
      valueSet: {
        valueSetDefinition: {
          value: (definition.options ?? []).map((option) => ({
            fullName: option.value,
            label: option.label,
            default: false,
          })),
        },
      },
    };
  if (definition.fieldType === 'textarea') return { ...base, type: 'LongTextArea', length: 32_768, visibleLines: 3 };
  return { ...base, type: 'Text', length: 255 };
}

/** Which of these components the org has, by one `readMetadata` per 10. */
export async function existingComponents(
  connection: Connection,
  type: string,
  fullNames: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < fullNames.length; i += PER_CALL) {
    const answer = (await connection.metadata.read(
      type as Parameters<Connection['metadata']['read']>[0],
      fullNames.slice(i, i + PER_CALL),
    )) as unknown;
    for (const record of [answer].flat() as ({ fullName?: string } | null)[])
      if (record?.fullName) found.add(record.fullName);
  }
  return found;
}

/** Creates or updates components, 10 per `upsertMetadata` call; a refused one throws with its message. */
export async function upsertComponents(
  connection: Connection,
  type: string,
  items: readonly MetadataItem[],
): Promise<void> {
  for (let i = 0; i < items.length; i += PER_CALL) {
    const results = [
      await connection.metadata.upsert(
        type as Parameters<Connection['metadata']['upsert']>[0],
        items.slice(i, i + PER_CALL) as unknown as Parameters<Connection['metadata']['upsert']>[1],
      ),
    ].flat() as { success: boolean | string; fullName: string; errors?: { message: string } | { message: string }[] }[];
    const refused = results.find((result) => String(result.success) !== 'true');
    if (refused)
      throw new Error(
        `Salesforce refused ${type} ${refused.fullName}: ${[refused.errors ?? []]
          .flat()
          .map((e) => e.message)
          .join('; ')}`,
      );
  }
}

/** Grants the API user read and edit on these fields (`Object.Field__c`) through our permission set. */
export async function grantFields(connection: Connection, fields: readonly string[]): Promise<void> {
  if (fields.length === 0) return;
  await upsertComponents(connection, 'PermissionSet', [
    {
      fullName: PERMISSION_SET,
      label: 'Agent Governance',
      description: 'Field access the Agent Governance integration user needs for its provenance and proposal fields.',
      fieldPermissions: fields.map((field) => ({ field, editable: true, readable: true })),
    },
  ]);
}
