import { createVerify, randomBytes, randomUUID } from 'node:crypto';
import { salesforceIdChecksum } from '../../../../shared/crm-names.ts';
import { RecordChanges } from './record-changes.ts';
import { parseJson } from '../../../../shared/json-text.ts';

/** A field as describe returns it; `custom` ones are visible only once a permission set grants them. */
export interface SandboxField {
  name: string;
  label: string;
  type:
    | 'id'
    | 'string'
    | 'email'
    | 'boolean'
    | 'picklist'
    | 'currency'
    | 'date'
    | 'datetime'
    | 'reference'
    | 'textarea'
    | 'base64';
  updateable: boolean;
  custom: boolean;
  length?: number;
  /** A lookup's objects (the first three characters of an id name its object). */
  referenceTo?: string[];
  /** Required on create (REQUIRED_FIELD_MISSING without it). */
  required?: boolean;
  picklistValues?: { value: string; label: string; active: boolean }[];
}

export interface SandboxObject {
  name: string;
  keyPrefix: string;
  fields: Map<string, SandboxField>;
  records: Map<string, Record<string, string | null>>;
  /** Field history, oldest first, as `<Object>History` rows. */
  history: {
    recordId: string;
    field: string;
    oldValue: string | null;
    newValue: string | null;
    at: Date;
    userId: string;
    origin: string;
  }[];
}

/** A Bulk API 2.0 ingest job: its uploaded CSV, then each row's outcome once the upload is complete. */
export interface SandboxBulkJob {
  id: string;
  object: string;
  operation: string;
  state: 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed';
  /** Why a job failed as a whole (state `Failed`). */
  errorMessage?: string;
  createdById: string;
  createdDate: Date;
  csv: string;
  /** Header and rows of the upload, each row with its outcome (`error` empty on success); unprocessed rows have none. */
  header: string[];
  rows: { values: string[]; outcome?: { id: string; error: string } }[];
}

export interface SandboxClient {
  clientId: string;
  clientSecret: string;
  /** PEM public key of the certificate the JWT bearer flow is signed with. */
  publicKeyPem?: string;
  /** The user the app runs as (client credentials) or the one a JWT's `sub` must name. */
  runAsUserId: string;
  username: string;
  revoked: boolean;
}

export interface SandboxUser {
  id: string;
  username: string;
  name: string;
  userType: string;
  profile: string | null;
}

export interface SalesforceSandboxState {
  orgId: string;
  objects: Map<string, SandboxObject>;
  /** The org's users with what the `User` query answers: `UserType` and the profile's name (null: none). */
  users: Map<string, SandboxUser>;
  clients: Map<string, SandboxClient>;
  sessions: Map<string, { userId: string; clientId: string; expiresAt: number }>;
  /** Fields the integration user may see and edit: `Object.Field`, granted by a permission set's field permissions. */
  grantedFields: Set<string>;
  permissionSets: Map<string, { name: string; fieldPermissions: string[] }>;
  api: { used: number; limit: number };
  /**
   * Set by the control routes: each request waits this long; per-record refusals by id; a Bulk
   * API 2.0 job processes at most `bulkProcessLimit` records and leaves the rest unprocessed.
   */
  faults: {
    latencyMs: number;
    rejectRecords: Map<string, { statusCode: string; message: string }>;
    bulkProcessLimit: number | null;
    /** The identity service (`/services/oauth2/userinfo`) answers 503, as when Salesforce's is down. */
    identityDown: boolean;
    /** In the process only: a request this answers a promise for waits until it settles (tests order a call against other work). */
    hold: ((request: { method: string; path: string }) => Promise<void> | undefined) | null;
    /** In the process only: a closed Bulk job this answers a promise for is processed once it settles (tests look at a job not yet processed). */
    holdBulkJob: ((jobId: string) => Promise<void> | undefined) | null;
  };
  /** Bulk API 2.0 ingest jobs by id. */
  bulkJobs: Map<string, SandboxBulkJob>;
  calls: { method: string; path: string; callOptions: string | null }[];
  changes: RecordChanges;
  now: () => Date;
  sessionTtlMs: number;
}

