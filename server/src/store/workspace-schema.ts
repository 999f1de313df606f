import { sql } from 'drizzle-orm';
import { jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** One CRM account. Every other row carries its id; nothing crosses workspaces. */
export const workspaces = pgTable(
  'workspaces',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    crm: text('crm', { enum: ['hubspot', 'salesforce'] }).notNull(),
    /**
     * The CRM account: a HubSpot portal id, or `salesforce:<org id>` (issue 20). Unique among
     * active workspaces: a removed one gives its account back (issue 18).
     */
    hubspotPortalId: text('hubspot_portal_id').notNull(),
    /** AES-GCM ciphertext of the HubSpot token, or of the Salesforce connection (JSON); needed to call the CRM, so not hashed. */
    hubspotTokenEnc: text('hubspot_token_enc').notNull(),
    /** The Salesforce access token minted last (JSON with its instance URL), sealed; renewed when it expires. */
    salesforceSessionEnc: text('salesforce_session_enc'),
    hubspotClientSecretEnc: text('hubspot_client_secret_enc'),
    adminTokenHash: text('admin_token_hash').notNull().unique(),
    /** The first CRM's approval object (issue 5) once bootstrap created it; each connection keeps its own too. */
    approvalObject: jsonb('approval_object').$type<{ objectTypeId: string }>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Set by `workspace remove`: its tokens stop working, its rows and audit chain stay. */
    removedAt: timestamp('removed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('workspaces_active_portal').on(t.hubspotPortalId).where(sql`${t.removedAt} is null`)],
);

/**
 * A workspace's connection to one CRM account (issue 20): at most one per CRM, an account in one
 * workspace only. The first is also kept in the workspace's `hubspot_*` columns; a removed
 * workspace keeps none, giving its accounts back.
 */
export const crmConnections = pgTable(
  'crm_connections',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id),
    crm: text('crm', { enum: ['hubspot', 'salesforce'] }).notNull(),
    /** A HubSpot portal id, or a Salesforce org id (no `salesforce:` prefix: the row names its CRM). */
    accountId: text('account_id').notNull(),
    /** The sealed HubSpot token, or the sealed Salesforce connection (JSON). */
    credentialsEnc: text('credentials_enc').notNull(),
    /** The HubSpot app's client secret its webhooks are signed with, sealed. */
    clientSecretEnc: text('client_secret_enc'),
    /** The Salesforce access token minted last, sealed. */
    sessionEnc: text('session_enc'),
    /** The approval object bootstrap created in this account (its object type id), once it has. */
    approvalObjectTypeId: text('approval_object_type_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.crm] }),
    uniqueIndex('crm_connections_account').on(t.crm, t.accountId),
  ],
);
