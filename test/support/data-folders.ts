import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';

export interface DataFolder {
  dir: string;
  remove(): void;
}

/** An empty folder for a process the test starts, as a bare machine has: its first start runs initdb. */
export function emptyDataFolder(prefix: string): DataFolder {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A server's data folder (`DATA_DIR`) already holding the migrated PGlite the global setup closed:
 * each process started on an empty folder spent 3-4 s of CPU in initdb and migrating, which tests of
 * what a server does have no need to repeat. Outside the suite (the drills run without its global
 * setup) the folder is empty.
 */
export function migratedDataFolder(prefix: string): DataFolder {
  const folder = emptyDataFolder(prefix);
  const template = inject('pgliteDataFolder');
  if (template) fs.cpSync(template, folder.dir, { recursive: true });
  return folder;
}
