import type { ErrorRequestHandler } from 'express';
import { ZodError, type z } from 'zod';
import type { ErrorBody, ErrorCode } from '../../../shared/errors.ts';
import { describeZodIssue, readableMessage } from '../../../shared/zod-issues.ts';
import { AppError } from '../errors.ts';
import { errorLogField, type Logger } from '../logger.ts';

/** Exhaustive: a new code without a status does not compile. */
export function statusFor(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
    case 'MALFORMED_JSON':
    case 'UNKNOWN_PROPERTY':
    case 'INVALID_PROPERTY_VALUE':
    case 'POLICY_INVALID':
    case 'CONFIG_INVALID':
      return 400;
    case 'UNAUTHENTICATED':
    case 'WEBHOOK_SIGNATURE_MISSING':
    case 'WEBHOOK_SIGNATURE_INVALID':
    case 'WEBHOOK_TIMESTAMP_STALE':
      return 401;
    case 'FORBIDDEN':
    case 'AGENT_NOT_ACTIVE':
    case 'DELEGATION_INVALID':
    case 'APPROVAL_DECISION_FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
    case 'NO_ACTIVE_POLICY':
    case 'IDEMPOTENCY_IN_PROGRESS':
    case 'APPROVAL_NOT_DECIDABLE':
    case 'SECOND_ADMIN_REQUIRED':
    case 'REGRESSION_FAILED':
      return 409;
    case 'BODY_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'IDEMPOTENCY_KEY_REUSED':
    case 'CRM_SIGN_IN_FAILED':
    case 'DESTINATION_NOT_ALLOWED':
      return 422;
    case 'KILL_SWITCH_ENGAGED':
    case 'POLICY_LOCKED':
      return 423;
    case 'BUDGET_REACHED':
      return 429;
    case 'CRM_REJECTED':
    case 'CRM_AUTH_FAILED':
      return 502;
    case 'CRM_RATE_LIMITED':
    case 'CRM_UNAVAILABLE':
    case 'DATABASE_LOCKED':
      return 503;
    case 'INTERNAL':
      return 500;
  }
}

/** Validates one part of a request (body, query, a path parameter) or throws a 400 naming what is wrong. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value, { error: readableMessage });
  if (!parsed.success) throw validationError(parsed.error, what);
  return parsed.data;
}

/** Names each failing path in a sentence, as a person reading the response needs it. */
function validationError(error: ZodError, what: string): AppError {
  const issues = error.issues.map(describeZodIssue);
  const first = issues[0];
  const subject = first?.path === '(root)' ? 'it' : first?.path;
  const sentence = first ? `${what} is invalid: ${subject} ${first.message}` : `${what} is invalid.`;
  return new AppError(
    'VALIDATION_FAILED',
    issues.length > 1 ? `${sentence} (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : sentence,
    {
      details: { issues: issues.slice(0, 50) },
    },
  );
}

/** The REST API's error body. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return errorResponder(
    logger,
    (appError, requestId): ErrorBody => ({
      error: {
        code: appError.code,
        message: appError.message,
        requestId,
        ...(appError.details === undefined ? {} : { details: appError.details }),
      },
    }),
  );
}

/**
 * Answers an error with its code's status, in the body `bodyOf` gives (the REST API's, or JSON-RPC's
 * on /mcp); logged when the fault is ours, and with Retry-After when the same request may succeed.
 */
export function errorResponder(
  logger: Logger,
  bodyOf: (error: AppError, requestId: string) => object,
): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const requestId = String(res.locals.requestId ?? '');
    const appError = toAppError(error);
    if (appError.code === 'INTERNAL')
      logger.error('request failed', {
        requestId,
        method: req.method,
        path: req.baseUrl + req.path,
        error: errorLogField(error),
      });
    if (appError.retryable) res.setHeader('Retry-After', '5');
    res.status(statusFor(appError.code)).json(bodyOf(appError, requestId));
  };
}

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) return validationError(error, 'The request');
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') {
    // The limit, so a client knows how far to split rather than guess.
    const limit = (error as { limit?: unknown }).limit;
    if (typeof limit !== 'number')
      return new AppError('BODY_TOO_LARGE', 'The request body is larger than this server accepts; split the batch.');
    return new AppError(
      'BODY_TOO_LARGE',
      `The request body is larger than this server accepts (${limit} bytes, MAX_BODY_BYTES); split the batch.`,
      { details: { limitBytes: limit } },
    );
  }
  if (type === 'entity.parse.failed') return new AppError('MALFORMED_JSON', 'The request body is not valid JSON.');
  if (type === 'charset.unsupported') return new AppError('VALIDATION_FAILED', 'The request body must be UTF-8.');
  if (type === 'encoding.unsupported')
    return new AppError(
      'VALIDATION_FAILED',
      'The request body is sent with a Content-Encoding this server does not read: send it as it is, or as gzip, deflate or br.',
    );
  // The router's decoding of a path parameter such as %ED%A0%80 (issue 17).
  if (error instanceof URIError)
    return new AppError('VALIDATION_FAILED', 'The request path is not valid percent-encoded UTF-8.');
  if (type === 'parameters.too.many')
    return new AppError('BODY_TOO_LARGE', 'The form has more fields than this server accepts.');
  // zlib's error on a body that does not inflate as its Content-Encoding says, passed on by the body parsers as a 400.
  const { code: zlibCode, status } = (error ?? {}) as { code?: unknown; status?: unknown };
  if (status === 400 && typeof zlibCode === 'string' && zlibCode.startsWith('Z_'))
    return new AppError('VALIDATION_FAILED', 'The request body does not decode as its Content-Encoding header says.');
  return new AppError('INTERNAL', 'Something went wrong on our side; the request id identifies it in our logs.', {
    cause: error,
  });
}
