import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { checkpointKeyFromSeed, type CheckpointKey } from './domain/audit-checkpoint.ts';
import { makeDataFolder } from './data-folder.ts';
import { AppError } from './errors.ts';

export type LoadedCheckpointKey = { key: CheckpointKey } | { key: undefined; why: string };

/**
 * The Ed25519 key that signs audit checkpoints (issue 17): never in the database, or its owner could
 * sign a rewritten chain. AUDIT_CHECKPOINT_KEY gives it (base64 of a 32-byte seed); with PGlite and
 * no key a key file is made once in the data folder, as for SECRETS_KEY. With Postgres and no key,
 * checkpoints are off, and the server says so at start: refusing to start would take a running
 * deployment down on upgrade, and a key belongs somewhere an operator chooses, apart from the database.
 */
export function loadCheckpointKey(options: {
  checkpointKey: string | undefined;
  dataDir: string;
  usingPostgres: boolean;
}): LoadedCheckpointKey {
  if (options.checkpointKey)
    return { key: checkpointKeyFromSeed(seedOf(options.checkpointKey, 'AUDIT_CHECKPOINT_KEY')) };
  if (options.usingPostgres) {
    return {
      key: undefined,
      why: 'AUDIT_CHECKPOINT_KEY is not set: audit checkpoints are off, and audit verify cannot catch a database owner who recomputes the chain or removes its newest events. Set it to the base64 of 32 random bytes (openssl rand -base64 32), kept apart from the database.',
    };
  }
  const keyPath = path.join(options.dataDir, 'audit-checkpoint.key');
  makeDataFolder(options.dataDir);
  if (!fs.existsSync(keyPath))
    fs.writeFileSync(keyPath, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  return { key: checkpointKeyFromSeed(seedOf(fs.readFileSync(keyPath, 'utf8').trim(), keyPath)) };
}

function seedOf(base64: string, source: string): Buffer {
  const seed = Buffer.from(base64, 'base64');
  if (seed.length !== 32)
    throw new AppError(
      'CONFIG_INVALID',
      `${source} must be the base64 encoding of exactly 32 random bytes (an Ed25519 private key).`,
    );
  return seed;
}
