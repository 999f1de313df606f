import { z } from 'zod';
import { safeText } from './safe-text.ts';

/** Object types governed so far; Salesforce names map onto these in its adapter. */
export const OBJECT_TYPES = ['contacts', 'deals'] as const;
export const objectTypeSchema = z.enum(OBJECT_TYPES, {
  error: (issue) => `objectType must be one of ${OBJECT_TYPES.join(', ')}; got ${JSON.stringify(issue.input)}`,
});
export type ObjectType = z.infer<typeof objectTypeSchema>;

/**
 * Who made a change the CRM reports, in our words (issue 6): our own app, a person (in the CRM's
 * UI, its mobile apps, forms, email), a workflow or sequence, an import, another integration, or
 * the CRM itself (calculated properties, merges), or an AI agent the CRM runs itself (Salesforce's
 * Agentforce agent users, issue 20: writes that did not go through our governance). Each CRM
 * adapter maps its own source names.
 */
export type ChangeSource = 'our_app' | 'person' | 'workflow' | 'import' | 'integration' | 'ai_agent' | 'crm';

/** Where the CRM keeps what the stop rules read of a contact; its adapter names them. */
export interface ContactFields {
  /** A checkbox: the contact opted out of every email. */
  optOut: string;
  /** The contact's addresses, the primary first; each may hold several separated by ";". */
  emails: readonly string[];
}

/** HubSpot internal property names: lower-case letter first, then lower-case letters, digits and underscores. */
export const PROPERTY_NAME_PATTERN = /^[a-z][a-z0-9_]{0,99}$/;
export const propertyNameSchema = safeText.regex(
  PROPERTY_NAME_PATTERN,
  'must be a CRM internal property name (lower-case letters, digits and underscores, starting with a letter)',
);

/** HubSpot record ids are positive integers, sent as strings. */
export const recordIdSchema = safeText.regex(/^[1-9][0-9]{0,17}$/, 'must be a CRM record id (digits only)');

export const AGENT_ROLES = ['prospecting', 'enrichment', 'outreach', 'routing', 'admin'] as const;
export const agentRoleSchema = z.enum(AGENT_ROLES);
export type AgentRole = z.infer<typeof agentRoleSchema>;

export const AGENT_STATUSES = ['active', 'paused', 'revoked'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** Kinds of action a kill switch can stop; `field_write` covers change sets. */
export const ACTION_KINDS = ['field_write', 'send_email', 'create_task', 'create_note'] as const;
export const actionKindSchema = z.enum(ACTION_KINDS);
export type ActionKind = z.infer<typeof actionKindSchema>;

/**
 * Our approval object and its status property, in our words, where a CRM's adapter reads its own
 * approval object into them (Salesforce's `Agent_Approval__c`, issue 20): a person setting the
 * status there is their decision, as on HubSpot's approval object.
 */
export const APPROVAL_OBJECT_TYPE = 'agent_approvals';
export const APPROVAL_STATUS_PROPERTY = 'ag_status';
