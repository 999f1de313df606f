import { z } from 'zod';
import type { CommitUserKind } from '../../domain/crm-change-origin.ts';

/**
 * What kind of user a change event's commit user is (issue 20, point 5), from the org's `User`
 * records. Agentforce runs service agents (and lead-nurturing agents) as a dedicated agent user
 * given the `Einstein Agent User` profile (Salesforce CLI's `org create agent-user` assigns it; the
 * Agentforce help calls such a user "a Salesforce integration user"); Flow and Apex run as the
 * `AutomatedProcess` user type; the API-only integration user licence comes with its own profile.
 * Employee agents run as the person using them, so their changes read as that person's.
 */
export const AGENT_USER_PROFILE = 'Einstein Agent User';
export const INTEGRATION_USER_PROFILE = 'Salesforce API Only System Integrations';

const userRowSchema = z.object({
  Id: z.string(),
  UserType: z.string().nullish(),
  Profile: z.object({ Name: z.string().nullish() }).nullish(),
});
export const userQueryAnswerSchema = z.object({ records: z.array(userRowSchema) });
type UserRow = z.infer<typeof userRowSchema>;

const SALESFORCE_ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

/** One SOQL query for the users' type and profile; ids that are not Salesforce ids are left out (never sent into SOQL). */
export function userKindsQuery(userIds: readonly string[]): string | null {
  const ids = userIds.filter((id) => SALESFORCE_ID.test(id));
  if (ids.length === 0) return null;
  return `SELECT Id, UserType, Profile.Name FROM User WHERE Id IN (${ids.map((id) => `'${id}'`).join(',')})`;
}

export function userKindOf(row: UserRow): CommitUserKind {
  const profile = row.Profile?.Name ?? null;
  if (profile === AGENT_USER_PROFILE) return 'ai_agent';
  if (row.UserType === 'AutomatedProcess') return 'automation';
  if (profile === INTEGRATION_USER_PROFILE) return 'integration';
  // A site's guest user stands for anyone on the internet: read such a change by its channel.
  if (row.UserType === 'Guest' || row.UserType == null) return 'unknown';
  return 'person';
}

/** Every asked id gets a kind: one the org does not return (deleted, not visible) is `unknown`, so it is not asked again. */
export function userKindsOf(userIds: readonly string[], rows: readonly UserRow[]): Map<string, CommitUserKind> {
  const kinds = new Map<string, CommitUserKind>(userIds.map((id) => [id, 'unknown']));
  for (const row of rows) {
    const kind = userKindOf(row);
    // Salesforce answers with 18-character ids; an event may name the 15-character form.
    for (const id of userIds) if (id === row.Id || (id.length === 15 && row.Id.startsWith(id))) kinds.set(id, kind);
  }
  return kinds;
}
