import fs from 'node:fs';
import path from 'node:path';
import { AppError } from './errors.ts';

/**
 * Makes DATA_DIR, and any parent it lacks, or stops with one line naming it. A folder at a time:
 * Node's own recursive mkdir never returns for a path under /proc, so the start hung for ever.
 */
export function makeDataFolder(dataDir: string): void {
  try {
    makeFolder(dataDir);
  } catch (error) {
    throw dataFolderProblem(dataDir, error);
  }
}

function makeFolder(folder: string): void {
  try {
    fs.mkdirSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && fs.statSync(folder).isDirectory()) return;
    const parent = path.dirname(folder);
    if (code !== 'ENOENT' || parent === folder) throw error;
    makeFolder(parent);
    fs.mkdirSync(folder);
  }
}

const WHY: Record<string, string> = {
  EROFS: 'it is on a read-only file system',
  EACCES: 'this user may not write there',
  EPERM: 'this user may not write there',
  EEXIST: 'it is a file, not a folder',
  ENOTDIR: 'part of its path is a file, not a folder',
  ENOENT: 'it cannot be made there',
  ENOSPC: 'its disk is full',
};

/**
 * What an operator reads when DATA_DIR cannot be written (node's own error named a file and a code,
 * never the setting): the folder, why, and what to do. Any other error is returned as it is.
 */
export function dataFolderProblem(dataDir: string, error: unknown): unknown {
  if (error instanceof AppError) return error;
  const why = WHY[(error as NodeJS.ErrnoException | undefined)?.code ?? ''];
  if (why === undefined) return error;
  return new AppError(
    'CONFIG_INVALID',
    `DATA_DIR ${dataDir} cannot be used: ${why}. Set DATA_DIR to a folder this user can write.`,
    { cause: error },
  );
}

/**
 * Stops the start with one line naming `setting` when `file` cannot be appended to (checked, not
 * created): an audit checkpoint file on a read-only disk failed every few seconds in the log while
 * the server ran on without the checkpoints it was told to keep.
 */
export function checkWritableFile(file: string, setting: string): void {
  try {
    makeFolder(path.dirname(file));
    if (fs.existsSync(file)) {
      if (fs.statSync(file).isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
      fs.accessSync(file, fs.constants.W_OK);
    } else fs.accessSync(path.dirname(file), fs.constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const why = code === 'EISDIR' ? 'it is a folder, not a file' : WHY[code];
    if (why === undefined) throw error;
    throw new AppError(
      'CONFIG_INVALID',
      `${setting} ${file} cannot be written: ${why}. Set ${setting} to a file this user can write.`,
      { cause: error },
    );
  }
}
