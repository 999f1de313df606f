import { hash as oneShotHash } from 'node:crypto';
import { parseJson } from '../../../shared/json-text.ts';
import { separatePersonal, type PersonalApart } from './audit-personal.ts';
import { storableJson, storableNullableText, storableText, storableUuid } from './audit-storable.ts';

/**
 * The audit log is one hash chain per workspace: hash(n) = sha256(canonical(event n)), where event n
 * carries hash(n-1) as prevHash.
 * Canonical JSON sorts keys and drops undefined, so the hash survives a round trip through the
 * database; an event is made storable before it is hashed (ChainLinker), so what is hashed is what is kept.
 */
export const GENESIS_HASH = '0'.repeat(64);

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
/** jsonb columns hold objects only: drivers pass a bare string through unquoted, so "2" would come back as 2. */
export type JsonObject = { [key: string]: Json };

/** Values that arrived as JSON (request bodies, stored documents) are JSON; this says so once. */
export function asJson(value: object): JsonObject {
  return value as JsonObject;
}

/** Every field of an event that the hash covers: all of its columns but the hash itself. */
export interface AuditEventContent {
  workspaceId: string;
  seq: number;
  occurredAt: string;
  type: string;
  actor: JsonObject;
  agentId: string | null;
  batchId: string | null;
  changeSetId: string | null;
  objectType: string | null;
  recordId: string | null;
  property: string | null;
  before: JsonObject | null;
  after: JsonObject | null;
  evidence: JsonObject | null;
  reasons: string[];
  policyVersion: number | null;
  data: JsonObject | null;
  prevHash: string;
}

/** JSON with every object's keys in code-unit order, so a value hashes the same after a round trip through jsonb. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(withSortedKeys(value)) ?? 'null';
}

// Sorting into a copy first and then serializing natively, without a replacer, spares a call from
// the serializer into JavaScript for every value: a third of the cost of hashing an audit event.
function withSortedKeys(value: unknown): unknown {
  // Many values are canonical already (reason lists, a decision's fields, values keyed by property
  // in order): serialized as they are, without a copy.
  if (isCanonical(value)) return value;
  if (Array.isArray(value)) return value.map(withSortedKeys);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return withSortedKeys((value as { toJSON(): unknown }).toJSON());
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value as object).sort()) {
    const inner = withSortedKeys((value as Record<string, unknown>)[key]);
    // Assigning __proto__ would set the copy's prototype and drop the key from the hash: an
    // agent's evidence could then carry a field that could be altered without breaking the chain.
    if (key === '__proto__')
      Object.defineProperty(sorted, key, { value: inner, enumerable: true, writable: true, configurable: true });
    else sorted[key] = inner;
  }
  return sorted;
}

/**
 * Whether JSON.stringify writes this value as withSortedKeys' copy would be written: every object's
 * own keys already in code-unit order (the order the serializer takes them in), none `__proto__`,
 * and nothing with a toJSON.
 */
