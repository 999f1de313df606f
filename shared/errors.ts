/**
 * Machine codes of every error the API, CLI and CRM adapters can return.
 * The HTTP status of each lives in server/src/http/errors.ts (an exhaustive switch).
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'BODY_TOO_LARGE',
  'MALFORMED_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNKNOWN_PROPERTY',
  'INVALID_PROPERTY_VALUE',
  'UNAUTHENTICATED',
  'WEBHOOK_SIGNATURE_MISSING',
  'WEBHOOK_SIGNATURE_INVALID',
  'WEBHOOK_TIMESTAMP_STALE',
  'FORBIDDEN',
  'AGENT_NOT_ACTIVE',
  'DELEGATION_INVALID',
  'APPROVAL_DECISION_FORBIDDEN',
  'KILL_SWITCH_ENGAGED',
  'BUDGET_REACHED',
  'POLICY_LOCKED',
  'NOT_FOUND',
  'CONFLICT',
  'APPROVAL_NOT_DECIDABLE',
  'SECOND_ADMIN_REQUIRED',
  'REGRESSION_FAILED',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_IN_PROGRESS',
  'NO_ACTIVE_POLICY',
  'POLICY_INVALID',
  'CRM_RATE_LIMITED',
  'CRM_UNAVAILABLE',
  'CRM_AUTH_FAILED',
  'CRM_SIGN_IN_FAILED',
  'DESTINATION_NOT_ALLOWED',
  'CRM_REJECTED',
  'DATABASE_LOCKED',
  'CONFIG_INVALID',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId?: string; details?: unknown };
}
