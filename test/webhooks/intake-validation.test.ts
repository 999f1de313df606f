import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type HubSpotWebhookEvent,
  hubspotWebhookEventSchema,
  isCommonHubSpotEvent,
} from '../../shared/hubspot-webhooks.ts';
import { parseJson } from '../../shared/json-text.ts';
import { findJsonProblem } from '../../shared/safe-text.ts';
import { AppError, assertSafeJson } from '../../server/src/errors.ts';
import { readWebhookEvents } from '../../server/src/services/webhooks/index.ts';

/**
 * The intake checks HubSpot's usual events by hand (issue 18); the contract is still the schema
 * and the safe-text walk. Every delivery below must get the verdict the contract alone gives:
 * the same refusal of the whole body (code, sentence, details), the same problem per element,
 * the same events accepted.
 */
type Verdict =
  | { refused: { code: string; message: string; details: unknown } }
  | { events: ({ ok: true; event: unknown } | { ok: false; problem: string })[] };

function refusal(error: unknown): Verdict {
  if (!(error instanceof AppError)) throw error;
  return { refused: { code: error.code, message: error.message, details: error.details } };
}

/** What the intake answered before the hand check: the safe-text walk, then the schema per element. */
function contractVerdict(body: unknown[]): Verdict {
  try {
    assertSafeJson(body, 'The webhook body');
  } catch (error) {
    return refusal(error);
  }
  return {
    events: body.map((element) => {
      const event = hubspotWebhookEventSchema.safeParse(element);
      if (event.success) return { ok: true, event: event.data };
      const issue = event.error.issues[0];
      return {
        ok: false,
        problem: issue ? `${issue.path.join('.') || 'the event'}: ${issue.message}` : 'not a HubSpot event',
      };
    }),
  };
}

function intakeVerdict(body: unknown[]): Verdict {
  try {
    return { events: readWebhookEvents(body) };
  } catch (error) {
    return refusal(error);
  }
}

/** The delivery as given, and as the intake reads it from JSON text (NUL and lone surrogates as escapes). */
function expectSameVerdicts(body: unknown[]): void {
  expect(intakeVerdict(body)).toEqual(contractVerdict(body));
  const read = parseJson(JSON.stringify(body)) as unknown[];
  expect(intakeVerdict(read)).toEqual(contractVerdict(read));
}

type Field = keyof typeof hubspotWebhookEventSchema.shape;
const FIELDS = Object.keys(hubspotWebhookEventSchema.shape) as Field[];

/** The lengths and bounds the schema states, so the edges tried below move when the schema does. */
function limitsOf(field: Field): number[] {
  const schema = hubspotWebhookEventSchema.shape[field];
  const inner = ('unwrap' in schema ? schema.unwrap() : schema) as unknown as {
    minLength?: number | null;
    maxLength?: number | null;
    minValue?: number | null;
    maxValue?: number | null;
    def: { checks?: { _zod: { def: { maximum?: number } } }[] };
  };
  const stated = [
    inner.minLength,
    inner.maxLength,
    inner.minValue,
    inner.maxValue,
    ...(inner.def.checks ?? []).map((check) => check._zod.def.maximum),
  ];
  return stated.filter((limit): limit is number => typeof limit === 'number' && Number.isFinite(limit));
}
const LIMITS = [...new Set(FIELDS.flatMap(limitsOf))];
const NEAR_LIMITS = [...new Set(LIMITS.flatMap((limit) => [limit - 1, limit, limit + 1]))];

const HOSTILE_TEXT = ['\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\udc00\ud800', '\ud83d'];
const SAFE_TEXT = ['', 'a', 'contact.propertyChange', 'é', '😀', ' ', '"quoted"', 'back\\slash', 'line\nbreak'];

/** Every way a field's value can be wrong, or right at an edge. */
const VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  0.5,
  -2.5,
  1e308,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  Number.MIN_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER - 1,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  ...NEAR_LIMITS,
  ...NEAR_LIMITS.map((limit) => -limit),
  ...SAFE_TEXT,
  ...HOSTILE_TEXT,
  '1',
  ...NEAR_LIMITS.filter((length) => length >= 0 && length <= 70_000).flatMap((length) => [
    'x'.repeat(length),
    `${'x'.repeat(Math.max(0, length - 1))}\u0000`,
  ]),
  [],
  [1, 2, 3],
  [1, 0.5],
  [1, '2'],
  [1, null],
  [[1]],
  ...NEAR_LIMITS.filter((length) => length >= 0 && length <= 5_000).map((length) =>
    Array.from({ length }, (_, index) => index),
  ),
  {},
  { value: 1 },
  { '\u0000': 1 },
  nested(40),
];

/** An array nested `depth` levels deep around one number. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level += 1) value = level % 2 ? { inner: value } : [value];
  return value;
}

/** Builds an object as JSON.parse does: a `__proto__` key is an own property like any other. */
function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  return Object.fromEntries(entries);
}

const VALID: HubSpotWebhookEvent = {
  eventId: 12,
  subscriptionId: 310_002,
  portalId: 7,
  appId: 4_242_424,
  occurredAt: 1_760_000_000_000,
  subscriptionType: 'contact.propertyChange',
  attemptNumber: 0,
  objectId: 1001,
  propertyName: 'jobtitle',
  propertyValue: 'CTO',
  changeSource: 'CRM_UI',
  sourceId: 'userId:9001',
};

