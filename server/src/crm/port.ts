import type { AssociationTarget } from '../../../shared/agent-api.ts';
import type { ChangeSource, ContactFields, ObjectType } from '../../../shared/crm-names.ts';
import type { DraftTextLimits } from '../domain/draft-text-limits.ts';

/**
 * The one interface the services use to talk to a CRM. HubSpot and (later) Salesforce
 * adapters implement it; they are the only modules that import a vendor SDK.
 * Batching is explicit: callers chunk by `batchLimit` so they can check kill switches
 * and record progress between CRM calls.
 */
export interface CrmPort {
  readonly vendor: 'hubspot' | 'salesforce';
  /** Most records one read or write call accepts (HubSpot 100, Salesforce 200). */
  readonly batchLimit: number;
  /** Most records one read call accepts when reads take more than writes (Salesforce 2,000); else `batchLimit`. */
  readonly readBatchLimit?: number;
  /**
   * Most records one `writeBatch` takes when the adapter spreads them over several calls or one
   * bulk job (Salesforce 2,000); else `batchLimit`. Callers check kill switches between writes.
   */
  readonly writeLimit?: number;
  /** The record property that names its owner, read with the current values so a rep decides only on records they own. */
  readonly ownerProperty: string;
  /** The object types this CRM's records are governed under (issue 20: `contacts`, or `salesforce:Contact`...). */
  readonly objectTypes: readonly ObjectType[];
  /** The object type of the people drafts are sent to: the stop rules read it. */
  readonly contactObjectType: ObjectType;
  /**
   * Whether publishing a policy asks the CRM that every property it names exists (Salesforce: a
   * field the org lacks is refused by name). HubSpot's policies may name properties bootstrap or
   * the customer creates later, as they always could: publishing them is answered with warnings.
   */
  readonly checksPolicyFieldsAtPublish: boolean;
  /** The contact properties the stop rules read before an email goes out. */
  readonly contactFields: ContactFields;
  /**
   * How long a draft's texts may be where the CRM keeps them (a task's subject, a note's body);
   * submission and an approver's edit refuse longer. Absent where the CRM names no limit (HubSpot).
   */
  readonly draftTextLimits?: DraftTextLimits;

  /**
   * The port of the CRM that holds records of `objectType` (issue 20): where a workspace connects
   * two CRMs, what differs per CRM and names no object (`ownerProperty`, the batch limits,
   * `checksPolicyFieldsAtPublish`, `draftTextLimits`, `changeSourceOf`, `vendor`) is read from it.
   * Any object type the CRM names will do, governed or not (a webhook's `companies`). A port of one
   * CRM is its own.
   */
  forObject(objectType: string): CrmPort;

  /** Who made a change the CRM reported (a webhook), from the source it named; `appId` is the app it was sent to, ours. */
  changeSourceOf(change: ReportedChange): ChangeSource;
  /** The CRM user a change's source id names when a person made it, or null. */
  userOfSource(sourceId: string | null): string | null;

  /**
   * Refuses, before anything is sent, a connection naming an address this server may not reach (a
   * workspace's admin chose it): 422 DESTINATION_NOT_ALLOWED, `details.path` the connection's field.
   * Absent where the CRM's address is the operator's alone (HubSpot's API root).
   */
  assertConfigurable?(): void;

  /**
   * The account these credentials open, in one cheap call: a workspace checks a token with it
   * before storing it. Throws CRM_AUTH_FAILED when the CRM refuses the credentials.
   */
  readAccount(): Promise<{ accountId: string }>;

  /**
   * Property definitions of an object type, keyed by internal name. Adapters may cache; `fresh`
   * asks the CRM again (and keeps the answer), for a caller about to say a property is missing.
   */
  describeProperties(
    objectType: ObjectType,
    options?: { fresh?: boolean },
  ): Promise<Map<string, CrmPropertyDefinition>>;

  /** Reads up to `readBatchLimit` (else `batchLimit`) records in one call. Records the CRM does not have are absent from the map. */
  readBatch(input: {
    objectType: ObjectType;
    recordIds: readonly string[];
    properties: readonly string[];
  }): Promise<Map<string, CrmRecordValues>>;

