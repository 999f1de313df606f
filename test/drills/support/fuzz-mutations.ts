import { resolve, type Definitions, type JsonSchema } from './schema-arbitrary.ts';
import type { FuzzRoute } from './fuzz-routes.ts';

/** What one fuzzed request carries, before the client adds HubSpot's query parameters, tokens and signatures. */
export interface FuzzInput {
  kind: string;
  pathParams: Record<string, string>;
  query: Record<string, string>;
  /** The body as sent, when there is one. */
  body?: string;
  contentType?: string;
  auth: 'valid' | 'missing' | 'wrong' | 'stale_timestamp' | 'loose_timestamp';
}

/** A seeded generator for the mutations' choices, so a failing run repeats with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const DEEP = '\u0001deep\u0001';
const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];
const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
];
const PROTOTYPE_KEYS = ['constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/**
 * Kinds every one of which the route must refuse with a 4xx, whatever the rest of the request:
 * text Postgres cannot store, nesting past the limit, `__proto__`, broken JSON, a body over the
 * limit or of another type, the wrong shape for the schema, a key given twice, a malformed id or query, no valid credentials.
 */
export function refusedKinds(route: FuzzRoute): string[] {
  const v1 = route.caller === 'agent' || route.caller === 'admin';
  // The HubSpot app's routes read a body only where they have one; the API's parser reads every body.
  const readsBody = v1 || route.body !== undefined;
  const kinds = ['bad_auth'];
  if (readsBody) kinds.push('nul', 'surrogate', 'deep', 'proto_key', 'malformed', 'oversize');
  if (v1) kinds.push('content_type');
  if (route.body) kinds.push('root_type');
  if (route.body && route.caller !== 'hubspot_webhook')
    kinds.push('unknown_key', 'missing_required', 'wrong_type', 'too_long', 'duplicate_key');
  if (Object.keys(route.pathParams).length > 0) kinds.push('bad_path_param');
  if (route.query) kinds.push('bad_query');
  return kinds;
}

/** Kinds the route may accept or refuse; only a 5xx is wrong. */
export const ACCEPTABLE_KINDS = ['as_generated', 'prototype_keys', 'unicode', 'big_numbers', 'swapped_node'];

export interface MutationContext {
  route: FuzzRoute;
  definitions: Definitions;
  maxBodyBytes: number;
  random: Random;
}

