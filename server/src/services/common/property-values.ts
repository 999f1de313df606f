import type { PropertyValue } from '../../../../shared/agent-api.ts';
import type { CrmPropertyDefinition } from '../../crm/port.ts';

export type ConvertedValue = { ok: true; value: string | null } | { ok: false; message: string };

/**
 * CRM values travel as strings. A value that does not fit the property's type is refused
 * here, before anything is stored, rather than failing a whole CRM batch later.
 */
export function toCrmValue(definition: CrmPropertyDefinition, value: PropertyValue): ConvertedValue {
  const converted = convertedValue(definition, value);
  // UTF-16 units, as Salesforce counts (see draft-text-limits.ts): a text it would refuse is never let through.
  const length = converted.ok ? (converted.value?.length ?? 0) : 0;
  if (definition.maxLength !== undefined && length > definition.maxLength)
    return {
      ok: false,
      message: `${definition.name} keeps at most ${definition.maxLength} characters; this value has ${length}`,
    };
  return converted;
}

function convertedValue(definition: CrmPropertyDefinition, value: PropertyValue): ConvertedValue {
  if (value === null || value === '') return { ok: true, value: null };
  switch (definition.type) {
    case 'string':
      if (typeof value === 'boolean') return refuse(definition, 'text');
      return definition.recordIdPattern && !definition.recordIdPattern.test(String(value))
        ? { ok: false, message: `${definition.name} names a record and needs that record's id` }
        : { ok: true, value: String(value) };
    case 'number': {
      // Decimal only: Number() also reads "0x10" as 16, "0b11" as 3 and "0o17" as 15.
      const number =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && DECIMAL.test(value.trim())
            ? Number(value)
            : Number.NaN;
      return Number.isFinite(number) ? { ok: true, value: String(number) } : refuse(definition, 'a number');
    }
    case 'bool':
      if (value === true || value === 'true') return { ok: true, value: 'true' };
      if (value === false || value === 'false') return { ok: true, value: 'false' };
      return refuse(definition, 'true or false');
    case 'enumeration': {
      const allowed = new Set((definition.options ?? []).map((option) => option.value));
      const chosen = definition.fieldType === 'checkbox' ? String(value).split(';') : [String(value)];
      const unknown = chosen.filter((choice) => !allowed.has(choice));
      return unknown.length === 0
        ? { ok: true, value: String(value) }
        : {
            ok: false,
            message: `${definition.name} has no option ${JSON.stringify(unknown[0])}; its options are ${[...allowed].join(', ') || '(none)'}`,
          };
    }
    case 'date':
      // Date.parse rolls a day past its month's end over (2026-02-30 is March 2): the day must survive the round trip.
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && isCalendarDay(value)
        ? { ok: true, value }
        : refuse(definition, 'a date like 2026-11-23');
    case 'datetime': {
      const instant =
        typeof value === 'number'
          ? new Date(value)
          : typeof value === 'string'
            ? new Date(value)
            : new Date(Number.NaN);
      return Number.isNaN(instant.getTime())
        ? refuse(definition, 'an ISO 8601 date-time or epoch milliseconds')
        : { ok: true, value: instant.toISOString() };
    }
  }
}

// The fraction hangs off its dot: `\d+\.?\d*` split a run of digits every way before a failing
// end, so a 65,536-digit text with a letter after held the server's thread for seconds.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function isCalendarDay(day: string): boolean {
  const parsed = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === day;
}

function refuse(definition: CrmPropertyDefinition, expected: string): ConvertedValue {
  return { ok: false, message: `${definition.name} is a ${definition.type} property and needs ${expected}` };
}
