import type { Connection } from '@jsforce/jsforce-node';
import {
  SALESFORCE_OBJECT_TYPES,
  SALESFORCE_RECORD_ID_PATTERN,
  type ObjectType,
} from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import type {
  CrmPort,
  CrmPropertyDefinition,
  CrmPropertyType,
  CrmRecordValues,
  CrmValueChange,
  StagedCrmWrite,
} from '../port.ts';
import { mintSession, openConnection, type SalesforceAuth, type SalesforceSession } from './auth.ts';
import { activityMethods, SALESFORCE_DRAFT_TEXT_LIMITS } from './activities.ts';
import { type ApiBudget, sfCall } from './calls.ts';
import { COLLECTIONS_LIMIT, type SfRecord, stageUpdate, type WritePaths } from './writes.ts';
import { customFieldMetadata, existingComponents, grantFields, upsertComponents } from './metadata.ts';
import { ourFieldName, salesforceChangeSource, sfFieldName, sObjectOf, userOfCommitUser } from './names.ts';
import { userKindsOf, userKindsQuery, userQueryAnswerSchema } from './users.ts';
import { orgFrameAncestors } from './canvas.ts';
import { assertLoginUrlConfigurable, loginUrlRefusal, orgAddressRefusal, type OrgAddresses } from './org-addresses.ts';
import { userOfToken } from './userinfo.ts';
import type { CommitUserKind } from '../../domain/crm-change-origin.ts';

/** The REST API version every call names (jsforce alone would still send 50.0). */
export const SALESFORCE_API_VERSION = '67.0';
/** sObject Collections: 200 records per write call, 2,000 ids of one type per retrieve call. */
export const WRITE_BATCH_LIMIT = COLLECTIONS_LIMIT;
export const READ_BATCH_LIMIT = 2_000;
/** One `writeBatch` takes as many records as one read: Collections calls side by side, or one Bulk job. */
export const WRITE_LIMIT = READ_BATCH_LIMIT;
/**
 * From this many records one write goes through a Bulk API 2.0 job: a full write, as Salesforce
 * advises Bulk above about 2,000 records. Below it, Collections calls side by side answer sooner
 * than a job an org queues, for about as many calls (see docs/salesforce.md).
 */
export const DEFAULT_BULK_THRESHOLD = 2_000;
/** Collections calls in flight at once for one write: Salesforce limits only long-running requests (25). */
export const DEFAULT_COLLECTIONS_CONCURRENCY = 5;

export interface SalesforceCrmOptions {
  /** The org's My Domain URL (or the sandbox's): the token endpoint lives there. */
  loginUrl: string;
  auth: SalesforceAuth;
  /**
   * Where the org may be reached: the login URL, and the instance URL its token endpoint answers,
   * must be on Salesforce's domains or in the operator's allowed networks (`org-addresses.ts`).
   */
  addresses: OrgAddresses;
  /** The access token persisted last, reused until Salesforce refuses it (or its instance URL may no longer be reached). */
  session?: SalesforceSession | undefined;
  /** Called with each new access token, to persist it sealed. */
  onSession?: (session: SalesforceSession) => void;
  /** Our `Sforce-Call-Options` client id: change events name it in `changeOrigin`. */
  callClient?: string;
  apiVersion?: string;
  /** Share (0..1) of the org's daily API allocation this app may spend; default 0.5. */
  apiShare?: number;
  onBudgetStop?: ApiBudget['onStop'];
  /**
   * Told, once in the adapter's life (it lives as long as its credentials), that the token endpoint
   * refused them when a token was minted or refreshed for a call: the OAuth error (`invalid_grant`…).
   * From then on every call fails at once with that refusal, nothing sent.
   */
  onAuthRefused?: (reason: string) => void;
  /** How long describe results stay cached per object; default 10 minutes. */
  describeCacheMs?: number;
  /** From this many records in one write, a Bulk API 2.0 job; default `DEFAULT_BULK_THRESHOLD`. */
  bulkThreshold?: number;
  /** Collections calls in flight at once for one write; default `DEFAULT_COLLECTIONS_CONCURRENCY`. */
  collectionsConcurrency?: number;
  /** How often a Bulk job's state is asked (default 1 s), and how long it is waited for (default 10 minutes). */
  bulkPollIntervalMs?: number;
  bulkPollTimeoutMs?: number;
  now?: () => Date;
}

