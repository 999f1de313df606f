import { integer, json, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Issue 21: the cases an operator keeps per agent, run before an agent a kill trigger stopped is released. */
export const agentRegressionCases = pgTable(
  'agent_regression_cases',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    /** The case's place in the set, as the operator wrote it. */
    ordinal: integer('ordinal').notNull(),
    name: text('name').notNull(),
    // json, as the audit log's: stored whole and read back through its zod schema.
    case: json('case').notNull(),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [uniqueIndex('agent_regression_cases_name').on(t.workspaceId, t.agentId, t.name)],
);

/** Issue 21: an agent's safe mode and what people accepted of its changes (prompt, volume). */
export const agentSafety = pgTable(
  'agent_safety',
  {
    workspaceId: uuid('workspace_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    safeModeUntil: instant('safe_mode_until'),
    acceptedPromptHash: text('accepted_prompt_hash'),
    pendingPromptHash: text('pending_prompt_hash'),
    volumeAcceptedDay: text('volume_accepted_day'),
  },
  (t) => [primaryKey({ name: 'agent_safety_pk', columns: [t.workspaceId, t.agentId] })],
);
