/**
 * What the database keeps of a value, worked out before it is hashed (issue 17): the chain must hash
 * exactly what is stored, or one odd input makes its event fail verification for ever, and the log
 * is append-only so it cannot be mended.
 *
 * - Text reaches Postgres as UTF-8, which has no lone surrogates: each becomes U+FFFD, as Node's
 *   encoder writes it. Postgres text refuses NUL altogether; we replace each NUL with U+FFFD too,
 *   rather than refuse the event or drop the character, so a record of something that happened
 *   (a CRM write already made) is never lost for its text, and the mark shows where text was lost.
 *   JSON columns would keep both as escapes, but the log holds the same text in every column.
 * - A uuid column prints ids lowercase and hyphenated, whatever spelling it accepted.
 */

const REPLACEMENT = '\uFFFD';

export function storableText(text: string): string {
  // The fast path: an agent's text is almost always well formed and free of NUL.
  if (text.isWellFormed() && !text.includes('\0')) return text;
  return text.toWellFormed().replaceAll('\0', REPLACEMENT);
}

export function storableNullableText(text: string | null): string | null {
  return text === null ? null : storableText(text);
}

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Postgres's uuid input: 32 hex digits, a hyphen allowed after any group of four, optionally in braces.
const ACCEPTED_UUID = /^[0-9a-fA-F]{4}(?:-?[0-9a-fA-F]{4}){7}$/;

export function storableUuid(id: string | null): string | null {
  if (id === null || CANONICAL_UUID.test(id)) return id;
  const bare = id.startsWith('{') && id.endsWith('}') ? id.slice(1, -1) : id;
  // Anything else Postgres refuses, and the event with it: nothing is stored, so nothing can fail to verify.
  if (!ACCEPTED_UUID.test(bare)) return id;
  const hex = bare.replaceAll('-', '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A copy of a JSON value with every object's keys in code-unit order and every string and key
 * storable, in one walk: the form canonicalJson gives the value once it is read back, so hashing
 * this copy and storing it agree.
 */
export function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(storableJson);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return storableJson((value as { toJSON(): unknown }).toJSON());
  const keys = Object.keys(value);
  const entries = keys.every((key) => storableText(key) === key)
    ? keys.sort().map((key): [string, unknown] => [key, (value as Record<string, unknown>)[key]])
    : storableEntries(value as Record<string, unknown>, keys);
  const sorted: Record<string, unknown> = {};
  for (const [key, inner] of entries) {
    // Assigning __proto__ would set the copy's prototype and drop the key from the hash.
    if (key === '__proto__')
      Object.defineProperty(sorted, key, {
        value: storableJson(inner),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else sorted[key] = storableJson(inner);
  }
  return sorted;
}

// Sorted after the keys are made storable: two keys that become one keep the later one's value.
function storableEntries(value: Record<string, unknown>, keys: string[]): [string, unknown][] {
  return keys
    .map((key): [string, unknown] => [storableText(key), value[key]])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
