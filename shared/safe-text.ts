import { z } from 'zod';

/**
 * Text Postgres keeps exactly as it was sent (issue 17). Postgres text and jsonb cannot hold NUL
 * (U+0000), and a lone UTF-16 surrogate is stored as U+FFFD, so an audit event hashed as sent
 * would no longer verify once stored. Every text that enters (bodies, queries, webhook payloads,
 * CLI arguments) passes through `safeText` or `findJsonProblem`, both built on this test.
 */
export function isSafeText(value: string): boolean {
  return value.isWellFormed() && !value.includes('\0');
}

export const UNSAFE_TEXT_MESSAGE = 'must not contain a NUL character or an unpaired UTF-16 surrogate';

/** The one string schema every other schema in shared/ starts from. */
export const safeText = z.string().refine(isSafeText, UNSAFE_TEXT_MESSAGE);

/** Required text: trimmed, not empty, at most `max` characters. */
export const text = (max: number) => safeText.trim().min(1).max(max);

/**
 * JSON nesting any request may have: deep enough for every documented body (the deepest, a
 * change set's tool call input, starts at level 7), shallow enough that no recursive code
 * (serialisers, zod, the audit's canonical JSON) runs out of stack.
 */
export const MAX_JSON_DEPTH = 32;
/** Items in a free-form JSON array and characters in a free-form JSON string (evidence tool calls). */
export const MAX_FREE_JSON_ITEMS = 10_000;
export const MAX_FREE_JSON_TEXT = 100_000;

export interface JsonProblem {
  path: (string | number)[];
  message: string;
}

interface Visit {
  value: unknown;
  depth: number;
  key: string | number | undefined;
  parent: Visit | undefined;
}

/**
 * The first thing in a parsed JSON value that no route may accept: nesting deeper than
 * `maxDepth`, a key or string that is not safe text, or a `__proto__` key (harmless in jsonb, a
 * trap for any code that copies objects by assignment). Walks with its own stack, so a body
 * nested ten thousand levels deep is refused, not a stack overflow.
 */
export function findJsonProblem(
  root: unknown,
  limits: { maxDepth?: number; maxItems?: number; maxText?: number } = {},
): JsonProblem | undefined {
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const stack: Visit[] = [{ value: root, depth: 0, key: undefined, parent: undefined }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const { value } = visit;
    if (typeof value === 'string') {
      if (!isSafeText(value)) return problemAt(visit, UNSAFE_TEXT_MESSAGE);
      if (limits.maxText !== undefined && value.length > limits.maxText)
        return problemAt(visit, `must be at most ${limits.maxText} characters long`);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const depth = visit.depth + 1;
    if (depth > maxDepth) return problemAt(visit, `nests deeper than ${maxDepth} levels`);
    if (Array.isArray(value)) {
      if (limits.maxItems !== undefined && value.length > limits.maxItems)
        return problemAt(visit, `must list at most ${limits.maxItems} items`);
      for (const [index, item] of value.entries()) stack.push({ value: item, depth, key: index, parent: visit });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const child: Visit = { value: item, depth, key, parent: visit };
      if (!isSafeText(key))
        return problemAt({ ...child, key: JSON.stringify(key) }, `is a key that ${UNSAFE_TEXT_MESSAGE}`);
      if (key === '__proto__') return problemAt(child, 'is a key no request may use');
      stack.push(child);
    }
  }
  return undefined;
}

function problemAt(visit: Visit, message: string): JsonProblem {
  const path: (string | number)[] = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.unshift(at.key);
  return { path, message };
}

/** Free-form JSON inside a body (a tool call's input or output): any value, with safe keys and text, bounded. */
export const freeJson = z.unknown().superRefine((value, ctx) => {
  const problem = findJsonProblem(value, {
    maxDepth: MAX_JSON_DEPTH,
    maxItems: MAX_FREE_JSON_ITEMS,
    maxText: MAX_FREE_JSON_TEXT,
  });
  if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
});