  /** Writes up to `writeLimit` (else `batchLimit`) records; one outcome per input, in input order. Partial failures are outcomes, not throws. */
  writeBatch(input: { objectType: ObjectType; writes: readonly CrmRecordWrite[] }): Promise<CrmWriteOutcome[]>;

  /**
   * Sends what a `writeBatch` would write without writing it yet, so a caller can send it while it
   * stores why it writes, and write only once that is stored: nothing is written before `commit`,
   * and `abort` drops it (Salesforce: a Bulk job opened and its CSV uploaded; it processes nothing
   * until closed). Rejects as `writeBatch` would, nothing written. Absent where the CRM cannot stage
   * (HubSpot): `stagedWrite` then sends nothing before commit.
   */
  stageWrite?(input: { objectType: ObjectType; writes: readonly CrmRecordWrite[] }): Promise<StagedCrmWrite>;

  /**
   * The newest revision in the CRM's property history for each property of up to `batchLimit`
   * records: who wrote the current value, through what, when. Rollback (issue 7) explains a
   * conflict with it when our own records cannot; a CRM without history leaves it out.
   */
  readLatestChanges?(input: {
    objectType: ObjectType;
    recordIds: readonly string[];
    properties: readonly string[];
  }): Promise<Map<string, Record<string, CrmValueChange>>>;

  /**
   * Every revision the CRM keeps of each property of up to `batchLimit` records, newest first
   * (HubSpot keeps 45 per contact property, 20 on other objects). Records the CRM does not have
   * are absent. Recovery (issue 17) reads it to tell whether a write sent before a crash landed.
   */
  readPropertyHistory?(input: {
    objectType: ObjectType;
    recordIds: readonly string[];
    properties: readonly string[];
  }): Promise<Map<string, Record<string, CrmValueChange[]>>>;

  /**
   * Contacts that share an email with any of `emails`, or a last name in `lastNames` and an email
   * domain in `domains` (issue 21's duplicate check): one search call for up to `batchLimit`
   * candidates, more only when the matches fill a page. Values are compared without case.
   */
  findContactsLike?(input: {
    emails: readonly string[];
    lastNames: readonly string[];
    domains: readonly string[];
  }): Promise<CrmContactMatch[]>;

  /**
   * Creates up to `batchLimit` records in one call. Each carries a unique value of `keyProperty`
   * that tells which created record answers which input (the CRM may list them in any order).
   * One outcome per input, in input order; partial failures are outcomes. Not idempotent.
   */
  createBatch?(input: {
    objectType: ObjectType;
    keyProperty: string;
    records: readonly Record<string, string>[];
  }): Promise<CrmCreateOutcome[]>;

  /**
   * The records whose `property` holds one of up to `batchLimit` values (each value unique to one
   * record, such as `ag_create_ref`): value → record id. One search call, more only past a page.
   */
  findByProperty?(input: {
    objectType: ObjectType;
    property: string;
    values: readonly string[];
  }): Promise<Map<string, string>>;

  /**
   * Which of these records are in the CRM list `listId` (a segment kill switch, issue 21). Absent
   * where the CRM has no lists; a segment there is given by a record condition instead.
   */
  listMembers?(input: { listId: string; recordIds: readonly string[] }): Promise<Set<string>>;

  /** Archives up to `batchLimit` records (a rollback of their creation); archiving one already gone is harmless. */
  archiveBatch?(input: { objectType: ObjectType; recordIds: readonly string[] }): Promise<void>;

  /** Creates the property group and properties that do not exist yet; idempotent. */
  ensureProperties(input: {
    objectType: ObjectType;
    group: CrmPropertyGroup;
    properties: readonly CrmPropertyDefinition[];
  }): Promise<EnsurePropertiesResult>;

  /** Creates the app's custom object (found by name) unless the account has it; idempotent. */
  ensureCustomObject(schema: CrmCustomObjectSchema): Promise<{ objectTypeId: string; created: boolean }>;

  /**
   * Creates or updates up to `batchLimit` custom-object records keyed by a unique-value property,
   * so repeating a call never makes duplicates. Throws when the CRM refuses or cannot be reached.
   */
  upsertCustomRecords(input: {
    objectTypeId: string;
    keyProperty: string;
    records: readonly CrmCustomRecord[];
  }): Promise<CrmUpsertOutcome[]>;

