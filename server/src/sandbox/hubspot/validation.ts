import type { FakePropertyDefinition } from './property-defaults.ts';

/** One entry of the JSON list HubSpot embeds in "Property values were not valid: [...]". */
export interface PropertyValidationResult {
  isValid: false;
  message: string;
  error: string;
  name: string;
}

export type ValueCheck = { ok: true; value: string } | { ok: false; result: PropertyValidationResult };

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const EPOCH_MS = /^-?\d{1,15}$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export function unknownProperty(name: string): PropertyValidationResult {
  return { isValid: false, message: `Property "${name}" does not exist`, error: 'PROPERTY_DOESNT_EXIST', name };
}

/** HubSpot's whole-request validation message: a sentence followed by the JSON list of failures. */
export function validationMessage(results: readonly PropertyValidationResult[]): string {
  return `Property values were not valid: ${JSON.stringify(results)}`;
}

/**
 * Checks a value the way HubSpot's object APIs do and returns the value as HubSpot stores it
 * (datetimes as ISO strings). An empty string clears a property of any type.
 */
export function checkValue(
  definition: FakePropertyDefinition,
  value: unknown,
  ownerIds: ReadonlySet<string>,
): ValueCheck {
  const name = definition.name;
  const fail = (error: string, message: string): ValueCheck => ({
    ok: false,
    result: { isValid: false, message, error, name },
  });
  if (definition.readOnlyValue)
    return fail('READ_ONLY_VALUE', `${name} is a read only property; its value cannot be set.`);
  if (typeof value !== 'string')
    return fail(
      'INVALID_PROPERTY_VALUE',
      `${JSON.stringify(value)} is not a valid value for ${name}; property values are strings.`,
    );
  if (value === '') return { ok: true, value };
  // Since January 2025 HubSpot refuses leading or trailing whitespace in non-string values.
  if (definition.type !== 'string' && value.trim() !== value) {
    return fail(
      'INVALID_WHITESPACE',
      `${JSON.stringify(value)} has leading or trailing whitespace, which ${name} does not accept.`,
    );
  }

  switch (definition.type) {
    case 'string':
      return { ok: true, value };
    case 'number':
      return NUMBER.test(value)
        ? { ok: true, value }
        : fail('INVALID_LONG', `${JSON.stringify(value)} is not a valid number.`);
    case 'bool':
      return value === 'true' || value === 'false'
        ? { ok: true, value }
        : fail('INVALID_BOOLEAN', `${JSON.stringify(value)} is not a valid boolean; use true or false.`);
    case 'enumeration': {
      const allowed = definition.externalOptions ? [...ownerIds] : definition.options.map((option) => option.value);
      if (allowed.includes(value)) return { ok: true, value };
      return fail(
        'INVALID_OPTION',
        `${JSON.stringify(value)} was not one of the allowed options: [${allowed.join(', ')}]`,
      );
    }
    case 'datetime': {
      const ms = parseTime(value);
      return ms === undefined
        ? fail('INVALID_DATE', `${JSON.stringify(value)} is not a valid datetime; send epoch milliseconds or ISO 8601.`)
        : { ok: true, value: new Date(ms).toISOString() };
    }
    case 'date': {
      const ms = parseTime(value);
      if (ms === undefined || ms % 86_400_000 !== 0) {
        return fail(
          'INVALID_DATE',
          `${JSON.stringify(value)} is not a valid date; send midnight UTC as epoch milliseconds or YYYY-MM-DD.`,
        );
      }
      return { ok: true, value: new Date(ms).toISOString().slice(0, 10) };
    }
  }
}

function parseTime(value: string): number | undefined {
  if (EPOCH_MS.test(value)) return Number(value);
  if (DATE_ONLY.test(value) || value.includes('T')) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
