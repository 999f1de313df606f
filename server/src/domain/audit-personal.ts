import { hash, randomFillSync } from 'node:crypto';
import { storableJson } from './audit-storable.ts';

/**
 * Personal data in audit events (issue 21, point 11), pure. A personal value never enters the
 * hashed event: the event holds REDACTED in its place and, in `data.personal.digest`, a salted
 * SHA-256 of the values, which are kept apart (one row per event) until retention or an erasure
 * request deletes them. The chain covers the digest, so it verifies with or without the row, and
 * a row present must match its digest. The salt goes with the row, so once the row is deleted a
 * short value (a phone number) cannot be found again by hashing guesses.
 *
 * What counts as personal (docs/retention.md), in events about a CRM record (with an object
 * type; setup, agent, policy and SIEM events hold none): in `before` and `after`, every key that names a
 * person's contact or identity detail (PERSONAL_NAME, matched on the key lower-cased without
 * separators, so `email`, `FirstName`, `MailingStreet` and `mobile_phone` all count) and a
 * draft's recipient, subject and body; every value of an event about such a property (the
 * `property` column: a bypass write's `{value}`); in `data`, a draft's content and recipient,
 * the `message` (a CRM's refusal quotes values), and a person's edits to held values or the CRM's
 * current values when they touch such a property.
 * Evidence is the agent's account of its sources and is kept whole.
 */
export const REDACTED = '[redacted]';
const SALT_BYTES = 16;

const PERSONAL_NAME =
  /email|phone|mobile|fax|firstname|lastname|fullname|middlename|^name$|salutation|address|street|city|^zip|postal|birth|linkedin|twitter/;
const DRAFT_KEYS = new Set(['to', 'subject', 'body', 'content', 'editedcontent', 'recipient', 'recipientemail']);
const DATA_KEYS = new Set(['to', 'body', 'content', 'editedcontent', 'recipient', 'recipientemail']);

// audit-chain.ts uses this file, so its types are spelled here rather than imported (no cycle).
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
/** The fields of an event (NewAuditEvent) that can hold personal values. */
interface EventFields {
  objectType?: string | null;
  property?: string | null;
  before?: JsonObject | null;
  after?: JsonObject | null;
  data?: JsonObject | null;
}

const normalised = (key: string) => key.toLowerCase().replaceAll(/[^a-z0-9]/g, '');

/**
 * Each key classified once: a change set's few properties name every key of its thousands of
 * events, and normalising a key took a fifth of separating an event's personal values. Bounded,
 * since `data` keys come from agents.
 */
const classified = new Map<string, { property: boolean; value: boolean }>();
const KEYS_CLASSIFIED = 10_000;

function classification(key: string): { property: boolean; value: boolean } {
  let known = classified.get(key);
  if (!known) {
    const name = normalised(key);
    const property = PERSONAL_NAME.test(name);
    known = { property, value: property || DRAFT_KEYS.has(name) };
    if (classified.size >= KEYS_CLASSIFIED) classified.clear();
    classified.set(key, known);
  }
  return known;
}

export function isPersonalProperty(name: string): boolean {
  return classification(name).property;
}

const personalInValues = (key: string) => classification(key).value;
// Values keyed by property in `data` (a person's edits to held values, the CRM's current values that
// made an approval stale) go apart whole if any of them is personal.
const KEYED_BY_PROPERTY = new Set(['edits', 'current']);
const personalInData = (key: string, value: Json) =>
  DATA_KEYS.has(normalised(key)) ||
  // The CRM's message on a refused write can quote the values it refused (HubSpot's and Salesforce's
  // validation errors do): kept apart whatever the property, so an erasure can reach it.
  key === 'message' ||
  (KEYED_BY_PROPERTY.has(key) && !!value && typeof value === 'object' && Object.keys(value).some(isPersonalProperty));

/** The personal values taken out of one event, by field and top-level key. */
export interface PersonalValues {
  before?: JsonObject;
  after?: JsonObject;
  data?: JsonObject;
}

/** What is kept apart for one event: the values, their salt, and the addresses found in them. */
export interface PersonalApart {
  salt: string;
  values: PersonalValues;
  emails: string[];
}

type Field = keyof PersonalValues;

/**
 * The event with its personal values replaced and the digest added to `data.personal`, and what
 * to keep apart; undefined when the event holds nothing personal (it is then hashed as before).
 */