export function mutate(
  kind: string,
  base: { body: unknown; pathParams: Record<string, string>; query: Record<string, string> },
  context: MutationContext,
): FuzzInput {
  const { route, random } = context;
  const body = structuredClone(base.body);
  const input: FuzzInput = { kind, pathParams: { ...base.pathParams }, query: { ...base.query }, auth: 'valid' };
  const withBody = (value: unknown) => ({ ...input, body: JSON.stringify(value) });
  const asJsonBody = route.body ? withBody(body) : input;
  switch (kind) {
    case 'as_generated':
      return asJsonBody;
    case 'bad_auth':
      return {
        ...asJsonBody,
        auth: pick(
          random,
          route.caller === 'agent' || route.caller === 'admin'
            ? (['missing', 'wrong'] as const)
            : (['missing', 'wrong', 'stale_timestamp', 'loose_timestamp'] as const),
        ),
      };
    case 'nul':
      return withBody(injectText(body ?? {}, '\u0000', random));
    case 'surrogate':
      return withBody(injectText(body ?? {}, pick(random, LONE_SURROGATES), random));
    case 'deep': {
      const levels = pick(random, [33, 64, 1_000, 10_000]);
      const [open, close] = random() < 0.5 ? ['[', ']'] : ['{"a":', '}'];
      const text = JSON.stringify(replaceRandomNode(body ?? {}, DEEP, random));
      return { ...input, body: text.replace(JSON.stringify(DEEP), `${open.repeat(levels)}1${close.repeat(levels)}`) };
    }
    case 'proto_key': {
      const target = pick(random, objectsIn(body ?? {}));
      Object.defineProperty(target, '__proto__', {
        value: { polluted: true },
        enumerable: true,
        configurable: true,
        writable: true,
      });
      return withBody(body ?? target);
    }
    case 'malformed': {
      const text = JSON.stringify(body ?? {});
      const broken = pick(random, [
        text.slice(0, 1 + Math.floor(random() * (text.length - 1))),
        `${text},`,
        text.replace(/"/, ''),
        `${text}}`,
        `{'a': 1}`,
      ]);
      return { ...input, body: isJson(broken) ? `${broken},` : broken };
    }
    case 'oversize':
      return {
        ...input,
        body: JSON.stringify({ pad: 'x'.repeat(context.maxBodyBytes + 1 + Math.floor(random() * 1_000)), value: body }),
      };
    case 'content_type':
      return { ...input, body: JSON.stringify(body ?? {}), contentType: pick(random, WRONG_CONTENT_TYPES) };
    case 'root_type':
      return withBody(
        pick<unknown>(
          random,
          route.caller === 'hubspot_webhook' ? [{}, 'x', 1, null, true] : [[], [body], 'x', 1, null, true],
        ),
      );
    case 'unknown_key':
      return withBody({ ...(body as object), unexpectedField: 1 });
    case 'duplicate_key': {
      // A key of the body given once more, with its own value: otherwise a request the route may accept.
      const object = body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {};
      const entries = Object.entries(object);
      const [key, value] = entries.length > 0 ? pick(random, entries) : ['unexpectedField', 1];
      const text = JSON.stringify(object);
      const again = JSON.stringify({ [key]: value }).slice(1, -1);
      return { ...input, body: text === '{}' ? `{${again},${again}}` : `{${again},${text.slice(1)}` };
    }
    case 'missing_required':
    case 'wrong_type':
    case 'too_long':
      return withBody(breakSchema(kind, body as Record<string, unknown>, context));
    case 'bad_path_param': {
      const name = pick(random, Object.keys(route.pathParams));
      return {
        ...asJsonBody,
        pathParams: {
          ...input.pathParams,
          [name]: pick(random, ['not-an-id', '%00', '%ED%A0%80', '0'.repeat(300), '1e3', '-1', "1'--", '%2e%2e']),
        },
      };
    }
    case 'bad_query': {
      // Every query schema is strict, and no parameter takes NUL; the client sets HubSpot's portalId, userId and appId itself.
      const name = pick(random, [
        'unexpected',
        ...Object.keys(route.query?.properties ?? {}).filter((key) => !['portalId', 'userId', 'appId'].includes(key)),
      ]);
      const value =
        name === 'unexpected' ? 'x' : pick(random, ['\u0000', 'a\u0000b', `${input.query[name] ?? ''}\u0000`]);
      return { ...asJsonBody, query: { ...input.query, [name]: value } };
    }
    case 'prototype_keys': {
      for (const target of objectsIn(body ?? {}))
        if (random() < 0.5) target[pick(random, PROTOTYPE_KEYS)] = pick(random, ['x', 1, null, {}]);
      return withBody(body);
    }
    case 'unicode':
      return withBody(
        injectText(body ?? {}, pick(random, ['🚀', '\u202e', '\u200b', 'é', '\uffff', '\ud83d\ude00']), random),
      );
    case 'big_numbers':
      return withBody(
        replaceRandomNode(body ?? {}, pick(random, [1e308, -1e308, 2 ** 53 + 1, -0, 0.1 + 0.2, 1e-300]), random),
      );
    case 'swapped_node':
      return withBody(
        replaceRandomNode(body ?? {}, pick(random, [{}, [], '', 'x', 0, true, null, [[[]]], { a: { b: {} } }]), random),
      );
    default:
      throw new Error(`unknown mutation ${kind}`);
  }
}

type Node = Record<string, unknown> | unknown[];

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function objectsIn(root: unknown): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const stack = [root];
  while (stack.length) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    if (!Array.isArray(value)) found.push(value as Record<string, unknown>);
    stack.push(...Object.values(value));
  }
  return found;
}

/** Every place a value sits: [container, key]. */
function slotsIn(root: unknown): [Node, string | number][] {
  const slots: [Node, string | number][] = [];
  const stack = [root];
  while (stack.length) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    for (const [key, inner] of Object.entries(value)) {
      slots.push([value as Node, Array.isArray(value) ? Number(key) : key]);
      stack.push(inner);
    }
  }
  return slots;
}

function replaceRandomNode(root: unknown, replacement: unknown, random: Random): unknown {
  const slots = slotsIn(root);
  if (slots.length === 0 || random() < 0.2)
    return Array.isArray(root) ? [...root, replacement] : { ...(root as object), injected: replacement };
  const [container, key] = pick(random, slots);
  (container as Record<string | number, unknown>)[key] = replacement;
  return root;
}