function isCanonical(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) return value.every(isCanonical);
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if ((i > 0 && !(keys[i - 1]! < key)) || key === '__proto__') return false;
    if (!isCanonical((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

const CONTENT_FIELDS = [
  'workspaceId',
  'seq',
  'occurredAt',
  'type',
  'actor',
  'agentId',
  'batchId',
  'changeSetId',
  'objectType',
  'recordId',
  'property',
  'before',
  'after',
  'evidence',
  'reasons',
  'policyVersion',
  'data',
  'prevHash',
] as const satisfies readonly (keyof AuditEventContent)[];
/** Canonical JSON sorts keys, so the fields in this order make a content object canonical at its top level. */
export const SORTED_CONTENT_FIELDS: readonly (keyof AuditEventContent)[] = [...CONTENT_FIELDS].sort();

/** Hashes exactly the content fields, picked by name, so extra properties (a stored row's own hash) never leak in. */
export function hashAuditEvent(event: AuditEventContent): string {
  return sha256(canonicalJson(pickContent(event, CONTENT_FIELDS)));
}

function pickContent(event: AuditEventContent, fields: readonly (keyof AuditEventContent)[]): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  for (const field of fields) content[field] = event[field];
  return content;
}

// The one-shot hash spares a Hash object per event: verify hashes a million of them.
function sha256(text: string): string {
  return oneShotHash('sha256', text, 'hex');
}

/** An event as a service hands it over: what happened, without its place in the chain. */
export interface NewAuditEvent {
  type: string;
  actor: JsonObject;
  agentId?: string | null;
  batchId?: string | null;
  changeSetId?: string | null;
  objectType?: string | null;
  recordId?: string | null;
  property?: string | null;
  before?: JsonObject | null;
  after?: JsonObject | null;
  evidence?: JsonObject | null;
  reasons?: string[];
  policyVersion?: number | null;
  data?: JsonObject | null;
}

export type ChainedAuditEvent = AuditEventContent & { hash: string };
/**
 * A linked event as it is stored, its JSON values as the text that was hashed, and, when it had
 * personal values, what to keep apart from it (audit-personal.ts).
 */
export type LinkedAuditEvent = StoredAuditText & { personal?: PersonalApart };

/**
 * Links new events onto a workspace's chain head, one transaction's worth: each event is made
 * storable (see audit-storable.ts) and then hashed, so the stored row is exactly what was hashed.
 * The store only persists what this returns and moves the head to `head`.
 */
export class ChainLinker {
  private seq: number;
  private hash: string;
  private readonly workspaceId: string;
  private readonly occurredAt: string;

  constructor(options: { workspaceId: string; occurredAt: Date; head: { seq: number; hash: string } }) {
    this.workspaceId = storableUuid(options.workspaceId) ?? options.workspaceId;
    this.occurredAt = options.occurredAt.toISOString();
    this.seq = options.head.seq;
    this.hash = options.head.hash;
  }

  get head(): { seq: number; hash: string } {
    return { seq: this.seq, hash: this.hash };
  }

  link(given: NewAuditEvent): LinkedAuditEvent {
    const seq = this.seq + 1;
    const separated = separatePersonal(given);
    const event = separated?.event ?? given;
    // Every JSON value is serialized once, as the canonical copy that is hashed and stored as this
    // text, so verify can hash it without parsing (hashStoredText, which hashes it here too).
    let content = this.contentOf(event, seq, CANONICAL);
    let json = storedCanonicalJson(content);
    // Almost every event is stored as sent, and its JSON shows when not: JSON.stringify escapes a
    // NUL as \u0000 and a lone surrogate as \udxxx. One scan spares the storable walk (a false
    // alarm, such as a literal backslash before "ud", only takes the slower path).
    if (json.includes('\\u0000') || json.includes('\\ud')) {
      content = this.contentOf(event, seq, STORABLE);
      json = storedCanonicalJson(content);
    }
    const hash = sha256(json);
    this.seq = seq;
    this.hash = hash;
    return separated ? { ...content, hash, personal: separated.apart } : { ...content, hash };
  }

  private contentOf(event: NewAuditEvent, seq: number, form: ContentForm): StoredAuditContent {
    const jsonText = (value: unknown) => (value === null ? null : JSON.stringify(form.json(value)));
    return {
      workspaceId: this.workspaceId,
      seq,
      occurredAt: this.occurredAt,
      type: form.text(event.type),
      actor: JSON.stringify(form.json(event.actor)),
      agentId: storableUuid(event.agentId ?? null),
      batchId: form.nullableText(event.batchId ?? null),
      changeSetId: storableUuid(event.changeSetId ?? null),
      objectType: form.nullableText(event.objectType ?? null),
      recordId: form.nullableText(event.recordId ?? null),
      property: form.nullableText(event.property ?? null),
      before: jsonText(event.before ?? null),
      after: jsonText(event.after ?? null),
      evidence: jsonText(event.evidence ?? null),
      reasons: (event.reasons ?? []).map(form.text),
      policyVersion: event.policyVersion ?? null,
      data: jsonText(event.data ?? null),
      prevHash: this.hash,
    };
  }
}

interface ContentForm {
  text: (text: string) => string;
  nullableText: (text: string | null) => string | null;
  json: (value: unknown) => unknown;
}
const CANONICAL: ContentForm = { text: (text) => text, nullableText: (text) => text, json: withSortedKeys };
// storableJson's copies have their keys in order too.
const STORABLE: ContentForm = { text: storableText, nullableText: storableNullableText, json: storableJson };

export type ChainBreak =
  | { seq: number; problem: 'altered'; message: string }
  | { seq: number; problem: 'missing'; message: string }
  | { seq: number; problem: 'relinked'; message: string }
  | { seq: number; problem: 'truncated'; message: string }
  | { seq: number; problem: 'inserted'; message: string }
  | { seq: number; problem: 'renumbered'; movedTo: number; message: string };

/**
 * An event stored where the chain does not reach (seq below 1, or past the head): the walk from
 * event 1 to the head never reads it, but searches and the console show it.
 */
export function storedOutsideChain(seq: number, headSeq: number): ChainBreak {
  return {
    seq,
    problem: 'inserted',
    message:
      seq < 1
        ? `Event ${seq} is stored before the chain's first event: it was inserted.`
        : `Event ${seq} is stored past the chain head (${headSeq}): it was inserted, or the head was moved back over it.`,
  };
}

/**
 * Event `seq`, missing from its place, found stored at another seq: `stored` links to the event
 * before it (`prevHash`, the hash the walk verified last) and its content with `seq` as its seq
 * hashes to its own stored hash, so it is the same event, only renumbered. Anything else about it
 * changed, and it is not told apart from an event removed (undefined).
 */
export function renumberedEvent(seq: number, prevHash: string, stored: StoredAuditText): ChainBreak | undefined {
  if (stored.seq === seq || stored.prevHash !== prevHash || !storedTextHolds({ ...stored, seq })) return undefined;
  const before = seq === 1 ? 'the start of the chain' : `event ${seq - 1}`;
  return {
    seq,
    problem: 'renumbered',
    movedTo: stored.seq,
    message: `Event ${seq} was renumbered: it is missing at seq ${seq}, and the same event (its content and hash, linked to ${before}) is stored at seq ${stored.seq}.`,
  };
}

/**
 * Whether a stored event's texts hash to its stored hash: spliced as stored, or, in another
 * spelling, parsed, when that spelling says no more than the value (unambiguous).
 */
function storedTextHolds(event: StoredAuditText): boolean {
  return (
    hashStoredText(event) === event.hash ||
    (hashAuditEvent(parsedContent(event)) === event.hash && JSON_FIELD_LIST.every((f) => unambiguous(event[f])))
  );
}

/** Walks a workspace's events in seq order (fed in pages) and reports the first break. */
export class ChainVerifier {
  private expectedSeq = 1;
  private lastHash = GENESIS_HASH;
  private count = 0;

  get events(): number {
    return this.count;
  }

  /** The hash of the last event that held: the prevHash the next event in the chain must carry. */
  get verifiedHash(): string {
    return this.lastHash;
  }

  push(event: AuditEventContent & { hash: string }): ChainBreak | undefined {
    return this.check(event, () => hashAuditEvent(event) === event.hash);
  }

  /**
   * An event as stored, its JSON as the database's text: hashed as spliced text, and parsed only
   * when that does not match (text written before the linker stored canonical copies, or edited
   * into another spelling of the same value), so an intact log is verified without parsing it.
   */
  pushStored(event: StoredAuditText): ChainBreak | undefined {
    return this.check(event, () => storedTextHolds(event));
  }

  /**
   * An event whose canonical JSON the database spliced from its columns (one string per event, so
   * a large log is verified without building an object per field). It is hashed here, and again
   * with its control characters escaped when it holds any; when the hash does not match, the
   * answer is `reread` and nothing moves: the caller hands the event's stored texts to pushStored,
   * whose slower checks decide (text in another spelling, or altered).
   */
  pushSpliced(event: SplicedAuditEvent): ChainBreak | 'reread' | undefined {
    let reread = false;
    const problem = this.check(event, () => {
      if (sha256(event.canonical) === event.hash) return true;
      const escaped = withControlCharactersEscaped(event.canonical);
      reread = escaped === undefined || sha256(escaped) !== event.hash;
      return !reread;
    });
    return reread ? 'reread' : problem;
  }

  private check(
    event: { seq: number; prevHash: string; hash: string },
    hashMatches: () => boolean,
  ): ChainBreak | undefined {
    if (event.seq !== this.expectedSeq) {
      return {
        seq: this.expectedSeq,
        problem: 'missing',
        message: `Event ${this.expectedSeq} is missing: the next stored event is ${event.seq}.`,
      };
    }
    if (event.prevHash !== this.lastHash) {
      return {
        seq: event.seq,
        problem: 'relinked',
        message: `Event ${event.seq} does not link to event ${event.seq - 1}: one of them was rewritten.`,
      };
    }
    if (!hashMatches()) {
      return {
        seq: event.seq,
        problem: 'altered',
        message: `Event ${event.seq} was altered after it was written: its content no longer matches its hash.`,
      };
    }
    this.expectedSeq += 1;
    this.lastHash = event.hash;
    this.count += 1;
    return undefined;
  }

  /** The chain head is kept apart from the events, so removing the newest events is caught too. */
  finish(head: { seq: number; hash: string }): ChainBreak | undefined {
    if (head.seq !== this.count || head.hash !== this.lastHash) {
      return {
        seq: this.count + 1,
        problem: 'truncated',
        message: `The chain head says ${head.seq} events, but ${this.count} verified events end the chain: events after ${this.count} were removed.`,
      };
    }
    return undefined;
  }
}

/**
 * The text with its control characters escaped as JSON.stringify escapes them, or undefined if it
 * holds none. The database's splice leaves them raw: escaping them there cost every event, this
 * only the rare event that holds one.
 */
function withControlCharactersEscaped(text: string): string | undefined {
  let escaped = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) < 0x20) {
      escaped += text.slice(from, i) + JSON.stringify(text[i]).slice(1, -1);
      from = i + 1;
    }
  }
  return from === 0 ? undefined : escaped + text.slice(from);
}