export interface SalesforceCrm extends CrmPort {
  readonly vendor: 'salesforce';
  readonly callClient: string;
  /** The API calls the org reported used and its daily allocation, from the last answer's `Sforce-Limit-Info`. */
  apiUsage(): { used: number; limit: number } | undefined;
  /** What kind of user each id is (an Agentforce agent user, the automated process, an integration, a person): a SOQL query on User per 200 ids. */
  commitUserKinds(userIds: readonly string[]): Promise<Map<string, CommitUserKind>>;
}

/** The Salesforce adapter behind a port, for what only it answers (the change-stream follower's user kinds). */
export function asSalesforceCrm(crm: CrmPort): SalesforceCrm | undefined {
  return crm.vendor === 'salesforce' && 'commitUserKinds' in crm ? (crm as SalesforceCrm) : undefined;
}

export const DEFAULT_CALL_CLIENT = 'AgentGovernance';
/** The approval object bootstrap creates (issue 20). */
export const APPROVAL_OBJECT = 'Agent_Approval__c';

type WriteBatch = CrmPort['writeBatch'];

interface DescribedField {
  name: string;
  label: string;
  type: string;
  updateable: boolean;
  /** Text fields' most characters; 0 for the others. */
  length: number;
  picklistValues?: { value: string; label: string; active?: boolean }[];
}

