import type { ErrorCode } from '../../shared/errors.ts';

/** The one error type the app throws on purpose: a stable code, a sentence a person understands, and the cause kept. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Whether repeating the same call may succeed (rate limits, outages). */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown; retryable?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }
}
