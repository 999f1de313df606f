import { z } from 'zod';
import { safeText } from './safe-text.ts';

/**
 * Object types governed, named by CRM (issue 20): HubSpot's keep their bare names, so every policy
 * written before Salesforce stays valid as it is; Salesforce's are `salesforce:<sObject>`.
 */
export const HUBSPOT_OBJECT_TYPES = ['contacts', 'deals'] as const;
export const SALESFORCE_OBJECT_TYPES = ['salesforce:Contact', 'salesforce:Lead', 'salesforce:Opportunity'] as const;
/** HubSpot's, under the name every caller used before Salesforce came. */
export const OBJECT_TYPES = HUBSPOT_OBJECT_TYPES;
export const CRM_OBJECT_TYPES = [...HUBSPOT_OBJECT_TYPES, ...SALESFORCE_OBJECT_TYPES] as const;
export type CrmVendor = 'hubspot' | 'salesforce';
/** Each CRM as its users call it, for sentences people read. */
export const CRM_DISPLAY_NAMES: Record<CrmVendor, string> = { hubspot: 'HubSpot', salesforce: 'Salesforce' };

/** The CRM an object type belongs to: `salesforce:` names Salesforce, a bare name HubSpot. */
export function crmOfObjectType(objectType: string): CrmVendor {
  return objectType.startsWith('salesforce:') ? 'salesforce' : 'hubspot';
}
export const objectTypeSchema = z.enum(CRM_OBJECT_TYPES, {
  error: (issue) => `objectType must be one of ${CRM_OBJECT_TYPES.join(', ')}; got ${JSON.stringify(issue.input)}`,
});
export type ObjectType = z.infer<typeof objectTypeSchema>;

/**
 * Who made a change the CRM reports, in our words (issue 6): our own app, a person (in the CRM's
 * UI, its mobile apps, forms, email), a workflow or sequence, an import, another integration, or
 * the CRM itself (calculated properties, merges), or an AI agent the CRM runs itself (Salesforce's
 * Agentforce agent users, issue 20: writes that did not go through our governance). Each CRM
 * adapter maps its own source names.
 */
export type ChangeSource = 'our_app' | 'person' | 'workflow' | 'import' | 'integration' | 'ai_agent' | 'crm';

/** Where the CRM keeps what the stop rules read of a contact; its adapter names them. */
export interface ContactFields {
  /** A checkbox: the contact opted out of every email. */
  optOut: string;
  /** The contact's addresses, the primary first; each may hold several separated by ";". */
  emails: readonly string[];
  /** Where the CRM notes a hard bounce (any value is one; issue 21), if it keeps one. */
  hardBounce?: string;
  /** The contact's account (its company's record id), if the CRM keeps it on the contact (issue 21's account caps). */
  account?: string;
}

/**
 * CRM internal property names: a letter first, then letters, digits and underscores. HubSpot's
 * are lower-case (`HUBSPOT_PROPERTY_NAME_PATTERN`, checked per object in a policy); Salesforce's
 * field API names keep their capitals (`Title`, `Lead_Score__c`).
 */
export const PROPERTY_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
export const HUBSPOT_PROPERTY_NAME_PATTERN = /^[a-z][a-z0-9_]{0,99}$/;
export const propertyNameSchema = safeText.regex(
  PROPERTY_NAME_PATTERN,
  'must be a CRM internal property name: letters, digits and underscores, starting with a letter (HubSpot’s in lower case, such as jobtitle; a Salesforce field API name, such as Lead_Score__c)',
);

/** HubSpot record ids are positive integers, sent as strings. */
export const HUBSPOT_RECORD_ID_PATTERN = /^[1-9][0-9]{0,17}$/;
/** Salesforce ids: 15 case-sensitive characters, or 18 with the case checksum; the first 3 name the object. */
export const SALESFORCE_RECORD_ID_PATTERN = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$/;

/** Whether an 18-character Salesforce id ends in its case checksum (a 15-character one carries none). */
function salesforceChecksumHolds(id: string): boolean {
  return id.length !== 18 || salesforceIdChecksum(id.slice(0, 15)) === id.slice(15);
}

const WRONG_CHECKSUM = 'has a wrong checksum in its last 3 characters';

/**
 * An id of either CRM: HubSpot's matching `hubspot`, as it is, or Salesforce's matching `salesforce`
 * with its checksum, in its 18-character form: a 15-character id and its 18-character form name
 * one record, and Salesforce answers the latter, so what is stored and what is looked for agree.
 */
const crmIdSchema = (hubspot: RegExp, salesforce: RegExp, message: string) =>
  safeText
    .superRefine((id, ctx) => {
      if (hubspot.test(id)) return;
      if (!salesforce.test(id)) ctx.addIssue({ code: 'custom', input: id, message });
      else if (!salesforceChecksumHolds(id))
        ctx.addIssue({ code: 'custom', input: id, message: `${id} ${WRONG_CHECKSUM}` });
    })
    .overwrite((id) => (isSalesforceId15(id, hubspot, salesforce) ? id + salesforceIdChecksum(id) : id));

/**
 * A 15-character Salesforce id: one HubSpot's form does not take, or, when it does (a user id all
 * digits, `005000000000001`), one with a leading zero, which HubSpot's numeric ids never have.
 */
function isSalesforceId15(id: string, hubspot: RegExp, salesforce: RegExp): boolean {
  return id.length === 15 && salesforce.test(id) && (!hubspot.test(id) || id.startsWith('0'));
}

