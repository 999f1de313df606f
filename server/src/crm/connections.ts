import { CRM_DISPLAY_NAMES, type CrmVendor, crmOfObjectType, type ObjectType } from '../../../shared/crm-names.ts';
import { AppError } from '../errors.ts';
import { type CrmAssociations, type CrmPort, stagedWrite } from './port.ts';

/** A HubSpot user id is digits; a Salesforce one starts 005. */
function crmOfUserId(userId: string): CrmVendor {
  return /^[0-9]+$/.test(userId) ? 'hubspot' : 'salesforce';
}

const notConnected = (objectType: string) =>
  `${objectType} is an object of a CRM this workspace is not connected to (workspace connect adds it)`;

/**
 * Refuses a request (`what`: "The change set") on an object of a CRM the workspace is not connected
 * to, before anything is stored or sent: a workspace of one CRM would send the other's object type
 * to its own CRM, which refuses it (a 502 the agent cannot act on) or, for a read, answers nothing.
 */
export function refuseUnconnectedObjectType(crm: CrmPort, objectType: string, what: string): void {
  if (crm.objectTypes.some((connected) => connected === objectType)) return;
  const message = notConnected(objectType);
  throw new AppError('VALIDATION_FAILED', `${what} is invalid: objectType ${message}.`, {
    details: { issues: [{ path: 'objectType', message }] },
  });
}

/**
 * One port over a workspace's connections (issue 20), the first being the workspace's own CRM:
 * each call naming an object type goes to that type's CRM (`contacts` to the portal,
 * `salesforce:Contact` to the org), a call naming a CRM user to the CRM whose ids it has. What
 * names neither (lists, change sources) is the first connection's, but teams are listed from each;
 * per-CRM settings (a draft's contact fields), and each CRM's approval object, are reached through
 * `forObject`. The batch limits are the smallest, so a caller that chunks without an object type
 * stays within each CRM.
 */
export function routedCrm(connections: readonly [CrmPort, ...CrmPort[]]): CrmPort {
  const [first] = connections;
  if (connections.length === 1) return first;
  const byCrm = new Map(connections.map((crm) => [crm.vendor, crm]));
  const of = (objectType: string): CrmPort => {
    const crm = byCrm.get(crmOfObjectType(objectType));
    if (!crm) throw new AppError('VALIDATION_FAILED', `${notConnected(objectType)}.`);
    return crm;
  };
  const ofUser = (userId: string): CrmPort => byCrm.get(crmOfUserId(userId)) ?? first;
  const smallest = (limit: (crm: CrmPort) => number) => Math.min(...connections.map(limit));
  /** A capability the object's CRM lacks is refused, naming that CRM, as a workspace of it alone refuses it. */
  const lacking = (crm: CrmPort, what: string) =>
    new AppError('CRM_REJECTED', `${what} is not built for ${CRM_DISPLAY_NAMES[crm.vendor]}.`);
  const associationsOf = (objectType: ObjectType): CrmAssociations => {
    const crm = of(objectType);
    if (!crm.associations) throw lacking(crm, 'Governed associations');
    return crm.associations;
  };

  // Only the org's connection embeds the console, and a workspace connects one org at most.
  const embeddedApp = connections.find((crm) => crm.embeddedApp)?.embeddedApp;

  const routed: CrmPort = {
    vendor: first.vendor,
    batchLimit: smallest((crm) => crm.batchLimit),
    readBatchLimit: smallest((crm) => crm.readBatchLimit ?? crm.batchLimit),
    writeLimit: smallest((crm) => crm.writeLimit ?? crm.batchLimit),
    ownerProperty: first.ownerProperty,
    objectTypes: connections.flatMap((crm) => crm.objectTypes),
    contactObjectType: first.contactObjectType,
    checksPolicyFieldsAtPublish: first.checksPolicyFieldsAtPublish,
    contactFields: first.contactFields,
    forObject: (objectType) => of(objectType).forObject(objectType),
    changeSourceOf: (change) => first.changeSourceOf(change),
    userOfSource: (sourceId) => first.userOfSource(sourceId),
    readAccount: () => first.readAccount(),
    describeProperties: (objectType, options) => of(objectType).describeProperties(objectType, options),
    readBatch: (input) => of(input.objectType).readBatch(input),
    writeBatch: (input) => of(input.objectType).writeBatch(input),
    stageWrite: (input) => stagedWrite(of(input.objectType), input),
    async readLatestChanges(input) {
      const crm = of(input.objectType);
      // Rollback explains conflicts with it where the CRM keeps history, as on a workspace of that CRM alone.
      return crm.readLatestChanges ? crm.readLatestChanges(input) : new Map();
    },
    async readPropertyHistory(input) {
      const crm = of(input.objectType);
      if (!crm.readPropertyHistory) throw lacking(crm, 'Reading property history');
      return crm.readPropertyHistory(input);
    },
    async createBatch(input) {
      const crm = of(input.objectType);
      if (!crm.createBatch) throw lacking(crm, 'Creating records');
      return crm.createBatch(input);
    },
    async findByProperty(input) {
      const crm = of(input.objectType);
      if (!crm.findByProperty) throw lacking(crm, 'Finding records by a property');
      return crm.findByProperty(input);
    },
    async archiveBatch(input) {
      const crm = of(input.objectType);
      if (!crm.archiveBatch) throw lacking(crm, 'Archiving records');
      return crm.archiveBatch(input);
    },
    ...(first.findContactsLike ? { findContactsLike: first.findContactsLike.bind(first) } : {}),
    ...(first.listMembers ? { listMembers: first.listMembers.bind(first) } : {}),
    ...(connections.some((crm) => crm.associations)
      ? {
          associations: {
            read: (input) => associationsOf(input.fromObjectType).read(input),
            associate: (input) => associationsOf(input.fromObjectType).associate(input),
            dissociate: (input) => associationsOf(input.fromObjectType).dissociate(input),
          } satisfies CrmAssociations,
        }
      : {}),
    ...(embeddedApp ? { embeddedApp } : {}),
    ensureProperties: (input) => of(input.objectType).ensureProperties(input),
    ensureCustomObject: (schema) => first.ensureCustomObject(schema),
    upsertCustomRecords: (input) => first.upsertCustomRecords(input),
    findOwnerIdOfUser: (userId) => ofUser(userId).findOwnerIdOfUser(userId),
    findTeamIdsOfUser: (userId) => ofUser(userId).findTeamIdsOfUser(userId),
    // Each CRM's teams, the first's first: a team id is digits in HubSpot, so none collides with a Salesforce one.
    listTeams: async () => (await Promise.all(connections.map((crm) => crm.listTeams()))).flat(),
    associate: (input) => of(input.toObjectType).associate(input),
    createNote: (input) => of(input.objectType).createNote(input),
    createTask: (input) => of(input.objectType).createTask(input),
  };
  return routed;
}