  /** The owner id (what `ownerProperty` holds) of a CRM user, or null when the user owns nothing. */
  findOwnerIdOfUser(userId: string): Promise<string | null>;

  /** The teams a CRM user is in, primary first; empty for a user the CRM does not know. Adapters may cache briefly. */
  findTeamIdsOfUser(userId: string): Promise<string[]>;

  /** The account's teams, for an admin giving a team a role. */
  listTeams(): Promise<CrmTeam[]>;

  /** Links up to `batchLimit` pairs of records with the CRM's default association; linking twice is harmless. */
  associate(input: {
    fromObjectType: string;
    toObjectType: ObjectType;
    pairs: readonly { fromId: string; toId: string }[];
  }): Promise<void>;

  /**
   * Governed associations (issue 21). Absent where a link is a lookup field on the record (Salesforce:
   * a contact's AccountId), which a change set sets as an update. Each call takes up to `batchLimit` pairs.
   */
  associations?: CrmAssociations;

  /**
   * The console opened inside the CRM (issue 20: a Salesforce Canvas app). Absent where the CRM
   * does not embed it (HubSpot's app is its own card).
   */
  embeddedApp?: CrmEmbeddedApp;

  /** Logs a note (plain text) on a record's timeline. Not idempotent: never repeated after an unclear failure. */
  createNote(input: {
    objectType: ObjectType;
    recordId: string;
    body: string;
    timestamp: Date;
  }): Promise<{ id: string }>;

  /** Creates a task on a record, due at `dueAt`. Not idempotent, as createNote. */
  createTask(input: {
    objectType: ObjectType;
    recordId: string;
    subject: string;
    body?: string | undefined;
    dueAt: Date;
    priority?: 'LOW' | 'MEDIUM' | 'HIGH' | undefined;
  }): Promise<{ id: string }>;
}

/** A write sent but not yet made (`stageWrite`). */
export interface StagedCrmWrite {
  /** Makes the write: `writeBatch`'s outcomes. */
  commit(): Promise<CrmWriteOutcome[]>;
  /** Drops the write unless it was committed: nothing of it is written. */
  abort(): Promise<void>;
}

/** A write staged where the CRM stages one, else left whole to commit, where `writeBatch` sends it. */
export function stagedWrite(
  crm: CrmPort,
  input: { objectType: ObjectType; writes: readonly CrmRecordWrite[] },
): Promise<StagedCrmWrite> {
  if (crm.stageWrite) return crm.stageWrite(input);
  return Promise.resolve({ commit: () => crm.writeBatch(input), abort: async () => {} });
}

/** A link between a governed record and a record of another type (a contact and its company). */
export interface CrmAssociationPair {
  fromId: string;
  toId: string;
}

/**
 * What the console opened inside the CRM asks of the account it is connected to, always at the
 * address stored for that account (never at one a request names, so no forged host is sent a
 * user's token).
 */
export interface CrmEmbeddedApp {
  /** The origins of the account's own pages: the only ones that may frame the console or post to open it. */
  origins(): Promise<string[]>;
  /**
   * Whose a CRM user's own access token is (the one the CRM handed the embedded console), asked
   * of the CRM: a live token answers its user and account ids. A token the CRM refuses (revoked,
   * expired, of another account) throws UNAUTHENTICATED (`details.reason: crm_token_refused`);
   * a CRM that cannot answer, CRM_UNAVAILABLE.
   */
  userOfToken(token: string): Promise<{ crmUserId: string; accountId: string }>;
}

export interface CrmAssociations {
  /** For each of the records, the ids of the records of `toObjectType` it is linked to now; records with none are absent. */
  read(input: {
    fromObjectType: ObjectType;
    toObjectType: AssociationTarget;
    fromIds: readonly string[];
  }): Promise<Map<string, Set<string>>>;
  /** Links each pair with the CRM's default association; linking twice is harmless. One outcome per pair, in order. */
  associate(input: {
    fromObjectType: ObjectType;
    toObjectType: AssociationTarget;
    pairs: readonly CrmAssociationPair[];
  }): Promise<CrmAssociateOutcome[]>;
  /** Removes each pair's links; a pair not linked is left as it is. */
  dissociate(input: {
    fromObjectType: ObjectType;
    toObjectType: AssociationTarget;
    pairs: readonly CrmAssociationPair[];
  }): Promise<void>;
}