const standard = (name: string, label: string, type: SandboxField['type'], updateable = true): SandboxField => ({
  name,
  label,
  type,
  updateable,
  custom: false,
});

const reference = (name: string, label: string, referenceTo: string[], more: Partial<SandboxField> = {}) => ({
  ...standard(name, label, 'reference'),
  referenceTo,
  ...more,
});
const text = (
  name: string,
  label: string,
  type: 'string' | 'textarea',
  length: number,
  more: Partial<SandboxField> = {},
) => ({
  ...standard(name, label, type),
  length,
  ...more,
});

function object(name: string, keyPrefix: string, fields: SandboxField[]): SandboxObject {
  return {
    name,
    keyPrefix,
    fields: new Map([standard('Id', `${name} ID`, 'id', false), ...fields].map((f) => [f.name, f])),
    records: new Map(),
    history: [],
  };
}

/** The user an External Client App runs as unless another is named. */
export const INTEGRATION_USERNAME = 'integration@sandbox.example';
/** The user the org's Agentforce service agent runs as, and the one its flows run as (issue 20). */
export const AGENTFORCE_USER_ID = newId('005', 3);
export const AUTOMATED_PROCESS_USER_ID = newId('005', 4);

/**
 * A fresh org: Contact, Lead and Opportunity with their common fields, no records; an admin (a
 * person, the first user), the integration user, an Agentforce agent user and the automated process.
 */
export function createSalesforceSandboxState(
  options: { now?: () => Date; apiLimit?: number } = {},
): SalesforceSandboxState {
  const adminId = newId('005', 1);
  const integrationId = newId('005', 2);
  const owner = standard('OwnerId', 'Owner ID', 'reference');
  const optOut = standard('HasOptedOutOfEmail', 'Email Opt Out', 'boolean');
  const objects = [
    object('Contact', '003', [
      standard('FirstName', 'First Name', 'string'),
      standard('LastName', 'Last Name', 'string'),
      standard('Email', 'Email', 'email'),
      standard('Title', 'Title', 'string'),
      standard('Phone', 'Business Phone', 'string'),
      standard('Department', 'Department', 'string'),
      standard('LeadSource', 'Lead Source', 'picklist'),
      text('Description', 'Description', 'textarea', 32_000),
      optOut,
      owner,
    ]),
    object('Lead', '00Q', [
      standard('FirstName', 'First Name', 'string'),
      standard('LastName', 'Last Name', 'string'),
      standard('Company', 'Company', 'string'),
      standard('Email', 'Email', 'email'),
      standard('Title', 'Title', 'string'),
      standard('Status', 'Status', 'picklist'),
      standard('Rating', 'Rating', 'picklist'),
      optOut,
      owner,
    ]),
    object('Opportunity', '006', [
      standard('Name', 'Name', 'string'),
      standard('StageName', 'Stage', 'picklist'),
      standard('Amount', 'Amount', 'currency'),
      standard('CloseDate', 'Close Date', 'date'),
      standard('NextStep', 'Next Step', 'string'),
      owner,
    ]),
    // Drafts' tasks and notes (issue 20): activities on a contact or lead (WhoId) or another record (WhatId).
    object('Task', '00T', [
      reference('WhoId', 'Name ID', ['Contact', 'Lead']),
      reference('WhatId', 'Related To ID', ['Opportunity']),
      text('Subject', 'Subject', 'string', 255),
      standard('ActivityDate', 'Due Date Only', 'date'),
      standard('Status', 'Status', 'picklist'),
      standard('Priority', 'Priority', 'picklist'),
      text('Description', 'Description', 'textarea', 32_000),
      owner,
    ]),
    // Drafts' notes (issue 20): enhanced notes, linked to their record by a ContentDocumentLink.
    // A note's id is its ContentDocument's (069), the id a link names.
    object('ContentNote', '069', [
      text('Title', 'Title', 'string', 255, { required: true }),
      standard('Content', 'Content', 'base64'),
    ]),
    object('ContentDocumentLink', '06A', [
      reference('ContentDocumentId', 'Content Document ID', ['ContentNote'], { updateable: false, required: true }),
      reference('LinkedEntityId', 'Linked Entity ID', ['Contact', 'Lead', 'Opportunity'], {
        updateable: false,
        required: true,
      }),
      standard('ShareType', 'Share Type', 'picklist'),
      standard('Visibility', 'Visibility', 'picklist'),
    ]),
  ];
  return {
    orgId: newId('00D', 1),
    objects: new Map(objects.map((o) => [o.name, o])),
    users: new Map(
      [
        {
          id: adminId,
          username: 'admin@sandbox.example',
          name: 'Sandbox Admin',
          userType: 'Standard',
          profile: 'System Administrator',
        },
        {
          id: integrationId,
          username: INTEGRATION_USERNAME,
          name: 'Agent Governance Integration',
          userType: 'Standard',
          profile: 'Salesforce API Only System Integrations',
        },
        {
          id: AGENTFORCE_USER_ID,
          username: 'agentforce@sandbox.example',
          name: 'EinsteinServiceAgent User',
          userType: 'Standard',
          profile: 'Einstein Agent User',
        },
        {
          id: AUTOMATED_PROCESS_USER_ID,
          username: 'autoproc@sandbox.example',
          name: 'Automated Process',
          userType: 'AutomatedProcess',
          profile: null,
        },
      ].map((user) => [user.id, user]),
    ),
    clients: new Map(),
    sessions: new Map(),
    grantedFields: new Set(),
    permissionSets: new Map(),
    api: { used: 0, limit: options.apiLimit ?? 15_000 },
    faults: {
      latencyMs: 0,
      rejectRecords: new Map(),
      bulkProcessLimit: null,
      identityDown: false,
      hold: null,
      holdBulkJob: null,
    },
    bulkJobs: new Map(),
    calls: [],
    changes: new RecordChanges(),
    now: options.now ?? (() => new Date()),
    sessionTtlMs: 2 * 60 * 60_000,
  };
}

