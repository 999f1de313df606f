import type { AgentRole, ObjectType } from '../../../shared/crm-names.ts';
import type { Policy, Tier } from '../../../shared/policy.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import {
  baseEvaluation,
  capsFor,
  evaluateFields,
  raiseTier,
  type FieldEvaluation,
  type FieldWrite,
} from './policy-evaluation.ts';

/**
 * Creating records (issue 21): the deterministic duplicate check and the decision on each
 * creation. Pure: the service searches the CRM with the keys built here and passes back what it found.
 */

/** What a contact is recognised by: its email, else its normalised full name at its company's domain. */
export interface ContactKey {
  email: string | null;
  /** The normalised "first last" name; null without a last name. */
  name: string | null;
  lastName: string | null;
  /** The company's domain: the email's, else the website's host; null for free-mail addresses. */
  domain: string | null;
}

/** An existing contact as the CRM search returned it. */
export interface ExistingContact {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  emailDomain: string | null;
}

/**
 * Addresses at these domains say nothing about a company, so two people of the same name there
 * are not taken for one. The list is short on purpose: the providers most B2B lists carry.
 */
const FREE_MAIL_DOMAINS = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'hotmail.com',
  'outlook.com',
  'live.com',
  'icloud.com',
  'me.com',
  'aol.com',
  'proton.me',
  'protonmail.com',
  'gmx.com',
  'gmx.de',
  'web.de',
  'yandex.ru',
  'mail.ru',
  'qq.com',
]);

