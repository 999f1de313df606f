import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hashToken, type SecretBox } from '../../secrets.ts';

/**
 * A release token proves that people (or the policy, for `auto`) released a draft as it now
 * stands. It is random, stored as a SHA-256 hash for checking and sealed with the secrets key so
 * the agent can read it again on every GET. The row also keeps the hash of the released content,
 * so whoever checks a token (POST /v1/actions/:id/verify) learns exactly what it vouches for.
 */
export interface IssuedReleaseToken {
  token: string;
  hash: string;
  sealed: string;
}

export function issueReleaseToken(secrets: SecretBox): IssuedReleaseToken {
  const token = `rel_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token), sealed: secrets.seal(token) };
}

export function releaseTokenMatches(token: string, storedHash: string | null): boolean {
  if (storedHash === null) return false;
  const given = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