/** An 18-character id of `prefix`, numbered: deterministic so tests and the seed name the same records. */
export function newId(prefix: string, n: number): string {
  const id15 = `${prefix}${'0'.repeat(12 - String(n).length)}${n}`.slice(0, 15).padEnd(15, '0');
  return id15 + salesforceIdChecksum(id15);
}

export function addClient(
  state: SalesforceSandboxState,
  client: Omit<SandboxClient, 'revoked' | 'runAsUserId' | 'username'> & { username?: string },
): SandboxClient {
  const username = client.username ?? INTEGRATION_USERNAME;
  const user = [...state.users.values()].find((u) => u.username === username);
  if (!user) throw new Error(`the sandbox org has no user ${username}`);
  const stored = { ...client, revoked: false, runAsUserId: user.id, username: user.username };
  state.clients.set(client.clientId, stored);
  return stored;
}

export function createRecord(
  state: SalesforceSandboxState,
  type: string,
  values: Record<string, string | null>,
  by: { userId: string; origin: string },
): string {
  const id = insertRecord(state, type, values);
  publishCreate(state, type, id, values, by);
  return id;
}

/** Keeps a new record without announcing it: a composite request announces its records once all are made. */
export function insertRecord(
  state: SalesforceSandboxState,
  type: string,
  values: Record<string, string | null>,
): string {
  const target = requireObject(state, type);
  const id = newId(target.keyPrefix, target.records.size + 1);
  target.records.set(id, { ...values });
  return id;
}

export function publishCreate(
  state: SalesforceSandboxState,
  type: string,
  id: string,
  values: Record<string, string | null>,
  by: { userId: string; origin: string },
): void {
  state.changes.publish({
    entityName: type,
    recordIds: [id],
    changeType: 'CREATE',
    changedFields: { ...values },
    changeOrigin: by.origin,
    commitUser: by.userId,
    commitTimestamp: state.now().getTime(),
    transactionKey: randomUUID(),
  });
}