const safeText = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', 'é', '😀', ' ', '"', '\\', '\n', '.'),
  maxLength: 12,
});
const anyText = fc.oneof(
  safeText,
  fc.string({ unit: fc.constantFrom('a', '\u0000', '\ud800', '\udfff', '😀', '\ud83d', '\ude00'), maxLength: 6 }),
);
const nonNegative = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const positive = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const anyInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

/** Events the schema accepts, with any of the optional fields. */
const validEvent = fc.record(
  {
    eventId: nonNegative,
    subscriptionId: anyInt,
    portalId: positive,
    appId: anyInt,
    occurredAt: positive,
    subscriptionType: fc.string({ minLength: 1, maxLength: 200 }).filter((text) => text.isWellFormed()),
    attemptNumber: nonNegative,
    objectId: nonNegative,
    objectTypeId: fc.constantFrom('0-1', '0-2', '2-123456'),
    changeSource: safeText,
    sourceId: safeText,
    propertyName: safeText,
    propertyValue: fc.oneof(safeText, fc.constantFrom('', 'x'.repeat(65_536))),
    primaryObjectId: anyInt,
    mergedObjectIds: fc.array(anyInt, { maxLength: 5 }),
    newObjectId: anyInt,
  },
  { requiredKeys: ['eventId', 'portalId', 'occurredAt', 'subscriptionType', 'objectId'] },
);

const anyValue = fc.oneof(
  fc.constantFrom(...VALUES),
  anyText,
  anyInt,
  fc.double(),
  fc.integer({ min: 0, max: 40 }).map(nested),
  fc.jsonValue({ maxDepth: 3 }),
);
const extraKey = fc.oneof(
  safeText,
  anyText,
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', ...FIELDS),
);

/** A valid event, then some fields removed or set to anything, then fields the schema does not name. */
const anyEvent = fc
  .tuple(
    validEvent,
    fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.option(anyValue, { nil: undefined })), { maxLength: 3 }),
    fc.array(fc.tuple(extraKey, fc.oneof(anyText, anyInt, fc.boolean(), fc.constant(null), anyValue)), {
      maxLength: 3,
    }),
  )
  .map(([event, changes, extra]) => {
    const entries = new Map<string, unknown>(Object.entries(event));
    for (const [field, value] of changes) {
      if (value === undefined) entries.delete(field);
      else entries.set(field, value);
    }
    for (const [key, value] of extra) entries.set(key, value);
    return objectOf([...entries]);
  });

const anyElement = fc.oneof({ weight: 8, arbitrary: anyEvent }, { weight: 1, arbitrary: anyValue });

describe('the intake reads deliveries as the schema and the safe-text walk do', () => {
  it('gives every field, wrong in each way or at each edge the schema states, the contract verdict', () => {
    for (const field of FIELDS) {
      expectSameVerdicts([objectOf(Object.entries(VALID).filter(([key]) => key !== field))]);
      for (const value of VALUES) expectSameVerdicts([{ ...VALID, [field]: value }, VALID]);
    }
  });

  it('gives the contract verdict on fields beyond the schema: hostile keys and text, __proto__, nesting', () => {
    for (const key of ['extra', '__proto__', '\u0000', 'k\ud800', 'constructor', 'toString'])
      for (const value of VALUES) expectSameVerdicts([VALID, objectOf([...Object.entries(VALID), [key, value]])]);
  });

  it('gives the contract verdict on generated deliveries', () => {
    fc.assert(
      fc.property(fc.array(anyElement, { maxLength: 6 }), (body) => expectSameVerdicts(body)),
      { numRuns: 2_000, seed: 18 },
    );
  });

  it('gives the contract verdict on bodies read from JSON text: numbers past a double, escaped NUL and surrogates', () => {
    const event = JSON.stringify(VALID).slice(1, -1);
    for (const text of [
      `[{${event},"objectId":1e400}]`,
      `[{${event},"appId":-1e400}]`,
      `[{${event},"propertyValue":"a\\u0000"}]`,
      `[{${event},"propertyValue":"\\ud83d\\ude00"}]`,
      `[{${event},"propertyValue":"\\ude00\\ud83d"}]`,
      `[{${event},"note\\ud800":1}]`,
      `[{${event},"__proto__":{"polluted":true}}]`,
      `[{${event}},${'['.repeat(40)}${']'.repeat(40)}]`,
    ]) {
      const body = parseJson(text) as unknown[];
      expect(intakeVerdict(body)).toEqual(contractVerdict(body));
    }
  });
});

describe('isCommonHubSpotEvent', () => {
  it('accepts only events the schema accepts and the safe-text walk finds nothing in', () => {
    fc.assert(
      fc.property(anyElement, (element) => {
        if (!isCommonHubSpotEvent(element)) return;
        expect(hubspotWebhookEventSchema.safeParse(element).success).toBe(true);
        expect(findJsonProblem([element])).toBeUndefined();
      }),
      { numRuns: 5_000, seed: 18 },
    );
  });

  it('accepts every valid event whose other fields are flat, so usual deliveries skip the schema', () => {
    const flat = fc.dictionary(
      safeText.filter((key) => !(key in hubspotWebhookEventSchema.shape) && key !== '__proto__'),
      fc.oneof(safeText, anyInt, fc.double(), fc.boolean(), fc.constant(null)),
      { maxKeys: 3 },
    );
    fc.assert(
      fc.property(validEvent, flat, (event, extra) => {
        expect(isCommonHubSpotEvent({ ...event, ...extra })).toBe(true);
      }),
      { numRuns: 1_000, seed: 18 },
    );
  });
});
