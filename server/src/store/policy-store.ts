import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { policyVersions } from './schema.ts';

export interface StoredPolicyVersion {
  version: number;
  document: unknown;
  publishedBy: string;
  createdAt: Date;
}

/** Versions are numbered per workspace; the caller holds the audit chain lock, so max + 1 is safe. */
export async function insertPolicyVersion(
  tx: Tx,
  row: { workspaceId: string; document: unknown; publishedBy: string },
): Promise<number> {
  const [latest] = await tx
    .select({ version: policyVersions.version })
    .from(policyVersions)
    .where(eq(policyVersions.workspaceId, row.workspaceId))
    .orderBy(desc(policyVersions.version))
    .limit(1);
  const version = (latest?.version ?? 0) + 1;
  await tx.insert(policyVersions).values({ ...row, version });
  return version;
}

export async function findLatestPolicyVersion(
  db: Db | Tx,
  workspaceId: string,
): Promise<StoredPolicyVersion | undefined> {
  const [row] = await db
    .select()
    .from(policyVersions)
    .where(eq(policyVersions.workspaceId, workspaceId))
    .orderBy(desc(policyVersions.version))
    .limit(1);
  return row;
}

export async function findPolicyVersion(
  db: Db,
  workspaceId: string,
  version: number,
): Promise<StoredPolicyVersion | undefined> {
  const [row] = await db
    .select()
    .from(policyVersions)
    .where(and(eq(policyVersions.workspaceId, workspaceId), eq(policyVersions.version, version)));
  return row;
}

export async function listPolicyVersions(
  db: Db,
  workspaceId: string,
): Promise<Omit<StoredPolicyVersion, 'document'>[]> {
  return db
    .select({
      version: policyVersions.version,
      publishedBy: policyVersions.publishedBy,
      createdAt: policyVersions.createdAt,
    })
    .from(policyVersions)
    .where(eq(policyVersions.workspaceId, workspaceId))
    .orderBy(desc(policyVersions.version));
}

/**
 * True when the audit log's `policy.published` event for this version holds the document as it is
 * stored now (compared as jsonb, so key order and spacing do not count): false for a document
 * edited in the database after it was published.
 */
export async function storedAsPublished(db: Db | Tx, workspaceId: string, version: number): Promise<boolean> {
  const result = await db.execute(sql`
    select exists (
      select 1 from policy_versions p join audit_events e
        on e.workspace_id = p.workspace_id and e.type = 'policy.published' and e.policy_version = p.version
      where p.workspace_id = ${workspaceId} and p.version = ${version}
        and json_typeof(e.data->'document') = 'object' and (e.data->'document')::jsonb = p.document
    ) as "published"`);
  return (result as unknown as { rows: { published: boolean }[] }).rows[0]?.published === true;
}