/** Sets fields of one record, keeping field history and announcing the change; returns the fields that changed. */
export function updateRecord(
  state: SalesforceSandboxState,
  type: string,
  id: string,
  values: Record<string, string | null>,
  by: { userId: string; origin: string },
): string[] {
  const target = requireObject(state, type);
  const record = target.records.get(id);
  if (!record) throw new Error(`no ${type} ${id}`);
  const changed: Record<string, string | null> = {};
  const at = state.now();
  for (const [field, value] of Object.entries(values)) {
    const old = record[field] ?? null;
    if (old === value) continue;
    record[field] = value;
    changed[field] = value;
    target.history.push({
      recordId: id,
      field,
      oldValue: old,
      newValue: value,
      at,
      userId: by.userId,
      origin: by.origin,
    });
  }
  const fields = Object.keys(changed);
  if (fields.length > 0)
    state.changes.publish({
      entityName: type,
      recordIds: [id],
      changeType: 'UPDATE',
      changedFields: changed,
      changeOrigin: by.origin,
      commitUser: by.userId,
      commitTimestamp: at.getTime(),
      transactionKey: randomUUID(),
    });
  return fields;
}

export function requireObject(state: SalesforceSandboxState, type: string): SandboxObject {
  const found = state.objects.get(type);
  if (!found) throw new Error(`no sObject ${type}`);
  return found;
}

/** Whether the API user can see a field: standard fields always, custom ones once a permission set grants them. */
export function canSee(state: SalesforceSandboxState, type: string, field: SandboxField): boolean {
  return !field.custom || state.grantedFields.has(`${type}.${field.name}`);
}

export function issueSession(state: SalesforceSandboxState, client: SandboxClient): string {
  const token = `${state.orgId}!${randomBytes(24).toString('base64url')}`;
  state.sessions.set(token, {
    userId: client.runAsUserId,
    clientId: client.clientId,
    expiresAt: state.now().getTime() + state.sessionTtlMs,
  });
  return token;
}

/**
 * A person of the org signed in to an app, as Salesforce hands a Canvas app's signed request the
 * user's own access token: the user is added (a person, `Standard`) if the org lacks them.
 */
export function signInUser(state: SalesforceSandboxState, user: { id: string; clientId: string }): string {
  if (!state.users.has(user.id))
    state.users.set(user.id, {
      id: user.id,
      username: `${user.id.toLowerCase()}@sandbox.example`,
      name: `User ${user.id}`,
      userType: 'Standard',
      profile: 'Standard User',
    });
  const token = `${state.orgId}!${randomBytes(24).toString('base64url')}`;
  state.sessions.set(token, {
    userId: user.id,
    clientId: user.clientId,
    expiresAt: state.now().getTime() + state.sessionTtlMs,
  });
  return token;
}

/** Checks an RS256 JWT bearer assertion: signed by the client's certificate, for its user, not expired. */
export function verifyJwtAssertion(
  state: SalesforceSandboxState,
  assertion: string,
): { ok: true; client: SandboxClient } | { ok: false; error: string; description: string } {
  const [header, payload, signature] = assertion.split('.');
  if (!header || !payload || !signature) return { ok: false, error: 'invalid_grant', description: 'invalid assertion' };
  let claims: { iss?: string; sub?: string; exp?: number };
  try {
    claims = parseJson(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return { ok: false, error: 'invalid_grant', description: 'invalid assertion' };
  }
  const client = claims.iss === undefined ? undefined : state.clients.get(claims.iss);
  if (!client?.publicKeyPem) return { ok: false, error: 'invalid_client_id', description: 'client identifier invalid' };
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${header}.${payload}`);
  if (!verifier.verify(client.publicKeyPem, Buffer.from(signature, 'base64url')))
    return { ok: false, error: 'invalid_grant', description: 'invalid assertion' };
  if (claims.exp === undefined || claims.exp * 1000 < state.now().getTime())
    return { ok: false, error: 'invalid_grant', description: 'expired authorization code' };
  if (claims.sub !== client.username)
    return { ok: false, error: 'invalid_grant', description: "user hasn't approved this consumer" };
  if (client.revoked) return { ok: false, error: 'invalid_grant', description: 'expired access/refresh token' };
  return { ok: true, client };
}
