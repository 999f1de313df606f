import { parseJson } from '../../../../shared/json-text.ts';
import { AppError } from '../../errors.ts';

/**
 * The console's keyset cursors (issue 19): the last row of a page, as an opaque string the next
 * request gives back. A row is named by when it happened and its key, the order the pages follow.
 */
export function encodeCursor(at: Date, key: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), key])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): { at: Date; key: string } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [at, key] = parseJson(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const when = typeof at === 'string' ? new Date(at) : undefined;
    if (when && !Number.isNaN(when.getTime()) && typeof key === 'string' && key.length > 0) return { at: when, key };
  } catch {
    // Not one of ours: refused below.
  }
  throw new AppError('VALIDATION_FAILED', 'The cursor is not one this server gave: start from the first page.', {
    details: { field: 'cursor' },
  });
}
