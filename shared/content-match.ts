import { RE2JS } from 're2js';

/**
 * The regular expressions of a policy's content rules (issue 21) run on RE2JS, RE2's linear-time
 * engine ported to JavaScript: no backtracking, so no pattern can hang the server whatever the
 * text. Unlike JavaScript's own RegExp it has no lookaround or back-references; a pattern using
 * them is refused when the policy is published.
 */
export interface ContentPattern {
  /** The first match in `text`, or undefined. */
  firstMatch(text: string): string | undefined;
}

/** Compiles a pattern, case-insensitive; throws with RE2's own words when it is not valid RE2 syntax. */
export function compilePattern(source: string): ContentPattern {
  const compiled = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  return {
    firstMatch(text) {
      const matcher = compiled.matcher(text);
      return matcher.find() ? (matcher.group() ?? undefined) : undefined;
    },
  };
}

/** Undefined when `source` compiles, else why not. */
export function patternProblem(source: string): string | undefined {
  try {
    compilePattern(source);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Each code point learned so far, with the smallest code point RE2's case-insensitive matching takes as the same letter. */
const caseFoldKeys = new Map<number, number>();

/**
 * Learns how RE2 folds case for `codePoints`, so that `caseFoldKey` can answer for them and for
 * every letter RE2 takes as one of them. The answer comes from RE2JS itself, not from JavaScript:
 * its Unicode tables decide that the Kelvin sign is a k and the long s an s, and that the dotless ı
 * is no i; a JavaScript runtime with other tables would disagree now and then. One scan of every
 * code point (about 0.2 s) finds the letters that fold with any of them; each is then sorted into
 * its set. What is learned is kept for the process: it never changes.
 */
export function learnCaseFolding(codePoints: Iterable<number>): void {
  const unknown = [...new Set(codePoints)].filter((codePoint) => !caseFoldKeys.has(codePoint));
  if (unknown.length === 0) return;
  const folding = everyCodePointMatching(`[${unknown.map(escapedCodePoint).join('')}]`, everyCodePoint());
  const foldingText = folding.map((codePoint) => String.fromCodePoint(codePoint)).join('');
  for (const codePoint of unknown) {
    if (caseFoldKeys.has(codePoint)) continue;
    const sameLetter = everyCodePointMatching(escapedCodePoint(codePoint), foldingText);
    const key = Math.min(...sameLetter);
    for (const member of sameLetter) caseFoldKeys.set(member, key);
  }
}

/**
 * The same number for code points RE2 matches as one letter without case. Exact for the code points
 * `learnCaseFolding` was given and those folding with them; any other code point is its own key,
 * which no learned one shares.
 */
export function caseFoldKey(codePoint: number): number {
  return caseFoldKeys.get(codePoint) ?? codePoint;
}

const escapedCodePoint = (codePoint: number) => `\\x{${codePoint.toString(16)}}`;

function everyCodePointMatching(source: string, text: string): number[] {
  const matcher = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE).matcher(text);
  const found: number[] = [];
  while (matcher.find()) found.push(matcher.group()!.codePointAt(0)!);
  return found;
}

/** Every Unicode scalar value but NUL, which no text holds (`isSafeText`), as UTF-16. */
function everyCodePoint(): string {
  const units = new Uint16Array(0xffff - 0x800 + 2 * (0x10ffff - 0xffff));
  let length = 0;
  for (let codePoint = 1; codePoint <= 0xffff; codePoint += 1) {
    if (codePoint < 0xd800 || codePoint > 0xdfff) units[length++] = codePoint;
  }
  for (let offset = 0; offset <= 0x10ffff - 0x10000; offset += 1) {
    units[length++] = 0xd800 + (offset >> 10);
    units[length++] = 0xdc00 + (offset & 0x3ff);
  }
  return new TextDecoder('utf-16le').decode(units);
}
