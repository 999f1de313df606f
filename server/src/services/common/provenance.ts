import type { Evidence } from '../../../../shared/agent-api.ts';
import type { CrmPropertyDefinition, CrmPropertyGroup } from '../../crm/port.ts';

/** The app's property group in the CRM; bootstrap creates it and the properties below on each object type. */
export const APP_PROPERTY_GROUP: CrmPropertyGroup = { name: 'agent_governance', label: 'Agent Governance' };

/**
 * Provenance written on the record in the same CRM call as the governed values, so the record
 * itself says which change set, agent and evidence last wrote it.
 */
export const PROVENANCE_PROPERTIES: readonly CrmPropertyDefinition[] = [
  text(
    'ag_last_change_id',
    'Agent: last change set',
    'The change set that last wrote governed values; look it up in Agent Governance to see every detail.',
  ),
  text('ag_last_agent', 'Agent: last agent', 'The agent whose change was last applied to this record.'),
  text('ag_last_source', 'Agent: last source', 'Where the agent said the last applied values came from.'),
  {
    name: 'ag_last_confidence',
    label: 'Agent: last confidence',
    type: 'number',
    fieldType: 'number',
    description: 'The agent’s confidence (0 to 1) in the last applied values.',
  },
  {
    name: 'ag_last_reason',
    label: 'Agent: last reason',
    type: 'string',
    fieldType: 'textarea',
    description: 'Why the agent made the last applied change.',
  },
  text('ag_last_evidence_url', 'Agent: last evidence link', 'A link to the evidence behind the last applied change.'),
  text(
    'ag_last_changed_properties',
    'Agent: last changed properties',
    'The properties the last applied change wrote, separated by semicolons.',
  ),
  {
    name: 'ag_last_changed_at',
    label: 'Agent: last changed at',
    type: 'datetime',
    fieldType: 'date',
    description: 'When the last governed change was applied.',
  },
  {
    name: 'ag_last_policy_version',
    label: 'Agent: last policy version',
    type: 'number',
    fieldType: 'number',
    description: 'The version of the governance policy the last applied change was decided under.',
  },
  text(
    'ag_create_ref',
    'Agent: creation reference',
    'Set on a record an agent created through Agent Governance: the id of the creation that made it.',
  ),
];

/**
 * Set on a record a quarantine marked for review (issue 21): an agent stopped by a kill switch
 * or trigger wrote it lately. A CRM view or list filtered on it is the review queue in the CRM.
 */
export const NEEDS_REVIEW_PROPERTY: CrmPropertyDefinition = {
  name: 'ag_needs_review',
  label: 'Agent: needs review',
  type: 'bool',
  fieldType: 'booleancheckbox',
  description:
    'Set when an agent that wrote this record lately was stopped by a kill switch; cleared when a person reviews it or a rollback covers it.',
  options: [
    { label: 'Yes', value: 'true' },
    { label: 'No', value: 'false' },
  ],
};

/** Written on each record we create (issue 21), so a batch's created records can be matched to what asked for them. */
export const CREATE_REF_PROPERTY = 'ag_create_ref';

function text(name: string, label: string, description: string): CrmPropertyDefinition {
  return { name, label, type: 'string', fieldType: 'text', description };
}

export function provenanceValues(input: {
  changeSetId: string;
  agentName: string;
  evidence: Evidence;
  properties: string[];
  at: Date;
  /** The policy version the change was decided under; a rollback's restore was decided under none. */
  policyVersion?: number | undefined;
}): Record<string, string> {
  return {
    ag_last_change_id: input.changeSetId,
    ag_last_agent: input.agentName,
    ag_last_source: input.evidence.source,
    ag_last_confidence: input.evidence.confidence === undefined ? '' : String(input.evidence.confidence),
    ag_last_reason: input.evidence.reason,
    ag_last_evidence_url: input.evidence.url ?? '',
    ag_last_changed_properties: input.properties.join(';'),
    ag_last_changed_at: input.at.toISOString(),
    ag_last_policy_version: input.policyVersion === undefined ? '' : String(input.policyVersion),
  };
}
