import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeDataFolder } from './data-folder.ts';
import { AppError } from './errors.ts';

/** Bearer tokens we issue are random and stored only as this hash. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newToken(prefix: 'agt' | 'adm' | 'sil' | 'ses'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/**
 * CRM credentials must be usable again, so they are encrypted (AES-256-GCM), not hashed.
 * The key comes from SECRETS_KEY; on a bare machine with PGlite a key file is made once in
 * the data folder so `npm start` works without setup. Postgres deployments must set it.
 */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function loadSecretBox(options: {
  secretsKey: string | undefined;
  dataDir: string;
  usingPostgres: boolean;
}): SecretBox {
  return createSecretBox(resolveKey(options));
}

function resolveKey(options: { secretsKey: string | undefined; dataDir: string; usingPostgres: boolean }): Buffer {
  if (options.secretsKey) {
    const key = Buffer.from(options.secretsKey, 'base64');
    if (key.length !== 32)
      throw new AppError('CONFIG_INVALID', 'SECRETS_KEY must be the base64 encoding of exactly 32 random bytes.');
    return key;
  }
  if (options.usingPostgres) {
    throw new AppError(
      'CONFIG_INVALID',
      'SECRETS_KEY is required with DATABASE_URL: set it to the base64 of 32 random bytes (openssl rand -base64 32).',
    );
  }
  const keyPath = path.join(options.dataDir, 'secrets.key');
  makeDataFolder(options.dataDir);
  if (!fs.existsSync(keyPath))
    fs.writeFileSync(keyPath, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  return Buffer.from(fs.readFileSync(keyPath, 'utf8').trim(), 'base64');
}

/** How many opened secrets a box keeps: a workspace has two, so this covers hundreds of workspaces. */
const OPENED_LIMIT = 1_000;

export function createSecretBox(key: Buffer): SecretBox {
  // Every webhook delivery and CRM call opens its workspace's secrets, and setting up AES-GCM
  // cost more than the rest of a small request; a sealed value always opens to the same text.
  const opened = new Map<string, string>();
  const remember = (sealed: string, plain: string) => {
    if (opened.size >= OPENED_LIMIT) opened.delete(opened.keys().next().value!);
    opened.set(sealed, plain);
    return plain;
  };
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
    },
    open(sealed) {
      const known = opened.get(sealed);
      if (known !== undefined) return known;
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || !body)
        throw new AppError('INTERNAL', 'A stored credential is not in a format this server can read.');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      try {
        return remember(
          sealed,
          Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8'),
        );
      } catch (cause) {
        throw new AppError(
          'CONFIG_INVALID',
          'A stored credential cannot be decrypted: SECRETS_KEY is not the key it was sealed with.',
          { cause },
        );
      }
    },
  };
}
