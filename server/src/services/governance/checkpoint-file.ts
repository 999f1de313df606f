import fs from 'node:fs/promises';
import path from 'node:path';
import { auditCheckpointSchema } from '../../../../shared/admin-api.ts';
import type { AuditCheckpoint } from '../../domain/audit-checkpoint.ts';
import { AppError } from '../../errors.ts';
import { parseJson } from '../../../../shared/json-text.ts';

/**
 * The checkpoint file: one signed checkpoint a line (NDJSON), appended and synced to disk before
 * the checkpoint counts as published. Keep it, or copies of it, where the database's owner cannot
 * write: a signature stops forged lines, not deleted ones.
 */
export function checkpointFile(file: string): (checkpoint: AuditCheckpoint) => Promise<void> {
  return async (checkpoint) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(file, 'a', 0o644);
    try {
      await handle.appendFile(`${JSON.stringify(checkpoint)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  };
}

/** Parses checkpoint lines (blank lines skipped); a line that is not a checkpoint is refused by its number. */
export function parseCheckpointLines(text: string, source: string): AuditCheckpoint[] {
  const checkpoints: AuditCheckpoint[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = parseJson(line);
    } catch {
      throw new AppError('VALIDATION_FAILED', `${source}, line ${index + 1}: not JSON, so not a checkpoint line.`);
    }
    const parsed = auditCheckpointSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AppError(
        'VALIDATION_FAILED',
        `${source}, line ${index + 1}: not a checkpoint (${issue?.path.join('.') || 'line'}: ${issue?.message ?? 'invalid'}).`,
      );
    }
    checkpoints.push(parsed.data);
  }
  return checkpoints;
}