/** Puts `fragment` into a string value or a key somewhere in `root`, or adds one that has it. */
function injectText(root: unknown, fragment: string, random: Random): unknown {
  const slots = slotsIn(root);
  const strings = slots.filter(
    ([container, key]) => typeof (container as Record<string | number, unknown>)[key] === 'string',
  );
  const keys = slots.filter(([container]) => !Array.isArray(container));
  const choice = random();
  if (choice < 0.6 && strings.length > 0) {
    const [container, key] = pick(random, strings);
    const value = (container as Record<string | number, string>)[key]!;
    const at = Math.floor(random() * (value.length + 1));
    (container as Record<string | number, string>)[key] = value.slice(0, at) + fragment + value.slice(at);
    return root;
  }
  if (choice < 0.85 && keys.length > 0) {
    const [container, key] = pick(random, keys) as [Record<string, unknown>, string];
    const value = container[key];
    delete container[key];
    container[`${key}${fragment}`] = value;
    return root;
  }
  return Array.isArray(root) ? [...root, `x${fragment}`] : { ...(root as object), [`note${fragment}`]: `x${fragment}` };
}

const JSON_TYPES = ['object', 'array', 'string', 'number', 'boolean', 'null'] as const;
const SAMPLE_OF: Record<(typeof JSON_TYPES)[number], unknown> = {
  object: { a: 1 },
  array: [1],
  string: 'x',
  number: 42,
  boolean: true,
  null: null,
};

function typesOf(schema: JsonSchema, definitions: Definitions): Set<string> {
  const resolved = resolve(schema, definitions);
  if (resolved.const !== undefined) return new Set([jsonType(resolved.const)]);
  if (resolved.enum) return new Set(resolved.enum.map(jsonType));
  const union = resolved.anyOf ?? resolved.oneOf;
  if (union) return new Set(union.flatMap((inner) => [...typesOf(inner, definitions)]));
  const types = Array.isArray(resolved.type) ? resolved.type : resolved.type ? [resolved.type] : [...JSON_TYPES];
  return new Set(types.map((type) => (type === 'integer' ? 'number' : type)));
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** The object shapes a body may take: one, or each branch of a union. */
export function rootVariants(schema: JsonSchema, definitions: Definitions): JsonSchema[] {
  const resolved = resolve(schema, definitions);
  const union = resolved.anyOf ?? resolved.oneOf;
  return union ? union.flatMap((inner) => rootVariants(inner, definitions)) : [resolved];
}

/** Breaks the body where every shape it may take has a constraint: a required field gone, of the wrong type, or too long. */
function breakSchema(kind: string, body: Record<string, unknown>, context: MutationContext): unknown {
  const variants = rootVariants(context.route.body!, context.definitions);
  const requiredEverywhere = (variants[0]?.required ?? []).filter((name) =>
    variants.every((variant) => variant.required?.includes(name)),
  );
  if (kind === 'missing_required' && requiredEverywhere.length > 0) {
    delete body[pick(context.random, requiredEverywhere)];
    return body;
  }
  if (kind === 'wrong_type') {
    for (const name of [...requiredEverywhere].sort(() => context.random() - 0.5)) {
      const allowed = new Set(
        variants.flatMap((variant) =>
          variant.properties?.[name] ? [...typesOf(variant.properties[name]!, context.definitions)] : [],
        ),
      );
      const wrong = JSON_TYPES.filter((type) => !allowed.has(type));
      if (wrong.length > 0) return { ...body, [name]: SAMPLE_OF[pick(context.random, wrong)] };
    }
  }
  if (kind === 'too_long') {
    const bounded = Object.keys(body).filter((name) =>
      variants.every(
        (variant) =>
          variant.properties?.[name] && resolve(variant.properties[name]!, context.definitions).maxLength !== undefined,
      ),
    );
    if (bounded.length > 0) {
      const name = pick(context.random, bounded);
      const max = Math.max(
        ...variants.map((variant) => resolve(variant.properties![name]!, context.definitions).maxLength!),
      );
      return { ...body, [name]: 'x'.repeat(max + 1) };
    }
  }
  // No such constraint on this route's body: break its shape at the root instead.
  return [body];
}