/**
 * Either CRM's id, a Salesforce id in its 18-character form (given 15, its checksum is appended; given
 * 18, it must hold its checksum); which one an object type takes
 * is checked beside its object type (`recordIdProblem`, `checkRecordIdOfType`).
 */
export const recordIdSchema = crmIdSchema(
  HUBSPOT_RECORD_ID_PATTERN,
  SALESFORCE_RECORD_ID_PATTERN,
  'must be a CRM record id (digits only on HubSpot; 15 or 18 letters and digits on Salesforce)',
);

const HUBSPOT_USER_ID_PATTERN = /^[0-9]{1,18}$/;
const SALESFORCE_USER_ID_PATTERN = /^005[a-zA-Z0-9]{12}(?:[a-zA-Z0-5]{3})?$/;

/** A CRM user: HubSpot's are digits, Salesforce's 15 or 18 characters starting 005. */
export const crmUserIdSchema = crmIdSchema(
  HUBSPOT_USER_ID_PATTERN,
  SALESFORCE_USER_ID_PATTERN,
  'must be a CRM user id (digits only on HubSpot; a 005… user id on Salesforce)',
);

/** What records' owner property names for a person: a HubSpot owner id (digits), on Salesforce their user id. */
export const crmOwnerIdSchema = crmIdSchema(
  HUBSPOT_USER_ID_PATTERN,
  SALESFORCE_USER_ID_PATTERN,
  'must be a CRM owner id (a HubSpot owner id, digits only; on Salesforce the owner’s 005… user id)',
);

/** The key prefix of each governed Salesforce object: the first three characters of its records' ids. */
export const SALESFORCE_KEY_PREFIXES: Record<(typeof SALESFORCE_OBJECT_TYPES)[number], string> = {
  'salesforce:Contact': '003',
  'salesforce:Lead': '00Q',
  'salesforce:Opportunity': '006',
};

const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The 3 characters Salesforce appends to a 15-character id: which of each 5 characters are capitals. */
export function salesforceIdChecksum(id15: string): string {
  let suffix = '';
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(block * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += CHECKSUM_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** Why `recordId` cannot name a record of `objectType`, or null when it can. */
export function recordIdProblem(objectType: string, recordId: string): string | null {
  if (crmOfObjectType(objectType) === 'hubspot') {
    return HUBSPOT_RECORD_ID_PATTERN.test(recordId) ? null : `${objectType} ids are digits only; got ${recordId}`;
  }
  if (!SALESFORCE_RECORD_ID_PATTERN.test(recordId))
    return `${objectType} ids are 15 or 18 letters and digits; got ${recordId}`;
  const prefix = SALESFORCE_KEY_PREFIXES[objectType as keyof typeof SALESFORCE_KEY_PREFIXES];
  if (prefix !== undefined && !recordId.startsWith(prefix))
    return `${recordId} is not a ${objectType.slice('salesforce:'.length)} id (those start with ${prefix})`;
  if (!salesforceChecksumHolds(recordId)) return `${recordId} ${WRONG_CHECKSUM}`;
  return null;
}

/** Refuses at `path` an id `recordIdSchema` took that cannot name a record of `objectType` (one it refused has its issue). */
function checkIdOfType(ctx: z.RefinementCtx, objectType: string, recordId: string, path: (string | number)[]): void {
  if (!recordIdSchema.safeParse(recordId).success) return;
  const problem = recordIdProblem(objectType, recordId);
  if (problem !== null) ctx.addIssue({ code: 'custom', path, input: recordId, message: problem });
}

/**
 * A refinement for what names a record by `objectType` and `recordId` (both optional): refuses,
 * on `recordId`, an id that cannot name a record of that type (`recordIdProblem`).
 */
export function checkRecordIdOfType(
  named: { objectType?: string | undefined; recordId?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (named.objectType !== undefined && named.recordId !== undefined)
    checkIdOfType(ctx, named.objectType, named.recordId, ['recordId']);
}

/** One record, named by its object type and an id that can name a record of that type. */
export const recordRefSchema = z
  .strictObject({ objectType: objectTypeSchema, recordId: recordIdSchema })
  .superRefine(checkRecordIdOfType);

/** The same for many records of one type, each refused at its place in `recordIds`. */
export function checkRecordIdsOfType(
  named: { objectType: string; recordIds: readonly string[] },
  ctx: z.RefinementCtx,
): void {
  for (const [index, recordId] of named.recordIds.entries())
    checkIdOfType(ctx, named.objectType, recordId, ['recordIds', index]);
}

export const AGENT_ROLES = ['prospecting', 'enrichment', 'outreach', 'routing', 'admin'] as const;
export const agentRoleSchema = z.enum(AGENT_ROLES);
export type AgentRole = z.infer<typeof agentRoleSchema>;

export const AGENT_STATUSES = ['active', 'paused', 'revoked'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** Kinds of action a kill switch can stop; `field_write` covers change sets. */
export const ACTION_KINDS = ['field_write', 'send_email', 'create_task', 'create_note'] as const;
export const actionKindSchema = z.enum(ACTION_KINDS);
export type ActionKind = z.infer<typeof actionKindSchema>;

/**
 * Our approval object and its status property, in our words, where a CRM's adapter reads its own
 * approval object into them (Salesforce's `Agent_Approval__c`, issue 20): a person setting the
 * status there is their decision, as on HubSpot's approval object.
 */
export const APPROVAL_OBJECT_TYPE = 'agent_approvals';
export const APPROVAL_STATUS_PROPERTY = 'ag_status';
