import type { Connection } from '@jsforce/jsforce-node';
import { AppError } from '../../errors.ts';
import { countCrmCall } from '../call-meter.ts';

export interface ApiBudget {
  /** Stop before this share (0..1) of the org's daily API allocation is spent: it is shared with everything else the org runs. */
  share: number;
  /** Told when calls start being refused for the budget (once, until usage falls under it again), to audit it. */
  onStop?: ((usage: { used: number; limit: number; share: number }) => void) | undefined;
  /** Whether the last call was refused for the budget. */
  stopped?: boolean;
}

/**
 * Runs one Salesforce call: refuses it before it is sent when `Sforce-Limit-Info` (read by jsforce
 * after every answer) shows our share of the daily allocation spent, and turns jsforce's errors into
 * ours: an org out of calls (REQUEST_LIMIT_EXCEEDED) or our share spent is CRM_RATE_LIMITED, a
 * session that could not be renewed CRM_AUTH_FAILED, 5xx and network errors CRM_UNAVAILABLE (jsforce
 * already retried the idempotent ones), other refusals CRM_REJECTED.
 */
export async function sfCall<T>(
  connection: Connection,
  budget: ApiBudget,
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  const usage = connection.limitInfo.apiUsage;
  const over = usage !== undefined && usage.limit > 0 && usage.used >= usage.limit * budget.share;
  if (!over) budget.stopped = false;
  if (over) {
    if (!budget.stopped) budget.onStop?.({ used: usage.used, limit: usage.limit, share: budget.share });
    budget.stopped = true;
    throw new AppError(
      'CRM_RATE_LIMITED',
      `Stopped before ${what}: the org has used ${usage.used} of its ${usage.limit} daily API calls, and this app stops at ${Math.round(budget.share * 100)}% so the org's other integrations keep theirs. Raise the share or wait for the rolling 24 hours to free calls.`,
      { details: { apiUsed: usage.used, apiLimit: usage.limit, share: budget.share } },
    );
  }
  await countCrmCall();
  try {
    return await call();
  } catch (error) {
    throw asAppError(error, what);
  }
}

/**
 * Salesforce's codes for its own failures (a 500's UNKNOWN_EXCEPTION, a 503's SERVER_UNAVAILABLE):
 * jsforce reports a JSON error body by its code, not the HTTP status, and these say nothing about
 * the request, which may or may not have been carried out.
 */
const SERVER_FAULTS = new Set(['UNKNOWN_EXCEPTION', 'SERVER_UNAVAILABLE']);

function asAppError(error: unknown, what: string): AppError {
  if (error instanceof AppError) return error;
  const code = (error as { errorCode?: string }).errorCode ?? (error instanceof Error ? error.name : '');
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'REQUEST_LIMIT_EXCEEDED')
    return new AppError('CRM_RATE_LIMITED', `Salesforce refused ${what}: the org is out of API calls (${message}).`, {
      details: { salesforceCode: code },
      cause: error,
    });
  if (code === 'INVALID_SESSION_ID' || code === 'INVALID_AUTH_HEADER')
    return new AppError('CRM_AUTH_FAILED', `Salesforce refused the session for ${what}: ${message}`, {
      details: { salesforceCode: code },
      cause: error,
    });
  if (
    /^ERROR_HTTP_5/.test(code) ||
    SERVER_FAULTS.has(code) ||
    code === 'TypeError' ||
    /ECONN|ETIMEDOUT|fetch failed/i.test(message)
  )
    return new AppError('CRM_UNAVAILABLE', `Salesforce could not be reached for ${what}: ${message}`, {
      retryable: true,
      cause: error,
    });
  return new AppError('CRM_REJECTED', `Salesforce refused ${what}: ${message}`, {
    details: { salesforceCode: code },
    cause: error,
  });
}
