import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateKeyIn, parseJson } from '../../shared/json-text.ts';

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

describe('duplicateKeyIn finds a key one object gives twice, at any depth and width', () => {
  // An object as the list of its members, so a key may repeat; written out by hand, as JSON.stringify cannot.
  type Members = { members: [string, Tree][] } | { items: Tree[] } | { leaf: string };
  type Tree = Members;
  const text = (tree: Tree): string =>
    'members' in tree
      ? `{${tree.members.map(([key, value]) => `${JSON.stringify(key)}:${text(value)}`).join(',')}}`
      : 'items' in tree
        ? `[${tree.items.map(text).join(',')}]`
        : JSON.stringify(tree.leaf);
  const repeats = (tree: Tree): boolean =>
    'members' in tree
      ? new Set(tree.members.map(([key]) => key)).size < tree.members.length ||
        tree.members.some(([, value]) => repeats(value))
      : 'items' in tree && tree.items.some(repeats);

  it('agrees with a count of each object’s keys, for objects of a few keys and of more than a list holds', () => {
    // Few distinct keys, so repeats are common; up to 80 members, past the point where keys go into a Set.
    const key = fc.oneof(fc.constantFrom('a', 'b', '"', '\\', 'é'), fc.integer({ min: 0, max: 60 }).map(String));
    const tree = fc.letrec<{ tree: Tree }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        fc.string({ maxLength: 3 }).map((leaf) => ({ leaf })),
        fc.array(tie('tree'), { maxLength: 3 }).map((items) => ({ items })),
        fc.array(fc.tuple(key, tie('tree')), { maxLength: 80 }).map((members) => ({ members })),
      ),
    })).tree;
    fc.assert(
      fc.property(tree, (generated) => {
        expect(duplicateKeyIn(text(generated)) !== undefined).toBe(repeats(generated));
      }),
      { numRuns: 500 },
    );
  });

  it('names the key and the path of its object, in a wide object as in a small one', () => {
    const wide = Array.from({ length: 100 }, (_, i) => `"k${i}":${i}`).join(',');
    expect(duplicateKeyIn(`{"a":[{}, {${wide},"k7":0}]}`)).toEqual({ key: 'k7', path: ['a', 1] });
    expect(duplicateKeyIn(`{"a":{"b":1,"b":2}}`)).toEqual({ key: 'b', path: ['a'] });
    expect(duplicateKeyIn(`[{"b":1},{"b":2}]`)).toBeUndefined();
  });
});