/** Field types whose describe `length` bounds the value (a longer one is refused: STRING_TOO_LONG). */
const TEXT_TYPES = new Set(['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'multipicklist', 'combobox']);

/** The CrmPort over Salesforce's REST API through jsforce: sObject Collections for reads and writes, field history by SOQL. */
export function createSalesforceCrm(options: SalesforceCrmOptions): SalesforceCrm {
  const now = options.now ?? (() => new Date());
  const callClient = options.callClient ?? DEFAULT_CALL_CLIENT;
  // Opened with the first call, when jsforce is loaded (see auth.ts).
  let opening: Promise<Connection> | undefined;
  let opened: Connection | undefined;
  // A token stored while its instance URL could be reached is not used once it cannot: a new one is minted, and checked.
  const storedSession =
    options.session && !orgAddressRefusal(options.session.instanceUrl, options.addresses) ? options.session : undefined;
  const mint = () => mintSession(options.loginUrl, options.auth, now(), options.addresses);
  async function connectionOf(): Promise<Connection> {
    opening ??= openConnection({
      loginUrl: options.loginUrl,
      auth: options.auth,
      addresses: options.addresses,
      apiVersion: options.apiVersion ?? SALESFORCE_API_VERSION,
      callClient,
      session: storedSession,
      onSession: (session) => options.onSession?.(session),
      onRefreshFailure: (error) => {
        refreshFailure = error;
        noteRefusal(error);
      },
      now,
    });
    opened = await opening;
    return opened;
  }
  const budget: ApiBudget = { share: options.apiShare ?? 0.5, onStop: options.onBudgetStop };
  let integrationUserId: string | undefined;
  let refreshFailure: unknown;
  /** The token endpoint's refusal of these credentials, once it refused them: every later call fails with it unsent. */
  let refused: AppError | undefined;
  const noteRefusal = (error: unknown) => {
    if (refused || !(error instanceof AppError) || error.code !== 'CRM_AUTH_FAILED') return;
    const details = error.details as { revoked?: boolean; oauthError?: string } | undefined;
    if (!details?.revoked) return;
    refused = error;
    options.onAuthRefused?.(details.oauthError ?? 'refused');
  };

  /**
   * The first call of a connection without a stored token mints one. Once the org refused our
   * credentials nothing is asked of it again: the jobs would otherwise sign in at each retry for
   * ever; new credentials make a new adapter.
   */
  async function ready(): Promise<Connection> {
    if (refused) throw refused;
    // A stored token too: a login URL the operator no longer allows stops the connection, reported as a refusal.
    const unreachable = loginUrlRefusal(options.loginUrl, options.addresses);
    if (unreachable) {
      noteRefusal(unreachable);
      throw unreachable;
    }
    const connection = await connectionOf();
    if (!connection.accessToken) {
      const session = await mint().catch((error: unknown) => {
        noteRefusal(error);
        throw error;
      });
      integrationUserId = session.userId;
      connection.accessToken = session.accessToken;
      connection.instanceUrl = session.instanceUrl;
      options.onSession?.({ accessToken: session.accessToken, instanceUrl: session.instanceUrl });
    }
    return connection;
  }

  const call = async <T>(what: string, request: (conn: Connection) => Promise<T>): Promise<T> => {
    const conn = await ready();
    try {
      return await sfCall(conn, budget, what, () => request(conn));
    } catch (error) {
      const cause = refreshFailure;
      refreshFailure = undefined;
      throw cause ?? error;
    }
  };

  const writePaths: WritePaths = {
    bulkThreshold: options.bulkThreshold ?? DEFAULT_BULK_THRESHOLD,
    collectionsConcurrency: options.collectionsConcurrency ?? DEFAULT_COLLECTIONS_CONCURRENCY,
    pollIntervalMs: options.bulkPollIntervalMs ?? 1_000,
    pollTimeoutMs: options.bulkPollTimeoutMs ?? 10 * 60_000,
  };

  const describeCache = new Map<string, { at: number; fields: Map<string, DescribedField> }>();
  async function describe(objectType: ObjectType, fresh = false): Promise<Map<string, DescribedField>> {
    const sObject = sObjectOf(objectType);
    const cached = describeCache.get(sObject);
    if (!fresh && cached && now().getTime() - cached.at < (options.describeCacheMs ?? 10 * 60_000))
      return cached.fields;
    const answer = await call(`describe ${sObject}`, (conn) =>
      conn.request<{ fields: DescribedField[] }>(`/sobjects/${sObject}/describe`),
    );
    const fields = new Map(answer.fields.map((field) => [field.name, field]));
    describeCache.set(sObject, { at: now().getTime(), fields });
    return fields;
  }

  /** A write's records typed by describe; from the Bulk threshold, a Bulk job opened and uploaded. */
  async function stageWrite({ objectType, writes }: Parameters<WriteBatch>[0]): Promise<StagedCrmWrite> {
    assertSize(writes.length, WRITE_LIMIT, 'write');
    if (writes.length === 0) return { commit: async () => [], abort: async () => {} };
    const sObject = sObjectOf(objectType);
    const fields = await describe(objectType);
    const records = writes.map((write) => {
      const record: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(write.properties)) {
        const field = sfFieldName(name);
        record[field] = theirValue(fields.get(field)?.type, value);
      }
      // Set last: Salesforce takes a record's Id as which record to update, so a property named Id
      // (a policy may name the field) would send the write to a record no one governed.
      return { ...record, Id: write.recordId } satisfies SfRecord;
    });
    return stageUpdate(call, sObject, records, writePaths);
  }

  return {
    vendor: 'salesforce',
    batchLimit: WRITE_BATCH_LIMIT,
    readBatchLimit: READ_BATCH_LIMIT,
    writeLimit: WRITE_LIMIT,
    ownerProperty: 'OwnerId',
    objectTypes: SALESFORCE_OBJECT_TYPES,
    contactObjectType: 'salesforce:Contact',
    checksPolicyFieldsAtPublish: true,
    contactFields: { optOut: 'HasOptedOutOfEmail', emails: ['Email'] },
    draftTextLimits: SALESFORCE_DRAFT_TEXT_LIMITS,
    callClient,
    changeSourceOf: salesforceChangeSource,
    userOfSource: userOfCommitUser,
    apiUsage: () => opened?.limitInfo.apiUsage,
    assertConfigurable: () => assertLoginUrlConfigurable(options.loginUrl, options.addresses),
    forObject() {
      return this;
    },

    // The org's address is the instance URL Salesforce gave our own sign-in, never a request's.
    embeddedApp: {
      origins: async () => orgFrameAncestors((await ready()).instanceUrl),
      async userOfToken(token) {
        const { userId, orgId } = await userOfToken((await ready()).instanceUrl, token);
        return { crmUserId: userId, accountId: orgId };
      },
    },

    async commitUserKinds(userIds) {
      const kinds = new Map<string, CommitUserKind>();
      for (let start = 0; start < userIds.length; start += WRITE_BATCH_LIMIT) {
        const ids = userIds.slice(start, start + WRITE_BATCH_LIMIT);
        const soql = userKindsQuery(ids);
        const answer =
          soql === null
            ? { records: [] }
            : userQueryAnswerSchema.parse(
                await call(`read what ${ids.length} users are`, (conn) =>
                  conn.request(`/query?q=${encodeURIComponent(soql)}`),
                ),
              );
        for (const [id, kind] of userKindsOf(ids, answer.records)) kinds.set(id, kind);
      }
      return kinds;
    },

    async readAccount() {
      // Minting a token is the cheapest proof the credentials work, and it names the org.
      const session = await mint();
      integrationUserId = session.userId;
      const connection = await connectionOf();
      connection.accessToken = session.accessToken;
      connection.instanceUrl = session.instanceUrl;
      options.onSession?.({ accessToken: session.accessToken, instanceUrl: session.instanceUrl });
      return { accountId: session.orgId };
    },

    async describeProperties(objectType, options) {
      const definitions = new Map<string, CrmPropertyDefinition>();
      for (const field of (await describe(objectType, options?.fresh)).values()) {
        definitions.set(ourFieldName(field.name), {
          name: ourFieldName(field.name),
          label: field.label,
          type: propertyType(field.type),
          fieldType: field.type,
          ...(field.updateable ? {} : { readOnly: true }),
          ...(TEXT_TYPES.has(field.type) && field.length > 0 ? { maxLength: field.length } : {}),
          ...(field.type === 'reference' ? { recordIdPattern: SALESFORCE_RECORD_ID_PATTERN } : {}),
          ...(field.picklistValues?.length
            ? { options: field.picklistValues.map((option) => ({ label: option.label, value: option.value })) }
            : {}),
        });
      }
      return definitions;
    },

    async readBatch({ objectType, recordIds, properties }) {
      assertSize(recordIds.length, READ_BATCH_LIMIT, 'read');
      const found = new Map<string, CrmRecordValues>();
      if (recordIds.length === 0) return found;
      const sObject = sObjectOf(objectType);
      const fields = [...new Set(['Id', ...properties.map(sfFieldName)])];
      const answer = await call(`read ${recordIds.length} ${sObject}`, (conn) =>
        conn.requestPost<(Record<string, unknown> | null)[]>(`/composite/sobjects/${sObject}`, {
          ids: recordIds,
          fields,
        }),
      );
      const asked = new Set(recordIds);
      for (const record of answer) {
        if (record === null) continue; // an id the org does not have, or the user cannot see
        const values: CrmRecordValues = {};
        for (const name of properties) values[name] = ourValue(record[sfFieldName(name)]);
        found.set(askedForm(String(record['Id']), asked), values);
      }
      return found;
    },

    stageWrite,
    async writeBatch(input) {
      return (await stageWrite(input)).commit();
    },

    async readPropertyHistory({ objectType, recordIds, properties }) {
      const sObject = sObjectOf(objectType);
      const history = historyObject(sObject);
      const histories = new Map<string, Record<string, CrmValueChange[]>>();
      if (recordIds.length === 0) return histories;
      const wanted = new Map(properties.map((name) => [sfFieldName(name), name]));
      const soql = `SELECT ${history.parent}, Field, OldValue, NewValue, CreatedById, CreatedDate FROM ${history.name} WHERE ${history.parent} IN (${recordIds.map((id) => `'${id}'`).join(',')}) ORDER BY CreatedDate DESC`;
      const answer = await call(`read the field history of ${recordIds.length} ${sObject}`, (conn) =>
        conn.request<{ records: Record<string, unknown>[] }>(`/query?q=${encodeURIComponent(soql)}`),
      );
      for (const row of answer.records) {
        const property = wanted.get(String(row['Field']));
        if (property === undefined) continue;
        const recordId = String(row[history.parent]);
        const userId = String(row['CreatedById']);
        const entry = histories.get(recordId) ?? {};
        const changes = entry[property] ?? [];
        entry[property] = changes;
        changes.push({
          value: ourValue(row['NewValue']),
          at: new Date(String(row['CreatedDate']).replace(/\+0000$/, 'Z')),
          // History keeps the user, not the API client: the integration user's changes are ours.
          source: userId === integrationUserId ? 'our_app' : 'person',
          sourceId: userId,
          userId: userId === integrationUserId ? null : userId,
        });
        histories.set(recordId, entry);
      }
      return histories;
    },

    async readLatestChanges(input) {
      const latest = new Map<string, Record<string, CrmValueChange>>();
      for (const [recordId, byProperty] of await this.readPropertyHistory!(input)) {
        const newest: Record<string, CrmValueChange> = {};
        for (const [property, changes] of Object.entries(byProperty)) if (changes[0]) newest[property] = changes[0];
        latest.set(recordId, newest);
      }
      return latest;
    },

    // On Salesforce a record's OwnerId is the owning user's id.
    async findOwnerIdOfUser(userId) {
      return userId;
    },
    // Salesforce has no HubSpot-like teams; roles are given per person.
    async findTeamIdsOfUser() {
      return [];
    },
    async listTeams() {
      return [];
    },
    // Through the Metadata API: custom fields 10 a call, then our permission set grants them to the API user.
    async ensureProperties({ objectType, properties }) {
      const sObject = sObjectOf(objectType);
      const byFullName = new Map(
        properties.map((definition) => [`${sObject}.${sfFieldName(definition.name)}`, definition]),
      );
      const fullNames = [...byFullName.keys()];
      const existing = await call(`read ${sObject}'s custom fields`, (conn) =>
        existingComponents(conn, 'CustomField', fullNames),
      );
      const missing = fullNames.filter((name) => !existing.has(name));
      await call(`create ${missing.length} fields on ${sObject}`, async (conn) => {
        await upsertComponents(
          conn,
          'CustomField',
          missing.map((fullName) => customFieldMetadata(fullName, byFullName.get(fullName)!)),
        );
        await grantFields(conn, fullNames);
      });
      describeCache.delete(sObject);
      return {
        groupCreated: false,
        created: missing.map((name) => byFullName.get(name)!.name),
        existing: fullNames.filter((name) => existing.has(name)).map((name) => byFullName.get(name)!.name),
      };
    },

    /** `Agent_Approval__c`, its key an external id, with a lookup to each governed object. */
    async ensureCustomObject(schema) {
      const objectName = APPROVAL_OBJECT;
      const [key] = schema.properties;
      const fields = [
        ...schema.properties.map((definition) => ({
          ...customFieldMetadata(sfFieldName(definition.name), definition),
          ...(definition === key ? { externalId: true, unique: true } : {}),
        })),
        ...schema.associatedObjects.map((objectType) => {
          const target = sObjectOf(objectType);
          return {
            fullName: `${target}__c`,
            label: target,
            type: 'Lookup',
            referenceTo: target,
            relationshipName: `Agent_Approvals_${target}`,
            deleteConstraint: 'SetNull',
          };
        }),
      ];
      const created = await call(`create ${objectName}`, async (conn) => {
        const had = await existingComponents(conn, 'CustomObject', [objectName]);
        if (!had.has(objectName))
          await upsertComponents(conn, 'CustomObject', [
            {
              fullName: objectName,
              label: schema.labels.singular,
              pluralLabel: schema.labels.plural,
              nameField: { type: 'AutoNumber', label: 'Approval Number', displayFormat: 'AA-{0000}' },
              deploymentStatus: 'Deployed',
              sharingModel: 'ReadWrite',
              enableHistory: true,
              fields,
            },
          ]);
        await grantFields(
          conn,
          fields.map((field) => `${objectName}.${field.fullName}`),
        );
        return !had.has(objectName);
      });
      return { objectTypeId: objectName, created };
    },
    // sObject Collections upsert keyed by the external-id field: a repeated call never makes a second record.
    async upsertCustomRecords({ objectTypeId, keyProperty, records }) {
      assertSize(records.length, WRITE_BATCH_LIMIT, 'upsert');
      if (records.length === 0) return [];
      const keyField = sfFieldName(keyProperty);
      const body = {
        allOrNone: false,
        records: records.map((record) => {
          const fields: Record<string, unknown> = { attributes: { type: objectTypeId }, [keyField]: record.key };
          for (const [name, value] of Object.entries(record.properties))
            fields[sfFieldName(name)] = value === '' ? null : value;
          return fields;
        }),
      };
      const answer = await call(`upsert ${records.length} ${objectTypeId}`, (conn) =>
        conn.request<
          { id: string; success: boolean; created: boolean; errors: { statusCode: string; message: string }[] }[]
        >({
          method: 'PATCH',
          url: `/composite/sobjects/${objectTypeId}/${keyField}`,
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        }),
      );
      return records.map((record, index) => {
        const result = answer[index];
        if (!result?.success)
          throw new AppError(
            'CRM_REJECTED',
            `Salesforce refused ${objectTypeId} ${record.key}: ${result?.errors.map((e) => `${e.statusCode}: ${e.message}`).join('; ') ?? 'no outcome'}`,
          );
        return { key: record.key, id: result.id, created: result.created };
      });
    },

    // An approval record points at its record through the lookup field named after the record's object.
    async associate({ fromObjectType, toObjectType, pairs }) {
      assertSize(pairs.length, WRITE_BATCH_LIMIT, 'link');
      if (pairs.length === 0) return;
      const lookup = `${sObjectOf(toObjectType)}__c`;
      const records = pairs.map((pair) => ({
        attributes: { type: fromObjectType },
        id: pair.fromId,
        [lookup]: pair.toId,
      }));
      const answer = await call(`link ${pairs.length} ${fromObjectType}`, (conn) =>
        conn.request<{ success: boolean; errors: { statusCode: string; message: string }[] }[]>({
          method: 'PATCH',
          url: '/composite/sobjects',
          body: JSON.stringify({ allOrNone: false, records }),
          headers: { 'content-type': 'application/json' },
        }),
      );
      const refused = answer.find((result) => !result.success);
      if (refused)
        throw new AppError(
          'CRM_REJECTED',
          `Salesforce refused to link ${fromObjectType}: ${refused.errors.map((e) => e.message).join('; ')}`,
        );
    },
    ...activityMethods(call),
  };
}

function assertSize(size: number, limit: number, what: string): void {
  if (size > limit)
    throw new AppError('VALIDATION_FAILED', `Salesforce takes at most ${limit} records per ${what} call; got ${size}.`);
}

/**
 * Salesforce answers with 18-character ids; each answer is given back in the form the caller
 * asked with, looked up by the id or its first 15 characters (a set: 2,000 answers searched
 * through 2,000 asked ids one by one cost 4 million comparisons a read).
 */
function askedForm(id: string, asked: ReadonlySet<string>): string {
  if (asked.has(id)) return id;
  const short = id.slice(0, 15);
  return asked.has(short) ? short : id;
}

function historyObject(sObject: string): { name: string; parent: string } {
  // Opportunity's per-field log is OpportunityFieldHistory; OpportunityHistory is the stage snapshot table.
  if (sObject === 'Opportunity') return { name: 'OpportunityFieldHistory', parent: 'OpportunityId' };
  if (sObject.endsWith('__c')) return { name: sObject.replace(/__c$/, '__History'), parent: 'ParentId' };
  return { name: `${sObject}History`, parent: `${sObject}Id` };
}

function propertyType(type: string): CrmPropertyType {
  if (type === 'boolean') return 'bool';
  if (type === 'currency' || type === 'double' || type === 'percent' || type === 'int') return 'number';
  if (type === 'picklist' || type === 'multipicklist') return 'enumeration';
  if (type === 'date') return 'date';
  if (type === 'datetime') return 'datetime';
  return 'string';
}

/** Our values are strings: booleans and numbers as their text, absent as null. */
function ourValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value);
}

/** Salesforce's JSON for our string: typed by the field, an empty string clears it. */
function theirValue(type: string | undefined, value: string): unknown {
  if (value === '') return null;
  if (type === 'boolean') return value === 'true';
  if (type === 'currency' || type === 'double' || type === 'percent' || type === 'int') {
    const number = Number(value);
    return Number.isFinite(number) ? number : value;
  }
  return value;
}
