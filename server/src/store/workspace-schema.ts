import { sql } from 'drizzle-orm';
import { jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** One CRM account. Every other row carries its id; nothing crosses workspaces. */
export const workspaces = pgTable(
  'workspaces',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    crm: text('crm', { enum: ['hubspot'] }).notNull(),
    /** Unique among active workspaces: a removed one gives its portal back (issue 18). */
    hubspotPortalId: text('hubspot_portal_id').notNull(),
    /** AES-GCM ciphertext; the token is needed to call HubSpot, so it cannot be hashed. */
    hubspotTokenEnc: text('hubspot_token_enc').notNull(),
    hubspotClientSecretEnc: text('hubspot_client_secret_enc'),
    adminTokenHash: text('admin_token_hash').notNull().unique(),
    /** The CRM's approval object (issue 5) once bootstrap created it. */
    approvalObject: jsonb('approval_object').$type<{ objectTypeId: string }>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Set by `workspace remove`: its tokens stop working, its rows and audit chain stay. */
    removedAt: timestamp('removed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('workspaces_active_portal').on(t.hubspotPortalId).where(sql`${t.removedAt} is null`)],
);
