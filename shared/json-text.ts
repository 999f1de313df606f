/**
 * JSON text to value, exactly, on every Node this project runs on.
 *
 * V8's JSON.parse (Node 24 and 26, V8 12.8 to 14.6; nodejs/node#63785, unfixed) can decode an
 * object key that holds an escape wrongly: once the process has parsed an object whose next key
 * held a literal backslash, a key whose source starts with the same characters takes that key's
 * map transition. After `{"y":1,"q\\":1}`, the key of `{"y":1,"q\n":1}` reads as `q\`, and `"\""`
 * reads as `\`. So one agent could alter another's evidence on its way in, and an audit event
 * stored correctly could read back as altered, depending only on what the process parsed before.
 *
 * The bug needs a backslash in a key, so a text without one is parsed natively. A text with one is
 * still checked by JSON.parse (the same errors, the same accepted grammar) and then built again
 * here, where keys are decoded as plain strings and assigned like any property.
 */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return text.includes('\\') ? rebuild(text) : value;
}

type Container = unknown[] | Record<string, unknown>;

/** Builds the value of a text JSON.parse accepted; iterative, so nesting is limited by memory only. */
function rebuild(text: string): unknown {
  const open: Container[] = [];
  let root: unknown;
  let key: string | undefined;
  let expectKey = false;
  const place = (value: unknown) => {
    const parent = open.at(-1);
    if (parent === undefined) root = value;
    else if (Array.isArray(parent)) parent.push(value);
    else setOwn(parent, key!, value);
  };
  let at = 0;
  while (at < text.length) {
    const char = text[at]!;
    if (char === '"') {
      const end = endOfString(text, at);
      const raw = text.slice(at + 1, end);
      const value = raw.includes('\\') ? (JSON.parse(text.slice(at, end + 1)) as string) : raw;
      if (expectKey) {
        key = value;
        expectKey = false;
      } else place(value);
      at = end + 1;
    } else if (char === '{' || char === '[') {
      const container: Container = char === '{' ? {} : [];
      place(container);
      open.push(container);
      expectKey = char === '{';
      at += 1;
    } else if (char === '}' || char === ']') {
      open.pop();
      at += 1;
    } else if (char === ',') {
      expectKey = !Array.isArray(open.at(-1));
      at += 1;
    } else if (char === 't' || char === 'n') {
      place(char === 't' ? true : null);
      at += 4;
    } else if (char === 'f') {
      place(false);
      at += 5;
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      let end = at + 1;
      while (end < text.length && NUMBER_CHARS.has(text[end]!)) end += 1;
      place(Number(text.slice(at, end)));
      at = end;
    } else at += 1; // whitespace and ':'
  }
  return root;
}

/**
 * The first key that one object of this JSON text holds twice, and that object's path. JSON.parse keeps the
 * last value and drops the other without a word, so a text a person reads (a policy whose second
 * `"jobtitle"` rule loosens the first, an agent's two values for one property) would be taken as
 * something else than it says, and a signed body another parser reads by its first key says two
 * things under one signature. Walks the text as `rebuild` does, building no values.
 */
export function duplicateKeyIn(text: string): { key: string; path: (string | number)[] } | undefined {
  // One frame per open container: an object's keys so far, or an array's position.
  const frames: (ObjectKeys | { index: number })[] = [];
  const pathOfObject = () => frames.slice(0, -1).map((frame) => ('index' in frame ? frame.index : frame.last()));
  let expectKey = false;
  let at = 0;
  while (at < text.length) {
    const char = text.charCodeAt(at);
    if (char === QUOTE) {
      const end = endOfString(text, at);
      if (expectKey) {
        const raw = text.slice(at + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(at, end + 1)) as string) : raw;
        // Keys are added in order, so the last one is the one whatever opens next nests under.
        // Only an object's opening or comma expects a key, so the innermost frame is that object.
        if (!(frames.at(-1) as ObjectKeys).add(key)) return { key, path: pathOfObject() };
        expectKey = false;
      }
      at = end + 1;
    } else if (char === OPEN_OBJECT) {
      frames.push(new ObjectKeys());
      expectKey = true;
      at += 1;
    } else if (char === OPEN_ARRAY) {
      frames.push({ index: 0 });
      expectKey = false;
      at += 1;
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      frames.pop();
      expectKey = false;
      at += 1;
    } else if (char === COMMA) {
      const frame = frames.at(-1);
      if (frame instanceof ObjectKeys) expectKey = true;
      else if (frame !== undefined) frame.index += 1;
      at += 1;
    } else at += 1;
  }
  return undefined;
}

const QUOTE = '"'.charCodeAt(0);
const COMMA = ','.charCodeAt(0);
const OPEN_OBJECT = '{'.charCodeAt(0);
const CLOSE_OBJECT = '}'.charCodeAt(0);
const OPEN_ARRAY = '['.charCodeAt(0);
const CLOSE_ARRAY = ']'.charCodeAt(0);

/**
 * One object's keys, in order. Most objects hold a few keys, and searching a short list costs less
 * than hashing every key into a Set (most of a webhook delivery's check); past a few dozen, a Set,
 * so an object of a hundred thousand keys is still checked in linear time.
 */
class ObjectKeys {
  static readonly LIST_LIMIT = 32;
  private readonly list: string[] = [];
  private set: Set<string> | undefined;
  private lastKey = '';

  /** Adds the key; false when the object holds it already. */
  add(key: string): boolean {
    if (this.set ? this.set.has(key) : this.list.includes(key)) return false;
    this.lastKey = key;
    if (this.set) this.set.add(key);
    else if (this.list.push(key) > ObjectKeys.LIST_LIMIT) this.set = new Set(this.list);
    return true;
  }

  last(): string {
    return this.lastKey;
  }
}

const NUMBER_CHARS = new Set('0123456789+-.eE');

/** The index of the quote closing the string that opens at `start`. */
function endOfString(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    const next = text.indexOf('"', at);
    let backslashes = 0;
    while (text[next - 1 - backslashes] === '\\') backslashes += 1;
    if (backslashes % 2 === 0) return next;
    at = next + 1;
  }
}

/** As JSON.parse does: `__proto__` is an own property like any other, never the object's prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
