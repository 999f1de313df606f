import { and, asc, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { CrmVendor } from '../../../shared/crm-names.ts';
import { actions } from './action-schema.ts';
import type { Db, Tx } from './database.ts';
import { changeSets, crmConnections, workspaces } from './schema.ts';

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
  changes: Partial<Pick<WorkspaceRow, 'name' | 'hubspotTokenEnc' | 'hubspotClientSecretEnc' | 'removedAt'>>,
): Promise<void> {
  await tx.update(workspaces).set(changes).where(eq(workspaces.id, id));
  // The first connection's row follows its columns; a removed workspace gives its accounts back.
  const credentials = {
    ...(changes.hubspotTokenEnc === undefined ? {} : { credentialsEnc: changes.hubspotTokenEnc }),
    ...(changes.hubspotClientSecretEnc === undefined ? {} : { clientSecretEnc: changes.hubspotClientSecretEnc }),
  };
  if (Object.keys(credentials).length > 0)
    await tx
      .update(crmConnections)
      .set(credentials)
      .where(
        and(
          eq(crmConnections.workspaceId, id),
          sql`${crmConnections.crm} = (select ${workspaces.crm} from ${workspaces} where ${workspaces.id} = ${id})`,
        ),
      );
  if (changes.removedAt) await tx.delete(crmConnections).where(eq(crmConnections.workspaceId, id));
}

/** Whether agents ever submitted work here: change sets or actions (drafts). Agents and policies alone are set-up, not data. */
export async function workspaceHasSubmittedWork(db: Db | Tx, id: string): Promise<boolean> {
  const result = await db.execute(sql`
    select exists (select 1 from ${changeSets} where ${changeSets.workspaceId} = ${id})
        or exists (select 1 from ${actions} where ${actions.workspaceId} = ${id}) as has_work`);
  return (result as unknown as { rows: { has_work: boolean }[] }).rows[0]?.has_work === true;
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