export type CrmAssociateOutcome =
  | { ok: true }
  | { ok: false; reason: 'crm_rejected' | 'crm_unavailable'; message: string };

export interface CrmCustomObjectSchema {
  name: string;
  labels: { singular: string; plural: string };
  primaryDisplayProperty: string;
  /** The first must be the unique key records are upserted by. */
  properties: readonly (CrmPropertyDefinition & { hasUniqueValue?: boolean })[];
  associatedObjects: readonly ObjectType[];
}

export interface CrmTeam {
  id: string;
  name: string;
}

export interface CrmCustomRecord {
  /** The value of the key property. */
  key: string;
  properties: Record<string, string>;
}

export interface CrmUpsertOutcome {
  key: string;
  id: string;
  created: boolean;
}

export type CrmValue = string | null;

/** A change as the CRM reports it: its own name for the kind of source, and which one. */
export interface ReportedChange {
  changeSource: string | null;
  sourceId: string | null;
  appId: string | null;
}

/** One revision of a property's history: who wrote it, in our words, with the CRM's id of the source and the user. */
export interface CrmValueChange {
  value: string | null;
  at: Date;
  source: ChangeSource;
  sourceId: string | null;
  userId: string | null;
}
export type CrmRecordValues = Record<string, CrmValue>;

export interface CrmRecordWrite {
  recordId: string;
  properties: Record<string, string>;
}

export type CrmWriteOutcome =
  | { recordId: string; ok: true }
  | {
      recordId: string;
      ok: false;
      reason: 'crm_rejected' | 'crm_unavailable';
      message: string;
      /** The CRM's own code for the refusal, when it gives one per record (Salesforce's `statusCode`). */
      code?: string;
    };

/** A contact the duplicate check found, with what it compares. */
export interface CrmContactMatch {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  emailDomain: string | null;
}

export type CrmCreateOutcome =
  | { key: string; ok: true; recordId: string }
  | { key: string; ok: false; reason: 'crm_rejected' | 'crm_unavailable'; message: string };

export type CrmPropertyType = 'string' | 'number' | 'enumeration' | 'datetime' | 'date' | 'bool';

export interface CrmPropertyDefinition {
  name: string;
  label: string;
  type: CrmPropertyType;
  /** HubSpot's fieldType (text, textarea, number, select, booleancheckbox, date...). */
  fieldType: string;
  description?: string;
  groupName?: string;
  /** Allowed values for enumerations. */
  options?: readonly { label: string; value: string }[];
  /** The CRM lets no one set it through the API (Salesforce's `updateable: false`: Id, formulas, system fields). */
  readOnly?: boolean;
  /** The most characters of text the CRM keeps in it, counted in UTF-16 units (Salesforce's describe `length`). */
  maxLength?: number;
  /** Its value names another record (Salesforce's reference fields: OwnerId, AccountId): an id of this form. */
  recordIdPattern?: RegExp;
}

export interface CrmPropertyGroup {
  name: string;
  label: string;
}

export interface EnsurePropertiesResult {
  groupCreated: boolean;
  created: string[];
  existing: string[];
}

/** Whether a request the CRM signed (webhooks, the app's proxied fetches) was signed, recently, with one of `secrets`. */
export type SignatureCheck =
  | { ok: true }
  | {
      ok: false;
      code: 'WEBHOOK_SIGNATURE_MISSING' | 'WEBHOOK_SIGNATURE_INVALID' | 'WEBHOOK_TIMESTAMP_STALE';
      message: string;
    };

export interface SignedRequest {
  method: string;
  /** The full URI the CRM called, scheme and host included. */
  url: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
}

/** The CRM's request-signature check, supplied by its adapter; the services never name the scheme. */
export type SignedRequestCheck = (request: SignedRequest, secrets: readonly string[], now: Date) => SignatureCheck;
