import type { FakePropertyDefinition, FakePropertyGroup, FakePropertyType } from './property-defaults.ts';
import { errorResponse, iso, json, type HubSpotResponse } from './responses.ts';
import { notifyChange, type FakeObjectType, type HubSpotState } from './state.ts';

const TYPES: readonly FakePropertyType[] = ['string', 'number', 'enumeration', 'datetime', 'date', 'bool'];
const FIELD_TYPES = [
  'textarea',
  'text',
  'date',
  'file',
  'number',
  'select',
  'radio',
  'checkbox',
  'booleancheckbox',
  'calculation_equation',
  'html',
  'phonenumber',
];
const NAME = /^[a-z][a-z0-9_]{0,99}$/;

export function listProperties(state: HubSpotState, objectType: FakeObjectType): HubSpotResponse {
  return json(200, { results: [...state.objects[objectType].properties.values()].map(publicProperty) });
}

export function createProperty(state: HubSpotState, objectType: FakeObjectType, body: unknown): HubSpotResponse {
  const parsed = parsePropertyCreate(state, objectType, body);
  if (typeof parsed === 'string') return errorResponse(400, 'VALIDATION_ERROR', parsed);
  const properties = state.objects[objectType].properties;
  if (properties.has(parsed.name))
    return errorResponse(409, 'OBJECT_ALREADY_EXISTS', `Property named '${parsed.name}' already exists.`);
  properties.set(parsed.name, parsed);
  notifyChange(state, { kind: 'schema-changed', objectType });
  return json(201, publicProperty(parsed));
}

/** Invalid definitions fail the whole batch (400); names that already exist come back as 207 errors. */
export function batchCreateProperties(state: HubSpotState, objectType: FakeObjectType, body: unknown): HubSpotResponse {
  const inputs = (body as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs))
    return errorResponse(
      400,
      'VALIDATION_ERROR',
      'Invalid input JSON: the field "inputs" is required and must be an array.',
    );
  const startedAt = state.now();
  const parsed: FakePropertyDefinition[] = [];
  for (const input of inputs as unknown[]) {
    const definition = parsePropertyCreate(state, objectType, input);
    if (typeof definition === 'string') return errorResponse(400, 'VALIDATION_ERROR', definition);
    parsed.push(definition);
  }
  const properties = state.objects[objectType].properties;
  const results: unknown[] = [];
  const errors: unknown[] = [];
  for (const definition of parsed) {
    if (properties.has(definition.name)) {
      errors.push({
        status: 'error',
        category: 'OBJECT_ALREADY_EXISTS',
        message: `Property named '${definition.name}' already exists.`,
        context: { name: [definition.name] },
      });
      continue;
    }
    properties.set(definition.name, definition);
    results.push(publicProperty(definition));
  }
  if (results.length > 0) notifyChange(state, { kind: 'schema-changed', objectType });
  const response = { status: 'COMPLETE', results, startedAt: iso(startedAt), completedAt: iso(state.now()) };
  return errors.length === 0 ? json(201, response) : json(207, { ...response, numErrors: errors.length, errors });
}

export function listGroups(state: HubSpotState, objectType: FakeObjectType): HubSpotResponse {
  return json(200, { results: [...state.objects[objectType].groups.values()].map(publicGroup) });
}

export function createGroup(state: HubSpotState, objectType: FakeObjectType, body: unknown): HubSpotResponse {
  const input = body as { name?: unknown; label?: unknown; displayOrder?: unknown } | null;
  if (typeof input?.name !== 'string' || !NAME.test(input.name)) {
    return errorResponse(
      400,
      'VALIDATION_ERROR',
      'Property group name must start with a letter and contain only lower-case letters, digits and underscores.',
    );
  }
  if (typeof input.label !== 'string' || input.label === '')
    return errorResponse(400, 'VALIDATION_ERROR', 'Property group label is required.');
  const groups = state.objects[objectType].groups;
  if (groups.has(input.name))
    return errorResponse(409, 'OBJECT_ALREADY_EXISTS', `A property group named '${input.name}' already exists.`);
  const group: FakePropertyGroup = {
    name: input.name,
    label: input.label,
    displayOrder: typeof input.displayOrder === 'number' ? input.displayOrder : -1,
    archived: false,
  };
  groups.set(group.name, group);
  notifyChange(state, { kind: 'schema-changed', objectType });
  return json(201, publicGroup(group));
}

function parsePropertyCreate(
  state: HubSpotState,
  objectType: FakeObjectType,
  body: unknown,
): FakePropertyDefinition | string {
  const input = (body ?? {}) as Record<string, unknown>;
  const { name, label, type, fieldType, groupName } = input;
  if (typeof name !== 'string' || !NAME.test(name))
    return `Property name ${JSON.stringify(name)} is invalid: start with a letter, then lower-case letters, digits and underscores.`;
  if (name.startsWith('hs_'))
    return `Property name '${name}' is invalid: the hs_ prefix is reserved for HubSpot properties.`;
  if (typeof label !== 'string' || label === '') return `Property '${name}' needs a label.`;
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type))
    return `Property '${name}' has an unknown type ${JSON.stringify(type)}.`;
  if (typeof fieldType !== 'string' || !FIELD_TYPES.includes(fieldType))
    return `Property '${name}' has an unknown fieldType ${JSON.stringify(fieldType)}.`;
  if (typeof groupName !== 'string' || !state.objects[objectType].groups.has(groupName)) {
    return `Property group ${JSON.stringify(groupName)} does not exist.`;
  }
  const options = Array.isArray(input['options']) ? (input['options'] as unknown[]) : [];
  const at = state.now();
  return {
    name,
    label,
    type: type as FakePropertyType,
    fieldType,
    groupName,
    description: typeof input['description'] === 'string' ? input['description'] : '',
    options: options.map((option, index) => {
      const candidate = (option ?? {}) as { label?: unknown; value?: unknown; hidden?: unknown };
      return {
        label: String(candidate.label ?? ''),
        value: String(candidate.value ?? ''),
        displayOrder: index,
        hidden: candidate.hidden === true,
      };
    }),
    displayOrder: typeof input['displayOrder'] === 'number' ? input['displayOrder'] : -1,
    hubspotDefined: false,
    readOnlyValue: false,
    externalOptions: false,
    hasUniqueValue: input['hasUniqueValue'] === true,
    createdAt: at,
    updatedAt: at,
  };
}

function publicProperty(definition: FakePropertyDefinition) {
  return {
    name: definition.name,
    label: definition.label,
    type: definition.type,
    fieldType: definition.fieldType,
    description: definition.description,
    groupName: definition.groupName,
    options: definition.options,
    displayOrder: definition.displayOrder,
    calculated: false,
    externalOptions: definition.externalOptions,
    hasUniqueValue: definition.hasUniqueValue,
    hidden: false,
    hubspotDefined: definition.hubspotDefined,
    modificationMetadata: {
      archivable: !definition.hubspotDefined,
      readOnlyDefinition: definition.hubspotDefined,
      readOnlyValue: definition.readOnlyValue,
    },
    formField: !definition.readOnlyValue,
    createdAt: iso(definition.createdAt),
    updatedAt: iso(definition.updatedAt),
    archived: false,
  };
}

function publicGroup(group: FakePropertyGroup) {
  return { name: group.name, label: group.label, displayOrder: group.displayOrder, archived: group.archived };
}