export function separatePersonal<E extends EventFields>(
  event: E,
  salt: () => string = newSalt,
): { event: E; apart: PersonalApart } | undefined {
  if (!event.objectType) return undefined;
  const wholeValues = typeof event.property === 'string' && isPersonalProperty(event.property);
  const values: PersonalValues = {};
  const take = (
    field: Field,
    object: JsonObject | null | undefined,
    personal: (key: string, value: Json) => boolean,
  ) => {
    if (!object) return object;
    let kept: JsonObject | undefined;
    for (const key of Object.keys(object)) {
      const value = object[key] as Json;
      if (!personal(key, value) || value === null || value === REDACTED) continue;
      kept ??= { ...object };
      kept[key] = REDACTED;
      values[field] ??= {};
      values[field][key] = value;
    }
    return kept ?? object;
  };
  const before = take('before', event.before, wholeValues ? () => true : personalInValues);
  const after = take('after', event.after, wholeValues ? () => true : personalInValues);
  const data = take('data', event.data, personalInData);
  if (!values.before && !values.after && !values.data) return undefined;
  const stored = storableJson(values) as PersonalValues;
  const apart = { salt: salt(), values: stored, emails: emailsIn(stored) };
  const personal = { digest: digestOfStorable(apart.salt, stored) };
  return { event: { ...event, before, after, data: { ...data, personal } }, apart };
}

// A change set of enrichments salts a personal event per record: one call fills a thousand salts'
// random bytes instead of one call each, as ids do (services/common/ids.ts).
const saltPool = Buffer.alloc(SALT_BYTES * 1024);
let saltOffset = saltPool.length;

function newSalt(): string {
  if (saltOffset === saltPool.length) {
    randomFillSync(saltPool);
    saltOffset = 0;
  }
  saltOffset += SALT_BYTES;
  return saltPool.toString('hex', saltOffset - SALT_BYTES, saltOffset);
}

/** SHA-256 of the salt and the canonical JSON of the values (keys in code-unit order). */
export function personalDigest(salt: string, values: PersonalValues): string {
  return digestOfStorable(salt, storableJson(values) as PersonalValues);
}

/** personalDigest of values already made storable (and so canonical): not copied again. */
function digestOfStorable(salt: string, stored: PersonalValues): string {
  return hash('sha256', `${salt}:${JSON.stringify(stored)}`, 'hex');
}

/** The digest an event's hashed `data` promises for its apart values, if it has any. */
export function digestOf(data: unknown): string | undefined {
  const personal = data && typeof data === 'object' ? (data as JsonObject).personal : undefined;
  if (!personal || typeof personal !== 'object' || Array.isArray(personal)) return undefined;
  return typeof personal.digest === 'string' ? personal.digest : undefined;
}

/** A character an address cannot hold besides `@`: where its local part and domain end. */
const OUTSIDE_ADDRESS = /[\s<>"',;:()[\]]/;
/** A domain: the longest start of the characters after `@` that ends in a dot and two letters or more. */
const DOMAIN = /^.+\.[a-z]{2,}/i;

const inAddress = (char: string) => char !== '@' && !OUTSIDE_ADDRESS.test(char);

/**
 * The addresses in a text, lowercased: what `/[^\s@<>"',;:()[\]]+@[^\s@<>"',;:()[\]]+\.[a-z]{2,}/gi`
 * matches, found from each `@` outward, so the work grows with the text. That expression tried
 * every start of a long run without an `@` to its end: a 65,536-character body took seconds of
 * the server's only thread.
 */
export function emailAddressesIn(text: string): string[] {
  const found: string[] = [];
  let from = 0; // an address never starts inside the one before it
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > from && inAddress(text[start - 1]!)) start--;
    if (start === at) continue;
    let end = at + 1;
    while (end < text.length && inAddress(text[end]!)) end++;
    const domain = DOMAIN.exec(text.slice(at + 1, end));
    if (!domain) continue;
    from = at + 1 + domain[0].length;
    found.push(text.slice(start, from).toLowerCase());
  }
  return found;
}

function emailsIn(values: PersonalValues): string[] {
  const found = new Set<string>();
  const walk = (value: unknown) => {
    if (typeof value === 'string') for (const address of emailAddressesIn(value)) found.add(address);
    else if (value && typeof value === 'object') for (const inner of Object.values(value)) walk(inner);
  };
  walk(values);
  return [...found].sort();
}

/**
 * An event's JSON fields with the values kept apart written back in (when the row is still
 * there); fields the caller did not read stay absent.
 */
export function withPersonal<T extends { before: unknown; after: unknown; data?: unknown }>(
  event: T,
  values: unknown,
): T {
  if (!values || typeof values !== 'object') return event;
  const kept = values as PersonalValues;
  const put = (object: unknown, inner: JsonObject | undefined) =>
    inner && object && typeof object === 'object' ? { ...(object as JsonObject), ...inner } : object;
  const overlaid = { ...event, before: put(event.before, kept.before), after: put(event.after, kept.after) };
  if ('data' in event) overlaid.data = put(event.data, kept.data);
  return overlaid;
}
