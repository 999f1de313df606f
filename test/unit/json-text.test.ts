import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../../shared/json-text.ts';

const keysOf = (value: unknown) => Object.keys(value as object);

describe('parseJson reads keys exactly where JSON.parse may not (nodejs/node#63785)', () => {
  it('decodes escaped keys correctly after the process parsed look-alike keys', () => {
    // Each pair: a key ending in a literal backslash, then a key with an escape at that place.
    JSON.parse('{"y":1,"q\\\\":1}');
    JSON.parse('{"h":[],"\\\\":0}');
    expect(keysOf(parseJson('{"y":1,"q\\n":1}'))).toEqual(['y', 'q\n']);
    expect(keysOf(parseJson('{"h":1,"\\"":2}'))).toEqual(['h', '"']);
  });

  it('round-trips any JSON value, keys with quotes, backslashes, escapes and __proto__ included', () => {
    const key = fc.oneof(
      fc.string({ unit: fc.constantFrom('\\', '"', 'q', '\n', '\u0000', '\ud800', 'é'), maxLength: 4 }),
      fc.constantFrom('__proto__', 'constructor', '0', '10'),
    );
    const value = fc.letrec((tie) => ({
      json: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: fc.constantFrom('\\', '"', 'a', '\t', '\udc00'), maxLength: 6 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('json'), { maxLength: 4 }),
        fc.dictionary(key, tie('json'), { maxKeys: 5 }),
      ),
    })).json;
    fc.assert(
      fc.property(value, (json) => {
        const text = JSON.stringify(json);
        // Compared as text: a misread key, or a __proto__ taken as the prototype, changes it.
        expect(JSON.stringify(parseJson(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps __proto__ an own key, never the prototype', () => {
    const value = parseJson('{"__proto__":{"polluted":true},"a\\n":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(keysOf(value)).toEqual(['__proto__', 'a\n']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses what JSON.parse refuses, and reads deep nesting without a stack overflow', () => {
    expect(() => parseJson('{"a\\n":')).toThrow(SyntaxError);
    expect(() => parseJson("{'a':1}")).toThrow(SyntaxError);
    const depth = 50_000;
    const deep = parseJson(`${'['.repeat(depth)}"\\n"${']'.repeat(depth)}`);
    let inner: unknown = deep;
    for (let level = 0; level < depth; level += 1) inner = (inner as unknown[])[0];
    expect(inner).toBe('\n');
  });
});