/**
 * An event's links and its canonical JSON (what the linker hashed) as the database spliced it from
 * the stored columns, but for control characters in its text, which come raw (see pushSpliced).
 */
export interface SplicedAuditEvent {
  seq: number;
  prevHash: string;
  hash: string;
  canonical: string;
}

type JsonField = 'actor' | 'before' | 'after' | 'evidence' | 'data';

/** An event as the database keeps it: its JSON values as their stored text. */
export type StoredAuditText = Omit<ChainedAuditEvent, JsonField> & { actor: string } & {
  [field in Exclude<JsonField, 'actor'>]: string | null;
};

const JSON_FIELD_LIST: readonly JsonField[] = ['actor', 'before', 'after', 'evidence', 'data'];
const JSON_FIELDS: ReadonlySet<string> = new Set<JsonField>(JSON_FIELD_LIST);

/**
 * Whether a stored JSON text, in another spelling than the canonical one, says no more than the
 * value it parses to: each object's keys once (`{"a":9,"a":1}` parses to a = 1 here and in SQL, but
 * reaches a SIEM as stored, where a reader may take 9) and each number exactly the double it parses
 * to (`12345678901234567001` parses to …000 here but reads as written in SQL and in a SIEM).
 */
function unambiguous(text: string | null): boolean {
  if (text === null) return true;
  const keys: (Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let at = 0; at < text.length; ) {
    const char = text[at]!;
    if (char === '"') {
      let end = at + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const raw = text.slice(at + 1, end);
        const key = raw.includes('\\') ? (parseJson(text.slice(at, end + 1)) as string) : raw;
        const seen = keys.at(-1)!;
        if (seen.has(key)) return false;
        seen.add(key);
        expectKey = false;
      }
      at = end + 1;
    } else if (char === '{' || char === '[') {
      keys.push(char === '{' ? new Set() : undefined);
      expectKey = char === '{';
      at += 1;
    } else if (char === '}' || char === ']') {
      keys.pop();
      at += 1;
    } else if (char === ',') {
      expectKey = keys.at(-1) !== undefined;
      at += 1;
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      let end = at + 1;
      while (end < text.length && '0123456789+-.eE'.includes(text[end]!)) end += 1;
      const token = text.slice(at, end);
      if (exactDecimal(token) !== exactDecimal(String(Number(token)))) return false;
      at = end;
    } else at += 1;
  }
  return true;
}

