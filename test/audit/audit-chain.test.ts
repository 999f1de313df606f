import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ChainLinker,
  ChainVerifier,
  GENESIS_HASH,
  canonicalJson,
  hashAuditEvent,
  hashStoredText,
  parsedContent,
  type AuditEventContent,
  type ChainedAuditEvent,
  type Json,
  type StoredAuditText,
} from '../../server/src/domain/audit-chain.ts';

const jsonValue: fc.Arbitrary<Json> = fc.jsonValue() as fc.Arbitrary<Json>;

function chain(payloads: Json[]): (AuditEventContent & { hash: string })[] {
  let prevHash = GENESIS_HASH;
  return payloads.map((payload, index) => {
    const content: AuditEventContent = {
      workspaceId: '00000000-0000-4000-8000-000000000001',
      seq: index + 1,
      occurredAt: new Date(Date.UTC(2026, 10, 23, 9, 0, index)).toISOString(),
      type: 'change.decided',
      actor: { type: 'agent', agentId: 'a' },
      agentId: null,
      batchId: 'b1',
      changeSetId: null,
      objectType: 'contacts',
      recordId: String(index + 1),
      property: 'jobtitle',
      before: null,
      after: { jobtitle: payload },
      evidence: null,
      reasons: ['tier_auto'],
      policyVersion: 1,
      data: null,
      prevHash,
    };
    const hash = hashAuditEvent(content);
    prevHash = hash;
    return { ...content, hash };
  });
}

function verify(
  events: (AuditEventContent & { hash: string })[],
  head = { seq: events.length, hash: events.at(-1)?.hash ?? GENESIS_HASH },
) {
  const verifier = new ChainVerifier();
  for (const event of events) {
    const problem = verifier.push(event);
    if (problem) return problem;
  }
  return verifier.finish(head);
}

describe('audit hash chain', () => {
  it('canonical JSON ignores key order, so a jsonb round trip keeps the hash', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });

  it('canonical JSON is exactly JSON with every key sorted, a key named __proto__ included', () => {
    // The reference form: the serializer's own walk, sorting each object's keys as it goes.
    const reference = (value: unknown) =>
      JSON.stringify(value, (_key, inner: unknown) =>
        inner === null || typeof inner !== 'object' || Array.isArray(inner)
          ? inner
          : Object.fromEntries(
              Object.keys(inner)
                .sort()
                .map((key) => [key, (inner as Record<string, unknown>)[key]]),
            ),
      );
    const withDates = fc.anything({
      withDate: true,
      withNullPrototype: true,
      withObjectString: false,
      withMap: false,
      withSet: false,
      withBigInt: false,
      withTypedArray: false,
      withSparseArray: true,
    });
    fc.assert(
      fc.property(fc.oneof(jsonValue, withDates), (value) => {
        expect(canonicalJson(value)).toBe(reference(value) ?? 'null');
      }),
      { numRuns: 500 },
    );
  });

  it('any sequence of appends verifies', () => {
    fc.assert(
      fc.property(fc.array(jsonValue, { maxLength: 30 }), (payloads) => {
        expect(verify(chain(payloads))).toBeUndefined();
      }),
    );
  });

  it('editing any one event breaks the chain at that event', () => {
    fc.assert(
      fc.property(
        fc.array(jsonValue, { minLength: 1, maxLength: 20 }),
        fc.nat(),
        jsonValue,
        (payloads, pick, replacement) => {
          const events = chain(payloads);
          const index = pick % events.length;
          fc.pre(canonicalJson(events[index]!.after) !== canonicalJson({ jobtitle: replacement }));
          events[index] = { ...events[index]!, after: { jobtitle: replacement } };
          expect(verify(events)).toMatchObject({ seq: index + 1, problem: 'altered' });
        },
      ),
    );
  });

  it('an event rewritten with a fresh hash is caught where the next event no longer links to it', () => {
    const events = chain(['a', 'b', 'c']);
    const rewritten = { ...events[1]!, after: { jobtitle: 'forged' } };
    events[1] = { ...rewritten, hash: hashAuditEvent(rewritten) };
    expect(verify(events)).toMatchObject({ seq: 3, problem: 'relinked' });
  });

  it('a removed event is reported as missing', () => {
    const events = chain(['a', 'b', 'c', 'd']);
    events.splice(1, 1);
    expect(verify(events, { seq: 4, hash: events.at(-1)!.hash })).toMatchObject({ seq: 2, problem: 'missing' });
  });

  it('removing the newest events is caught by the chain head', () => {
    const events = chain(['a', 'b', 'c']);
    const head = { seq: 3, hash: events[2]!.hash };
    expect(verify(events.slice(0, 2), head)).toMatchObject({ seq: 3, problem: 'truncated' });
  });
});

describe('verifying stored text without parsing it (issue 23)', () => {
  const stored = (event: ChainedAuditEvent, spell = (value: unknown) => JSON.stringify(value)): StoredAuditText => ({
    ...event,
    actor: spell(event.actor),
    before: event.before === null ? null : spell(event.before),
    after: event.after === null ? null : spell(event.after),
    evidence: event.evidence === null ? null : spell(event.evidence),
    data: event.data === null ? null : spell(event.data),
  });
  const linked = () => {
    const linker = new ChainLinker({
      workspaceId: '00000000-0000-4000-8000-000000000001',
      occurredAt: new Date(0),
      head: { seq: 0, hash: GENESIS_HASH },
    });
    return linker.link({
      type: 'change.decided',
      actor: { type: 'agent', name: 'enricher', agentId: 'a' },
      after: { value: 'CTO', tier: 'auto', nested: { z: 1, a: [{ y: 1, x: 2 }] } },
      evidence: { source: 'apollo', confidence: 0.9 },
      reasons: ['tier_auto'],
    });
  };

  it('the linker stores canonical copies, so the stored text hashes as it is', () => {
    const event = linked();
    expect(hashStoredText(event)).toBe(event.hash);
    expect(hashStoredText(stored(parsedContent(event)))).toBe(event.hash);
  });

  it('still verifies text stored in another spelling of the same value, and catches a changed value', () => {
    const event = parsedContent(linked());
    const reordered = stored(event, (value) =>
      JSON.stringify(Object.fromEntries(Object.entries(value as object).reverse()), null, 1),
    );
    expect(hashStoredText(reordered)).not.toBe(event.hash);
    expect(new ChainVerifier().pushStored(reordered)).toBeUndefined();
    const altered = { ...stored(event), after: stored(event).after!.replace('CTO', 'CEO') };
    expect(new ChainVerifier().pushStored(altered)).toMatchObject({ seq: 1, problem: 'altered' });
  });
});
