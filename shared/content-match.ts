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
