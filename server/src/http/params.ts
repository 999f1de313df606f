import { AppError } from '../errors.ts';
import { isUuid } from '../services/common/index.ts';

/**
 * A path id that is not a uuid names no row: the same 404 as an unknown id, answered before any
 * query, since Postgres would refuse the cast of a uuid column with an error (issue 17).
 */
export function idParam(value: string, what: string): string {
  if (!isUuid(value)) throw new AppError('NOT_FOUND', `There is no ${what} ${value} in this workspace.`);
  return value;
}