/** A decimal number's exact value as digits and a power of ten, however it is spelled. */
function exactDecimal(token: string): string {
  const [, sign, whole, fraction = '', exponent = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token) ?? [];
  let digits = `${whole}${fraction}`.replace(/^0+/, '');
  let power = Number(exponent) - fraction.length;
  if (digits === '') return '0';
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    power += 1;
  }
  return `${sign}${digits}e${power}`;
}

/** An event's content as it is stored: its JSON values as their text. */
type StoredAuditContent = Omit<StoredAuditText, 'hash'>;

/** The SHA-256 of the canonical JSON spliced from the stored texts, as the linker hashed it. */
export function hashStoredText(event: StoredAuditContent): string {
  return sha256(storedCanonicalJson(event));
}

/** The canonical JSON of an event's content, spliced from its stored texts: what the chain hashes. */
function storedCanonicalJson(event: StoredAuditContent): string {
  let json = '{';
  for (const field of SORTED_CONTENT_FIELDS) {
    const value = event[field];
    json += `${json.length > 1 ? ',' : ''}"${field}":${JSON_FIELDS.has(field) ? (value ?? 'null') : JSON.stringify(value)}`;
  }
  return `${json}}`;
}

/** A stored event's content with its JSON texts parsed, as the store reads the columns back. */
export function parsedContent(event: StoredAuditText): ChainedAuditEvent {
  const parsed = (text: string | null) => (text === null ? null : (parseJson(text) as JsonObject));
  return {
    ...event,
    actor: parsed(event.actor)!,
    before: parsed(event.before),
    after: parsed(event.after),
    evidence: parsed(event.evidence),
    data: parsed(event.data),
  };
}
