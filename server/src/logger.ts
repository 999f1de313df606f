import { AppError, databaseErrorIn } from './errors.ts';

/** Structured log lines on stderr. Callers pass ids and counts, never tokens or record values. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  const write = (level: string, message: string, fields: Record<string, unknown> = {}) =>
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  return {
    info: (message, fields) => write('info', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

export const silentLogger: Logger = { info: () => {}, error: () => {} };

/** What a log line may say about an error: enough to find the fault, nothing the failing call carried. */
export interface ErrorLogField {
  name: string;
  /** Our AppError code. */
  code?: string;
  /** Our sentence, or the message of an error that is neither ours nor the database's. */
  message?: string;
  /** The database's SQLSTATE (23505 for a duplicate key). */
  sqlState?: string;
  /** The failed statement, with $1-style placeholders where the values went. */
  statement?: string;
  constraint?: string;
}

const MESSAGE_LIMIT = 300;

/**
 * The one way an error reaches a log line (issue 17). A failed query's message embeds every bound
 * parameter (drizzle appends `params: ...`: evidence, email drafts, hashes) and the database's own
 * message and detail quote values too ("Key (email)=(ada@...) already exists"), so of a database
 * error only the statement, the SQLSTATE and the constraint name are kept. A CRM refusal quotes
 * the values it refused, so of it only the code is kept.
 */
export function errorLogField(error: unknown): ErrorLogField {
  const name = error instanceof Error ? error.name : typeof error;
  const database = databaseFailure(error);
  if (error instanceof AppError) {
    return {
      name,
      code: error.code,
      ...(error.code === 'CRM_REJECTED' ? {} : { message: error.message }),
      ...database,
    };
  }
  if (database) return { name, ...database };
  const message = error instanceof Error ? error.message : String(error);
  return { name, message: message.length > MESSAGE_LIMIT ? `${message.slice(0, MESSAGE_LIMIT)}…` : message };
}

/** The failed statement and the database's codes, from anywhere in the error's cause chain. */
function databaseFailure(error: unknown): Omit<ErrorLogField, 'name'> | undefined {
  let statement: string | undefined;
  // drizzle's DrizzleQueryError carries the statement and its parameters; the driver's error is its cause.
  for (let current: unknown = error, depth = 0; isObject(current) && depth < 8; current = current.cause, depth++)
    if (typeof current.query === 'string' && 'params' in current) {
      statement = current.query;
      break;
    }
  const driver = databaseErrorIn(error);
  if (statement === undefined && driver === undefined) return undefined;
  return {
    ...(driver ? { sqlState: driver.code } : {}),
    ...(typeof driver?.constraint === 'string' ? { constraint: driver.constraint } : {}),
    ...(statement === undefined ? {} : { statement }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> & { cause?: unknown } {
  return typeof value === 'object' && value !== null;
}
