import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointKeyFromSeed, type AuditCheckpoint } from '../../server/src/domain/audit-checkpoint.ts';
import type { Actor, ServiceDeps } from '../../server/src/services/common/index.ts';
import { withAuditChain } from '../../server/src/services/common/index.ts';
import { createWorkspace, exportAudit, publishDueCheckpoints } from '../../server/src/services/governance/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';

// An auditor checks the trail without our server, with node:crypto and the steps of docs/audit.md
// ("Verifying without the server") only: an export, the checkpoint file, the key `audit public-key` gave.

const admin: Actor = { type: 'admin', via: 'cli', name: 'tester' };
const key = checkpointKeyFromSeed(randomBytes(32));
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: ServiceDeps;
let exportText = '';
const checkpointFile: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  deps = testDeps(database.db);
  const workspaceId = (
    await createWorkspace(deps, { name: 'Audited', hubspotPortalId: '9100', hubspotToken: 'pat' }, admin)
  ).id;
  await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
    // Personal values are kept apart and the export adds them in `personal`, which no hash covers.
    audit.append({
      type: 'change.applied',
      actor: { type: 'agent', name: 'enricher' },
      objectType: 'contacts',
      recordId: '101',
      before: { email: 'ann@old.example', jobtitle: 'CTO' },
      after: { email: 'ann@acme.example', jobtitle: 'CEO' },
      evidence: { source: 'clearbit', note: 'naïve café ✓ 😀' },
      reasons: ['tier_auto'],
      policyVersion: 1,
    });
    audit.append({ type: 'agent.paused', actor: admin, data: { reason: 'audit' } });
  });
  await publishDueCheckpoints(deps, {
    key,
    everyEvents: 1,
    everyMs: 0,
    publish: async (checkpoint) => void checkpointFile.push(JSON.stringify(checkpoint)),
  });
  for await (const chunk of exportAudit(deps, workspaceId, {}, 'ndjson')) exportText += chunk;
});
afterAll(() => database.close());

/** JSON with every object's keys sorted (code-unit order), no whitespace. */
const sortedJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.keys(inner as object)
            .sort()
            .map((k) => [k, (inner as Record<string, unknown>)[k]]),
        )
      : inner,
  );

/** The documented procedure: the first event it finds wrong, or the checkpointed seqs it proved. */
function auditorVerifies(ndjson: string, checkpointLines: string[], publicKey: string) {
  const hashes = new Map<number, string>();
  let prevHash = '0'.repeat(64);
  for (const [index, line] of ndjson.trim().split('\n').entries()) {
    const { hash, personal: _keptApart, ...content } = JSON.parse(line);
    if (content.seq !== index + 1 || content.prevHash !== prevHash) return { bad: content.seq, problem: 'link' };
    if (createHash('sha256').update(sortedJson(content)).digest('hex') !== hash)
      return { bad: content.seq, problem: 'hash' };
    hashes.set(content.seq, hash);
    prevHash = hash;
  }
  // The key is the raw 32-byte Ed25519 public key in base64; as a JWK its `x` is the same bytes in base64url.
  const trusted = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey, 'base64').toString('base64url') },
    format: 'jwk',
  });
  const proved: number[] = [];
  for (const line of checkpointLines) {
    const c = JSON.parse(line) as AuditCheckpoint;
    const signed = JSON.stringify([
      'agent-governance audit checkpoint',
      c.version,
      c.workspaceId,
      c.seq,
      c.hash,
      c.time,
    ]);
    if (c.publicKey !== publicKey || !verify(null, Buffer.from(signed), trusted, Buffer.from(c.signature, 'base64')))
      return { bad: c.seq, problem: 'signature' };
    if (hashes.get(c.seq) !== c.hash) return { bad: c.seq, problem: 'checkpoint' };
    proved.push(c.seq);
  }
  return { proved };
}

describe('verifying the trail without the server', () => {
  it('an export with personal values and a checkpoint file verify under the published key', () => {
    expect(exportText).toContain('"personal":{');
    expect(checkpointFile).toHaveLength(1);
    expect(auditorVerifies(exportText, checkpointFile, key.publicKey)).toEqual({ proved: [3] });
  });

  it('an export edited after the fact, or a checkpoint under another key, does not', () => {
    const edited = exportText.replace('"jobtitle":"CEO"', '"jobtitle":"CFO"');
    expect(auditorVerifies(edited, checkpointFile, key.publicKey)).toEqual({ bad: 2, problem: 'hash' });
    const otherKey = checkpointKeyFromSeed(randomBytes(32)).publicKey;
    expect(auditorVerifies(exportText, checkpointFile, otherKey)).toEqual({ bad: 3, problem: 'signature' });
  });
});
