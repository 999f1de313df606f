import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { parseJson } from '../../../shared/json-text.ts';

const LOCK_FILE = 'agent-governance.lock';

/**
 * Takes the data folder for this process. PGlite has no cross-process locking, and two
 * processes writing one folder corrupt it, so the server and the CLI both go through here.
 * A lock left by a dead process is taken over. Returns the release function.
 */
export function acquireDataDirLock(dataDir: string, holder: string): () => void {
  const lockPath = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, JSON.stringify({ pid: process.pid, holder }), { flag: 'wx' });
      const release = () => {
        process.off('exit', release);
        fs.rmSync(lockPath, { force: true });
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(lockPath);
      if (owner && isAlive(owner.pid)) {
        throw new AppError(
          'DATABASE_LOCKED',
          `The data folder ${dataDir} is in use by ${owner.holder} (pid ${owner.pid}). ` +
            'Stop it first, or set DATABASE_URL to a Postgres database, which any number of processes can share.',
          { details: { pid: owner.pid, holder: owner.holder } },
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new AppError('DATABASE_LOCKED', `Could not lock the data folder ${dataDir}.`);
}

function readOwner(lockPath: string): { pid: number; holder: string } | undefined {
  try {
    const parsed: unknown = parseJson(fs.readFileSync(lockPath, 'utf8'));
    if (parsed && typeof parsed === 'object' && 'pid' in parsed && typeof parsed.pid === 'number') {
      const holder = 'holder' in parsed && typeof parsed.holder === 'string' ? parsed.holder : 'another process';
      return { pid: parsed.pid, holder };
    }
  } catch {
    // A half-written or unreadable lock belongs to nobody.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
