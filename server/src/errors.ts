import type { ErrorCode } from '../../shared/errors.ts';
import { duplicateKeyIn } from '../../shared/json-text.ts';
import { findJsonProblem } from '../../shared/safe-text.ts';

/** The one error type the app throws on purpose: a stable code, a sentence a person understands, and the cause kept. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Whether repeating the same call may succeed (rate limits, outages). */
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }
}

/** The database driver's own error (pg's or PGlite's: a SQLSTATE and a severity) in an error's cause chain. */
export function databaseErrorIn(error: unknown): { code: string; constraint?: unknown } | undefined {
  for (let current: unknown = error, depth = 0; isObject(current) && depth < 8; current = current.cause, depth++)
    if (typeof current.code === 'string' && typeof current.severity === 'string')
      return current as { code: string; constraint?: unknown };
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> & { cause?: unknown } {
  return typeof value === 'object' && value !== null;
}

/**
 * Refuses, before any database or CRM work, what no request accepts anywhere in a JSON body
 * (issue 17): nesting past the limit (recursive code would overflow its stack) and text Postgres
 * would not store as sent (NUL, lone surrogates), in values and keys alike, free-form parts included.
 */
export function assertSafeJson(value: unknown, what: string): void {
  const problem = findJsonProblem(value);
  if (!problem) return;
  const path = problem.path.length ? problem.path.join('.') : '(root)';
  throw new AppError('VALIDATION_FAILED', `${what} is invalid: ${path} ${problem.message}`, {
    details: { issues: [{ path, message: problem.message }] },
  });
}

/**
 * Refuses a JSON text in which one object holds a key twice: parsed, one of the two values would
 * be dropped without a word, and the text a person reviewed (a policy file) or an agent sent would
 * be applied as something else than it reads (issue 17).
 */
export function assertUniqueKeys(text: string, what: string): void {
  const duplicate = duplicateKeyIn(text);
  if (!duplicate) return;
  const path = duplicate.path.length ? duplicate.path.join('.') : '(root)';
  const message = `holds the key "${duplicate.key}" twice; give each key once, since one of the two values would be lost`;
  throw new AppError('VALIDATION_FAILED', `${what} is invalid: ${path} ${message}`, {
    details: { issues: [{ path, message }] },
  });
}
