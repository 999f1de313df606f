import { and, desc, eq } from 'drizzle-orm';
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
