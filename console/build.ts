import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'vite';

/**
 * Builds the web console into console/dist. `npm run build` always builds; `npm start` runs this
 * with --if-stale, which builds only when dist is missing or its stamp (a hash of every source the
 * bundle is made of) differs, so `npm install && npm start` stays the whole set-up.
 */
const consoleDir = import.meta.dirname;
const repoDir = join(consoleDir, '..');
const stampFile = join(consoleDir, 'dist', '.source-hash');
const SOURCES = ['console/src', 'console/index.html', 'console/vite.config.ts', 'shared', 'package-lock.json'];

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => filesUnder(join(path, entry.name)));
}

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES.flatMap((source) => filesUnder(join(repoDir, source)))) {
    hash.update(relative(repoDir, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const wanted = sourceHash();
const current = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : undefined;
if (process.argv.includes('--if-stale') && current === wanted) process.exit(0);
process.stderr.write(current ? 'Rebuilding the web console (its sources changed)…\n' : 'Building the web console…\n');
// Always the production build: vitest sets NODE_ENV=test, and a build made under it (the browser
// tests build on demand) bundled React's development copy, which `npm start` then served.
process.env.NODE_ENV = 'production';
await build({ configFile: join(consoleDir, 'vite.config.ts') });
writeFileSync(stampFile, wanted);