/** "  Zoë  O'Brien-Smith " → "zoe o'brien-smith": case, accents and runs of spaces do not tell people apart. */
export function normaliseName(name: string): string {
  return name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** "https://www.Acme.com/about" or "acme.com" → "acme.com"; null when it is no host name. */
export function domainOfWebsite(website: string): string | null {
  const trimmed = website.trim().toLowerCase();
  if (trimmed === '') return null;
  try {
    const host = new URL(/^[a-z][a-z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `https://${trimmed}`).hostname;
    const bare = host.startsWith('www.') ? host.slice(4) : host;
    return bare.includes('.') ? bare : null;
  } catch {
    return null;
  }
}

function companyDomain(domain: string | null): string | null {
  return domain === null || FREE_MAIL_DOMAINS.has(domain) ? null : domain;
}

function present(value: string | null | undefined): string | null {
  return value === undefined || value === null || value.trim() === '' ? null : value;
}

export function contactKey(properties: Readonly<Record<string, string | null>>): ContactKey {
  const email = present(properties['email']);
  const first = present(properties['firstname']);
  const last = present(properties['lastname']);
  const normalisedEmail = email === null ? null : normaliseEmail(email);
  const emailDomain = normalisedEmail?.includes('@')
    ? normalisedEmail.slice(normalisedEmail.lastIndexOf('@') + 1)
    : null;
  const website = present(properties['website']);
  return {
    email: normalisedEmail,
    name: last === null ? null : normaliseName(`${first ?? ''} ${last}`),
    lastName: last === null ? null : normaliseName(last),
    domain: companyDomain(emailDomain ?? (website === null ? null : domainOfWebsite(website))),
  };
}

function existingKey(contact: ExistingContact): ContactKey {
  return contactKey({
    email: contact.email,
    firstname: contact.firstName,
    lastname: contact.lastName,
    website: contact.emailDomain,
  });
}

/**
 * What our own creations are matched by, kept with each creation: the normalised email, and the
 * company domain with the normalised full name (`acme.com|ada lovelace`; a domain holds no `|`).
 */
export interface CreationKeys {
  emailKey: string | null;
  nameKey: string | null;
}

export function creationKeys(key: ContactKey): CreationKeys {
  return {
    emailKey: key.email,
    nameKey: key.name !== null && key.domain !== null ? `${key.domain}|${key.name}` : null,
  };
}

/**
 * One of our own earlier creations that still stands (created, being created, or held for a person).
 * The CRM's search index trails new records by seconds, and two change sets can check at the same
 * moment, so the CRM alone cannot tell that an agent is creating the same person twice.
 */
export interface OwnCreation extends CreationKeys {
  /** Set once the CRM created it. */
  recordId: string | null;
  changeSetId: string;
}

/**
 * A likely duplicate: of a record in the CRM or one we created (`recordId`), of a creation another
 * change set has under way or held (`changeSetId`), or of an earlier entry of the same change set (`entry`).
 */
export type Duplicate = { recordId: string } | { changeSetId: string } | { entry: number };

/**
 * For each candidate, in order, the record it likely duplicates: the same email first, then the
 * same normalised full name at the same company domain. Among several matches the lowest record
 * id (the oldest) is named, so the answer does not depend on the order the CRM listed them in.
 * A candidate matching one of our own creations not yet created names that creation's change set;
 * one repeating an earlier candidate of the batch is that candidate's duplicate.
 */
export function findDuplicates(
  candidates: readonly ContactKey[],
  existing: readonly ExistingContact[],
  own: readonly OwnCreation[] = [],
): (Duplicate | undefined)[] {
  const recordByEmail = new Map<string, string>();
  const recordByName = new Map<string, string>();
  const oldest = (map: Map<string, string>, key: string | null, id: string) => {
    if (key === null) return;
    const known = map.get(key);
    if (known === undefined || compareIds(id, known) < 0) map.set(key, id);
  };
  const remember = (keys: CreationKeys, id: string) => {
    oldest(recordByEmail, keys.emailKey, id);
    oldest(recordByName, keys.nameKey, id);
  };
  for (const contact of existing) remember(creationKeys(existingKey(contact)), contact.id);
  const underWay = { byEmail: new Map<string, string>(), byName: new Map<string, string>() };
  for (const creation of own) {
    if (creation.recordId !== null) remember(creation, creation.recordId);
    else {
      if (creation.emailKey !== null) underWay.byEmail.set(creation.emailKey, creation.changeSetId);
      if (creation.nameKey !== null) underWay.byName.set(creation.nameKey, creation.changeSetId);
    }
  }
  const seenEmail = new Map<string, number>();
  const seenName = new Map<string, number>();
  return candidates.map((candidate, index): Duplicate | undefined => {
    const { emailKey, nameKey } = creationKeys(candidate);
    const found =
      lookup(recordByEmail, underWay.byEmail, seenEmail, emailKey) ??
      lookup(recordByName, underWay.byName, seenName, nameKey);
    if (emailKey !== null && !seenEmail.has(emailKey)) seenEmail.set(emailKey, index);
    if (nameKey !== null && !seenName.has(nameKey)) seenName.set(nameKey, index);
    return found;
  });
}

function lookup(
  recorded: Map<string, string>,
  underWay: Map<string, string>,
  inBatch: Map<string, number>,
  key: string | null,
): Duplicate | undefined {
  if (key === null) return undefined;
  const recordId = recorded.get(key);
  if (recordId !== undefined) return { recordId };
  const changeSetId = underWay.get(key);
  if (changeSetId !== undefined) return { changeSetId };
  const entry = inBatch.get(key);
  return entry === undefined ? undefined : { entry };
}

function compareIds(a: string, b: string): number {
  return a.length === b.length ? a.localeCompare(b) : a.length - b.length;
}

export interface CreateEntry {
  properties: Record<string, string | null>;
  evidence: FieldWrite['evidence'];
}

export interface CreateEvaluation extends FieldEvaluation {
  duplicate: Duplicate | undefined;
}

/**
 * Decides each creation, in order: the object's `create` tier for the role (deny by default),
 * raised to the strictest tier of its properties as field writes on an empty record (so a
 * property the role may not set, a condition on evidence or confidence, or a time window counts
 * as it does for an update), then a likely duplicate raises it to the policy's `onDuplicate`
 * (deny unless it says `approval` or `two_person`), then the daily creation cap.
 */
export function evaluateCreates(input: {
  policy: Policy;
  agentRole: AgentRole;
  objectType: ObjectType;
  entries: readonly CreateEntry[];
  duplicates: readonly (Duplicate | undefined)[];
  createsToday: number;
  now: Date;
}): { evaluations: CreateEvaluation[]; added: number } {
  const { policy, agentRole, objectType } = input;
  const objectPolicy = policy.objects[objectType];
  const cap = capsFor(policy, agentRole).createsPerAgentPerDay;
  let added = 0;
  const evaluations = input.entries.map((entry, index): CreateEvaluation => {
    const duplicate = input.duplicates[index];
    const base = baseEvaluation(objectPolicy?.create, agentRole);
    if (base.tier === 'deny') return { ...base, duplicate };
    let tier: Tier = base.tier;
    const reasons: ReasonCode[] = [...base.reasons];
    const add = (reason: ReasonCode) => {
      if (!reasons.includes(reason)) reasons.push(reason);
    };
    const writes = Object.entries(entry.properties).map(
      ([property, value]): FieldWrite => ({ recordId: '', property, proposedValue: value, evidence: entry.evidence }),
    );
    const fields = evaluateFields({
      policy,
      agentRole,
      objectType,
      writes,
      records: new Map(),
      newRecords: true,
      now: input.now,
    });
    for (const field of fields) {
      tier = raiseTier(tier, field.tier);
      // The properties' own tier reasons would repeat the creation's; their concerns are what matters.
      for (const reason of field.reasons) if (!reason.startsWith('tier_') && reason !== 'value_unchanged') add(reason);
    }
    if (duplicate !== undefined) {
      tier = raiseTier(tier, objectPolicy?.onDuplicate ?? 'deny');
      add('duplicate_of');
    }
    if (tier !== 'deny' && cap !== undefined && input.createsToday + added >= cap) {
      tier = 'deny';
      add('cap_agent_daily_creates_reached');
    }
    if (tier !== 'deny') added += 1;
    return { tier, reasons, duplicate };
  });
  return { evaluations, added };
}
