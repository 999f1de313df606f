import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Issue 19: one-time sign-in links to the web console. Only a hash of the token is kept, so a
 * copy of the database signs nobody in; `usedAt` makes a link work once.
 */
export const consoleSignInLinks = pgTable('console_sign_in_links', {
  tokenHash: text('token_hash').primaryKey(),
  workspaceId: uuid('workspace_id').notNull(),
  /** The CRM user the link signs in as; their role is resolved on every request, not frozen here. */
  crmUserId: text('crm_user_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
});

/** A signed-in browser: the cookie carries the token, the row only its hash. */
export const consoleSessions = pgTable('console_sessions', {
  tokenHash: text('token_hash').primaryKey(),
  workspaceId: uuid('workspace_id').notNull(),
  crmUserId: text('crm_user_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
});
