import { and, asc, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { CrmVendor } from '../../../shared/crm-names.ts';
import { actions } from './action-schema.ts';
import type { Db, Tx } from './database.ts';
import { crmEventStreamPositions, crmEventStreams } from './crm-event-stream-schema.ts';
import {
  approvals,
  changeSets,
  crmConnections,
  recordAssociations,
  recordCreations,
  rollbackItems,
  rollbacks,
  workspaces,
} from './schema.ts';

/** One CRM account a workspace is connected to (issue 20). */
export interface CrmConnection {
  crm: CrmVendor;
  /** A HubSpot portal id, or a Salesforce org id. */
  accountId: string;
  credentialsEnc: string;
  sessionEnc: string | null;
  /** The approval object bootstrap created in this account, or null before it has. */
  approvalObjectTypeId: string | null;
}

export type WorkspaceRow = typeof workspaces.$inferSelect & {
  /** Every CRM account the workspace is connected to, the first (its `crm`) too, oldest first; none once removed. */
  connections: CrmConnection[];
};

/** A workspace's columns and its connections, read in one statement (pg and PGlite both parse json). */
const workspaceWithConnections = {
  ...getTableColumns(workspaces),
  connections: sql<CrmConnection[]>`(
    select coalesce(json_agg(json_build_object(
      'crm', ${crmConnections.crm}, 'accountId', ${crmConnections.accountId},
      'credentialsEnc', ${crmConnections.credentialsEnc}, 'sessionEnc', ${crmConnections.sessionEnc},
      'approvalObjectTypeId', ${crmConnections.approvalObjectTypeId}
    ) order by ${crmConnections.createdAt}), '[]'::json)
    from ${crmConnections} where ${crmConnections.workspaceId} = ${workspaces.id})`,
};

/** The account a workspace names in `hubspotPortalId`: a portal id, or `salesforce:<org id>`. */
export function connectionOfAccount(account: string): { crm: CrmVendor; accountId: string } {
  return account.startsWith('salesforce:')
    ? { crm: 'salesforce', accountId: account.slice('salesforce:'.length) }
    : { crm: 'hubspot', accountId: account };
}

/** Inserts a workspace and its first connection, the account its row names. */
export async function insertWorkspace(tx: Tx, row: typeof workspaces.$inferInsert): Promise<void> {
  await tx.insert(workspaces).values(row);
  await tx.insert(crmConnections).values({
    workspaceId: row.id,
    ...connectionOfAccount(row.hubspotPortalId),
    credentialsEnc: row.hubspotTokenEnc,
    clientSecretEnc: row.hubspotClientSecretEnc ?? null,
  });
}

/** Adds a connection to another CRM; the account's unique index refuses one another workspace holds. */
export async function insertCrmConnection(
  tx: Tx,
  row: {
    workspaceId: string;
    crm: CrmVendor;
    accountId: string;
    credentialsEnc: string;
    clientSecretEnc: string | null;
  },
): Promise<void> {
  await tx.insert(crmConnections).values(row);
}

/** The CRM accounts a workspace is connected to now, each with its CRM. */
export async function listConnectedAccounts(
  db: Db | Tx,
  workspaceId: string,
): Promise<{ crm: CrmVendor; accountId: string }[]> {
  return db
    .select({ crm: crmConnections.crm, accountId: crmConnections.accountId })
    .from(crmConnections)
    .where(eq(crmConnections.workspaceId, workspaceId));
}

export async function findWorkspace(db: Db, id: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select(workspaceWithConnections).from(workspaces).where(eq(workspaces.id, id));
  return row;
}

/**
 * The active workspace connected to an account (a portal id, or `salesforce:<org id>`), as its
 * first connection or another; a removed one no longer answers for it.
 */
export async function findWorkspaceByPortal(db: Db, portalId: string): Promise<WorkspaceRow | undefined> {
  const { crm, accountId } = connectionOfAccount(portalId);
  const [row] = await db
    .select(workspaceWithConnections)
    .from(workspaces)
    .where(
      and(
        isNull(workspaces.removedAt),
        sql`exists (select 1 from ${crmConnections} where ${crmConnections.workspaceId} = ${workspaces.id}
          and ${crmConnections.crm} = ${crm} and ${crmConnections.accountId} = ${accountId})`,
      ),
    );
  return row;
}

export async function findWorkspaceByAdminTokenHash(db: Db, tokenHash: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db
    .select(workspaceWithConnections)
    .from(workspaces)
    .where(eq(workspaces.adminTokenHash, tokenHash));
  return row;
}

/** The HubSpot portal of every workspace; demo mode checks that none but the sandbox's is connected. */
export async function listWorkspacePortals(db: Db): Promise<{ id: string; hubspotPortalId: string }[]> {
  return db
    .select({ id: workspaces.id, hubspotPortalId: workspaces.hubspotPortalId })
    .from(workspaces)
    .where(isNull(workspaces.removedAt));
}

/** Every workspace, removed ones too, oldest first. */
export async function listWorkspaces(db: Db): Promise<WorkspaceRow[]> {
  return db.select(workspaceWithConnections).from(workspaces).orderBy(asc(workspaces.createdAt), asc(workspaces.id));
}

/** Locks the workspace's row, so a change and a removal of one workspace never interleave. */
export async function lockWorkspace(tx: Tx, id: string): Promise<WorkspaceRow | undefined> {
  const [row] = await tx
    .select(workspaceWithConnections)
    .from(workspaces)
    .where(eq(workspaces.id, id))
    .for('update', { of: workspaces });
  return row;
}

export async function updateWorkspace(
  tx: Tx,
  id: string,
  changes: Partial<Pick<WorkspaceRow, 'name' | 'removedAt'>>,
): Promise<void> {
  await tx.update(workspaces).set(changes).where(eq(workspaces.id, id));
  // A removed workspace gives its accounts back.
  if (changes.removedAt) await tx.delete(crmConnections).where(eq(crmConnections.workspaceId, id));
}

/**
 * Rotates one connection's credentials (issue 20), in the workspace's columns too when it is the
 * first. New Salesforce credentials drop the access token minted from the old ones.
 */
export async function setConnectionCredentials(
  tx: Tx,
  id: string,
  crm: CrmVendor,
  changes: { credentialsEnc?: string; clientSecretEnc?: string },
): Promise<void> {
  const dropSession = crm === 'salesforce' && changes.credentialsEnc !== undefined;
  await tx
    .update(crmConnections)
    .set({ ...changes, ...(dropSession ? { sessionEnc: null } : {}) })
    .where(and(eq(crmConnections.workspaceId, id), eq(crmConnections.crm, crm)));
  await tx
    .update(workspaces)
    .set({
      ...(changes.credentialsEnc === undefined ? {} : { hubspotTokenEnc: changes.credentialsEnc }),
      ...(changes.clientSecretEnc === undefined ? {} : { hubspotClientSecretEnc: changes.clientSecretEnc }),
      ...(dropSession ? { salesforceSessionEnc: null } : {}),
    })
    .where(and(eq(workspaces.id, id), eq(workspaces.crm, crm)));
}

/** One connection's account and sealed credentials as they stand in this transaction, if the workspace still has it. */
export async function findCrmConnection(
  db: Db | Tx,
  workspaceId: string,
  crm: CrmVendor,
): Promise<{ accountId: string; credentialsEnc: string } | undefined> {
  const [row] = await db
    .select({ accountId: crmConnections.accountId, credentialsEnc: crmConnections.credentialsEnc })
    .from(crmConnections)
    .where(and(eq(crmConnections.workspaceId, workspaceId), eq(crmConnections.crm, crm)));
  return row;
}

/** Whether agents ever submitted work here: change sets or actions (drafts). Agents and policies alone are set-up, not data. */
export async function workspaceHasSubmittedWork(db: Db | Tx, id: string): Promise<boolean> {
  const result = await db.execute(sql`
    select exists (select 1 from ${changeSets} where ${changeSets.workspaceId} = ${id})
        or exists (select 1 from ${actions} where ${actions.workspaceId} = ${id}) as has_work`);
  return (result as unknown as { rows: { has_work: boolean }[] }).rows[0]?.has_work === true;
}

/**
 * Deletes a workspace's connection to one CRM (issue 20); the account is free for another
 * workspace. A Salesforce org's change stream goes with it: its replay ids mean nothing for another
 * org, and a follower still holding the lease finds it gone and stores nothing more.
 */
export async function deleteCrmConnection(tx: Tx, workspaceId: string, crm: CrmVendor): Promise<void> {
  await tx.delete(crmConnections).where(and(eq(crmConnections.workspaceId, workspaceId), eq(crmConnections.crm, crm)));
  if (crm !== 'salesforce') return;
  await tx.delete(crmEventStreamPositions).where(eq(crmEventStreamPositions.workspaceId, workspaceId));
  await tx.delete(crmEventStreams).where(eq(crmEventStreams.workspaceId, workspaceId));
}

/** What is still under way on one CRM's objects: work a disconnection would strand. */
export interface CrmWorkInFlight {
  /** Approvals waiting for a decision, or approved and not yet written. */
  approvals: number;
  /** Drafts (emails, tasks, notes) held or released and not yet done. */
  drafts: number;
  /** Change sets still writing. */
  changeSets: number;
  /** Creations and associations held or being made. */
  heldEntries: number;
  /** Rollbacks running or paused with fields of that CRM. */
  rollbacks: number;
}

export async function countCrmWorkInFlight(db: Db | Tx, workspaceId: string, crm: CrmVendor): Promise<CrmWorkInFlight> {
  // Salesforce's object types are `salesforce:<sObject>`, HubSpot's bare (shared/crm-names.ts).
  const ofCrm = (column: unknown) => sql`((${column} like 'salesforce:%') = ${crm === 'salesforce'})`;
  const result = await db.execute(sql`select
    (select count(*)::int from ${approvals} where ${approvals.workspaceId} = ${workspaceId}
      and ${approvals.status} in ('pending', 'approved') and ${ofCrm(approvals.objectType)}) as approvals,
    (select count(*)::int from ${actions} where ${actions.workspaceId} = ${workspaceId}
      and ${actions.status} in ('pending', 'released') and ${ofCrm(actions.objectType)}) as drafts,
    (select count(*)::int from ${changeSets} where ${changeSets.workspaceId} = ${workspaceId}
      and ${changeSets.status} = 'applying' and ${ofCrm(changeSets.objectType)}) as change_sets,
    (select count(*)::int from ${recordCreations} where ${recordCreations.workspaceId} = ${workspaceId}
      and ${recordCreations.decision} in ('applying', 'pending_approval') and ${ofCrm(recordCreations.objectType)})
    + (select count(*)::int from ${recordAssociations} where ${recordAssociations.workspaceId} = ${workspaceId}
      and ${recordAssociations.decision} in ('applying', 'pending_approval') and ${ofCrm(recordAssociations.objectType)})
      as held_entries,
    (select count(*)::int from ${rollbacks} where ${rollbacks.workspaceId} = ${workspaceId}
      and ${rollbacks.status} <> 'completed' and exists (select 1 from ${rollbackItems}
        where ${rollbackItems.rollbackId} = ${rollbacks.id} and ${ofCrm(rollbackItems.objectType)})) as rollbacks`);
  const [row] = (result as unknown as { rows: Record<string, number>[] }).rows;
  return {
    approvals: row?.approvals ?? 0,
    drafts: row?.drafts ?? 0,
    changeSets: row?.change_sets ?? 0,
    heldEntries: row?.held_entries ?? 0,
    rollbacks: row?.rollbacks ?? 0,
  };
}

/** Keeps the Salesforce access token minted last, in the workspace's columns when Salesforce is its first CRM. */
export async function setSalesforceSession(db: Db, id: string, salesforceSessionEnc: string): Promise<void> {
  await db
    .update(workspaces)
    .set({ salesforceSessionEnc })
    .where(and(eq(workspaces.id, id), eq(workspaces.crm, 'salesforce')));
  await db
    .update(crmConnections)
    .set({ sessionEnc: salesforceSessionEnc })
    .where(and(eq(crmConnections.workspaceId, id), eq(crmConnections.crm, 'salesforce')));
}

/** Keeps the approval object bootstrap created in one connection's account, in the workspace's column too when it is the first. */
export async function setApprovalObject(db: Db, id: string, crm: CrmVendor, objectTypeId: string): Promise<void> {
  await db
    .update(workspaces)
    .set({ approvalObject: { objectTypeId } })
    .where(and(eq(workspaces.id, id), eq(workspaces.crm, crm)));
  await db
    .update(crmConnections)
    .set({ approvalObjectTypeId: objectTypeId })
    .where(and(eq(crmConnections.workspaceId, id), eq(crmConnections.crm, crm)));
}
