import type { z } from 'zod';

/** One sentence per zod issue, naming its path, for API errors, CLI errors and policy validation alike. */
export function describeZodIssue(issue: z.core.$ZodIssue): { path: string; message: string } {
  return { path: issue.path.length ? issue.path.join('.') : '(root)', message: issue.message };
}

/**
 * The error map every parse of what a person or an agent wrote passes (`{ error: readableMessage }`):
 * zod's own wording ('Too big: expected string to have <=200 characters') is a programmer's, so
 * each check that carries no message of its own is worded here, to follow the path it is about.
 * A schema's own message still wins, as zod asks a schema before a parse's map.
 */
export function readableMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? 'is required'
        : `must be ${describeType(issue.expected)}; got ${describeInput(issue.input)}`;
    case 'too_small':
      return describeBound(issue.origin, issue.minimum, issue, 'at least', 'greater than');
    case 'too_big':
      return describeBound(issue.origin, issue.maximum, issue, 'at most', 'less than');
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map(String).join(', ')}; got ${describeValue(issue.input)}`;
    case 'unrecognized_keys':
      return `has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}; check the spelling`;
    case 'invalid_format':
      return describeFormat(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_union':
      return describeUnion(issue);
    case 'invalid_key':
      return `is not an allowed name: ${issue.issues[0]?.message ?? 'it is not valid'}`;
    case 'invalid_element':
      return `holds a value that is not allowed: ${issue.issues[0]?.message ?? 'it is not valid'}`;
    case 'custom':
      return 'is not valid';
    default:
      return undefined;
  }
}

function describeBound(
  origin: string,
  limit: number | bigint,
  bound: { inclusive?: boolean; exact?: boolean },
  inclusiveWord: string,
  exclusiveWord: string,
): string {
  const word = bound.exact ? 'exactly' : (bound.inclusive ?? true) ? inclusiveWord : exclusiveWord;
  if (origin === 'array' || origin === 'set') return `must list ${word} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'string')
    return limit === 1 && word === 'at least' ? 'must not be empty' : `must be ${word} ${limit} characters long`;
  if (origin === 'date') return `must be ${word} ${new Date(Number(limit)).toISOString()}`;
  return `must be ${word} ${limit}`;
}

function describeType(expected: string): string {
  const names: Record<string, string> = {
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    bigint: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    tuple: 'a list',
    object: 'an object',
    record: 'an object',
    date: 'a date',
  };
  return names[expected] ?? expected;
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'an object';
  return `${typeof input} ${describeValue(input)}`;
}

/** The value as sent, cut short: an error answer need not repeat a long text back. */
function describeValue(value: unknown): string {
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? 'a list' : 'an object';
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}…` : shown;
}

const FORMATS: Record<string, string> = {
  email: 'an email address',
  url: 'a URL such as https://example.com/page',
  uuid: 'a UUID',
  guid: 'a UUID',
  datetime: 'a date and time such as 2026-01-31T09:30:00Z',
  date: 'a date such as 2026-01-31',
  time: 'a time such as 09:30:00',
  duration: 'an ISO 8601 duration such as P1D',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  cidrv4: 'an IPv4 network such as 10.0.0.0/8',
  cidrv6: 'an IPv6 network such as fd00::/8',
  base64: 'base64 text',
  base64url: 'base64url text',
  e164: 'a phone number in E.164 form such as +15550100',
};

function describeFormat(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidStringFormat>): string {
  const raw = issue as { format: string; prefix?: string; suffix?: string; includes?: string; pattern?: string };
  if (raw.format === 'starts_with') return `must start with ${JSON.stringify(raw.prefix)}`;
  if (raw.format === 'ends_with') return `must end with ${JSON.stringify(raw.suffix)}`;
  if (raw.format === 'includes') return `must include ${JSON.stringify(raw.includes)}`;
  if (raw.format === 'regex') return `does not have the form this field takes (pattern ${raw.pattern})`;
  return `must be ${FORMATS[raw.format] ?? `a valid ${raw.format}`}`;
}

function describeUnion(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidUnion>): string {
  if (issue.inclusive === false) return 'matches more than one of the forms this field takes';
  // zod names an optional discriminator's absence 'undefined', as if it were a value to send.
  if (issue.options && issue.options.length > 0) {
    const values = issue.options.filter((option) => option !== undefined).map(String);
    return `must be one of ${values.join(', ')}${issue.options.includes(undefined) ? ' (or omitted)' : ''}`;
  }
  // Each alternative refused the value's type: name the types it may have.
  const types = issue.errors.map((alternative) => {
    const refused = alternative.find((inner) => inner.code === 'invalid_type' && inner.path.length === 0);
    return refused?.code === 'invalid_type' ? refused.expected : undefined;
  });
  if (types.length > 0 && types.every((type) => type !== undefined)) {
    const names = [...new Set(types.map(describeType))];
    const listed = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0];
    return issue.input === undefined ? 'is required' : `must be ${listed}; got ${describeInput(issue.input)}`;
  }
  return 'does not match any of the forms this field takes';
}
