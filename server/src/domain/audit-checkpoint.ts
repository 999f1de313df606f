import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Signed checkpoints of the audit chain (issue 17). The chain alone proves an event was not edited
 * by someone who did not recompute the hashes after it; a database owner can recompute them, or drop
 * the newest events and move the head back. A checkpoint signs a chain head with a key the database
 * does not hold, and lives outside it, so the chain can be checked against something its owner
 * cannot rewrite: up to the last checkpoint, every event is exactly as it was when it was signed.
 */
export interface AuditCheckpoint {
  version: 1;
  workspaceId: string;
  /** The chain held this many events, and the last one's hash was `hash`. */
  seq: number;
  hash: string;
  time: string;
  keyId: string;
  /** The Ed25519 public key, base64 of its 32 bytes: a line says what checks it. */
  publicKey: string;
  signature: string;
}

export interface CheckpointKey {
  privateKey: KeyObject;
  publicKey: string;
  keyId: string;
}

// An Ed25519 private key is 32 random bytes; Node reads it wrapped in this PKCS#8 header.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function checkpointKeyFromSeed(seed: Buffer): CheckpointKey {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = Buffer.from(jwk.x!, 'base64url').toString('base64');
  return { privateKey, publicKey, keyId: checkpointKeyId(publicKey) };
}

/** A short name for a public key: the first 16 hex digits of the SHA-256 of its bytes. */
export function checkpointKeyId(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex').slice(0, 16);
}

/** What is signed: the head and its time, in an array so no field can bleed into the next. */
function signedBytes(checkpoint: Pick<AuditCheckpoint, 'version' | 'workspaceId' | 'seq' | 'hash' | 'time'>): Buffer {
  return Buffer.from(
    JSON.stringify([
      'agent-governance audit checkpoint',
      checkpoint.version,
      checkpoint.workspaceId,
      checkpoint.seq,
      checkpoint.hash,
      checkpoint.time,
    ]),
  );
}

export function signCheckpoint(
  key: CheckpointKey,
  head: { workspaceId: string; seq: number; hash: string; time: Date },
): AuditCheckpoint {
  const unsigned = {
    version: 1 as const,
    workspaceId: head.workspaceId,
    seq: head.seq,
    hash: head.hash,
    time: head.time.toISOString(),
  };
  return {
    ...unsigned,
    keyId: key.keyId,
    publicKey: key.publicKey,
    signature: sign(null, signedBytes(unsigned), key.privateKey).toString('base64'),
  };
}

/** Every `everyEvents` new events, or after `everyMs` once there is any new event. */
export function checkpointDue(input: {
  headSeq: number;
  last: { seq: number; at: Date } | undefined;
  now: Date;
  everyEvents: number;
  everyMs: number;
}): boolean {
  const lastSeq = input.last?.seq ?? 0;
  if (input.headSeq <= lastSeq) return false;
  if (input.headSeq - lastSeq >= input.everyEvents) return true;
  return input.last === undefined || input.now.getTime() - input.last.at.getTime() >= input.everyMs;
}

export type CheckpointBreak = {
  seq: number;
  time: string;
  problem: 'bad_signature' | 'untrusted_key' | 'truncated' | 'missing' | 'contradicted';
  message: string;
};

/** The signature holds, under a key the verifier trusts (a line's own key proves nothing by itself). */
export function checkSignature(
  checkpoint: AuditCheckpoint,
  trustedPublicKeys: ReadonlySet<string>,
): CheckpointBreak | undefined {
  const at = { seq: checkpoint.seq, time: checkpoint.time };
  if (!trustedPublicKeys.has(checkpoint.publicKey)) {
    return {
      ...at,
      problem: 'untrusted_key',
      message: `Checkpoint ${checkpoint.seq} is signed with key ${checkpoint.keyId}, which is not the checkpoint key given to check against.`,
    };
  }
  let valid = false;
  try {
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(checkpoint.publicKey, 'base64').toString('base64url') },
      format: 'jwk',
    });
    valid = verify(null, signedBytes(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid
    ? undefined
    : {
        ...at,
        problem: 'bad_signature',
        message: `Checkpoint ${checkpoint.seq} (${checkpoint.time}) has a signature that does not hold: the line was altered or forged.`,
      };
}

/** The stored chain agrees with a (signature-checked) checkpoint: it still holds that event, with that hash. */
export function checkAgainstChain(
  checkpoint: AuditCheckpoint,
  chain: { headSeq: number; storedHash: string | undefined },
): CheckpointBreak | undefined {
  const at = { seq: checkpoint.seq, time: checkpoint.time };
  if (checkpoint.seq > chain.headSeq) {
    return {
      ...at,
      problem: 'truncated',
      message: `Checkpoint ${checkpoint.seq} (${checkpoint.time}) was signed when the chain held ${checkpoint.seq} events, but its head now says ${chain.headSeq}: events after ${chain.headSeq} were removed.`,
    };
  }
  if (chain.storedHash === undefined) {
    return {
      ...at,
      problem: 'missing',
      message: `Checkpoint ${checkpoint.seq} (${checkpoint.time}) names event ${checkpoint.seq}, which is no longer stored.`,
    };
  }
  if (chain.storedHash !== checkpoint.hash) {
    return {
      ...at,
      problem: 'contradicted',
      message: `Checkpoint ${checkpoint.seq} (${checkpoint.time}) signed a different hash for event ${checkpoint.seq} than the one stored: the chain up to it was rewritten and its hashes recomputed.`,
    };
  }
  return undefined;
}
