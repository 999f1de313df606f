import { pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { PERSON_ROLES } from '../domain/approval-lifecycle.ts';

/**
 * Issue 8: a role given to everyone in a HubSpot team. A person's own row in `people` wins over
 * it; which teams someone is in is read from HubSpot, never taken from a request.
 */
export const teamRoles = pgTable(
  'team_roles',
  {
    workspaceId: uuid('workspace_id').notNull(),
    /** HubSpot's team id (Settings API: a user's primaryTeamId and secondaryTeamIds). */
    teamId: text('team_id').notNull(),
    role: text('role', { enum: PERSON_ROLES }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.teamId] })],
);
