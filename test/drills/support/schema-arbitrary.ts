import fc from 'fast-check';

/** The part of JSON Schema that our zod schemas produce (through zod-openapi or z.toJSONSchema). */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export type Definitions = Record<string, JsonSchema>;

/** Follows `$ref`s into the document's definitions (`#/components/schemas/X` or `#/$defs/X`). */
export function resolve(schema: JsonSchema, definitions: Definitions): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref !== undefined && hops < 10; hops++) {
    const name = current.$ref.split('/').at(-1)!;
    const target = definitions[name];
    if (!target) throw new Error(`unresolved $ref ${current.$ref}`);
    current = target;
  }
  return current;
}

const DATE_MIN = new Date('2000-01-01T00:00:00Z');
const DATE_MAX = new Date('2100-01-01T00:00:00Z');

/**
 * Values the schema describes (bounded so each body stays small): what a well-behaved client
 * might send, to mutate into what an attacker sends. Fields are sometimes left out and values are
 * drawn from the edges (empty, longest allowed, the bounds), as fast-check's own arbitraries do.
 */
export function arbitraryFor(schema: JsonSchema, definitions: Definitions, depth = 0): fc.Arbitrary<unknown> {
  const resolved = resolve(schema, definitions);
  if (depth > 8) return fc.constant(null);
  const next = (inner: JsonSchema) => arbitraryFor(inner, definitions, depth + 1);
  if (resolved.const !== undefined) return fc.constant(resolved.const);
  if (resolved.enum) return fc.constantFrom(...resolved.enum);
  const union = resolved.anyOf ?? resolved.oneOf;
  if (union) return fc.oneof(...union.map(next));
  if (resolved.allOf?.[0]) return next(resolved.allOf[0]);
  if (Array.isArray(resolved.type)) return fc.oneof(...resolved.type.map((type) => next({ ...resolved, type })));
  switch (resolved.type) {
    case 'string':
      return stringFor(resolved);
    case 'integer':
      return fc.integer({
        min: Math.max(resolved.minimum ?? -1e6, Number.MIN_SAFE_INTEGER),
        max: Math.min(resolved.maximum ?? 1e6, Number.MAX_SAFE_INTEGER),
      });
    case 'number':
      return fc.double({
        min: resolved.minimum ?? resolved.exclusiveMinimum ?? -1e6,
        max: resolved.maximum ?? resolved.exclusiveMaximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
        minExcluded: resolved.exclusiveMinimum !== undefined,
        maxExcluded: resolved.exclusiveMaximum !== undefined,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = resolved.minItems ?? 0;
      return fc.array(resolved.items ? next(resolved.items) : fc.jsonValue({ maxDepth: 2 }), {
        minLength,
        maxLength: Math.min(resolved.maxItems ?? minLength + 3, minLength + 3),
      });
    }
    case 'object':
      return objectFor(resolved, next);
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date-time')
    return fc.date({ min: DATE_MIN, max: DATE_MAX, noInvalidDate: true }).map((date) => date.toISOString());
  if (schema.format === 'email') return fc.emailAddress().filter((email) => email.length <= (schema.maxLength ?? 254));
  if (schema.format === 'uri') return fc.webUrl({ validSchemes: ['https'] });
  if (schema.pattern)
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((value) => value.length <= (schema.maxLength ?? Infinity));
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 40, minLength + 40);
  return fc.oneof(
    fc.string({ minLength, maxLength }),
    fc.string({ unit: 'grapheme', minLength, maxLength }),
    fc.constant('x'.repeat(schema.maxLength ?? 64)),
  );
}

function objectFor(schema: JsonSchema, next: (inner: JsonSchema) => fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const named = Object.keys(properties).length > 0;
  if (!named && typeof schema.additionalProperties === 'object') {
    const key = schema.propertyNames
      ? (next(schema.propertyNames) as fc.Arbitrary<string>)
      : fc.string({ minLength: 1, maxLength: 20 });
    return fc.dictionary(key, next(schema.additionalProperties), { minKeys: 1, maxKeys: 3 });
  }
  const shape = Object.fromEntries(Object.entries(properties).map(([name, inner]) => [name, next(inner)]));
  return fc.record(shape, { requiredKeys: (schema.required ?? []).filter((name) => name in shape) });
}
