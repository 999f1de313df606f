import { APPROVAL_STATUSES } from '../../../../shared/approval-api.ts';
import type { CrmCustomObjectSchema, CrmPropertyDefinition } from '../../crm/port.ts';
import { DO_NOT_CONTACT_PROPERTY } from '../../domain/action-drafts.ts';
import { PENDING_COUNT_PROPERTY, shadowPropertyName } from '../../domain/approval-mirror.ts';

/** Upserts are keyed by our approval id, so a retried write never makes a second CRM record. */
export const APPROVAL_KEY_PROPERTY = 'ag_approval_id';

const STATUS_OPTIONS = APPROVAL_STATUSES.map((value) => ({ label: value[0]?.toUpperCase() + value.slice(1), value }));

/** The "Agent Approval" custom object, associated with the CRM's governed objects (bootstrap names them); created once per account. */
export const APPROVAL_OBJECT_SCHEMA: Omit<CrmCustomObjectSchema, 'associatedObjects'> = {
  name: 'agent_approval',
  labels: { singular: 'Agent Approval', plural: 'Agent Approvals' },
  primaryDisplayProperty: 'ag_summary',
  properties: [
    {
      name: APPROVAL_KEY_PROPERTY,
      label: 'Approval id',
      type: 'string',
      fieldType: 'text',
      hasUniqueValue: true,
      description: 'The approval in Agent Governance.',
    },
    {
      name: 'ag_summary',
      label: 'Summary',
      type: 'string',
      fieldType: 'text',
      description: 'What the agent proposes.',
    },
    { name: 'ag_status', label: 'Status', type: 'enumeration', fieldType: 'select', options: STATUS_OPTIONS },
    { name: 'ag_agent', label: 'Agent', type: 'string', fieldType: 'text' },
    {
      name: 'ag_record',
      label: 'Record',
      type: 'string',
      fieldType: 'text',
      description: 'The object type and id of the record the approval is about.',
    },
    {
      name: 'ag_diff',
      label: 'Proposed changes',
      type: 'string',
      fieldType: 'textarea',
      description: 'Each property: current → proposed, any edit, and its decision.',
    },
    { name: 'ag_confidence', label: 'Confidence', type: 'number', fieldType: 'number' },
    { name: 'ag_evidence_url', label: 'Evidence', type: 'string', fieldType: 'text' },
    { name: 'ag_reason', label: 'Reason', type: 'string', fieldType: 'textarea' },
    { name: 'ag_expires_at', label: 'Expires at', type: 'datetime', fieldType: 'date' },
    {
      name: 'ag_decided_by',
      label: 'Decided by',
      type: 'string',
      fieldType: 'text',
      description: 'CRM user ids of the people who decided.',
    },
    { name: 'ag_decided_at', label: 'Decided at', type: 'datetime', fieldType: 'date' },
    {
      name: 'ag_outcome',
      label: 'Outcome',
      type: 'string',
      fieldType: 'textarea',
      description: 'Why it ended as it did: a rejection reason, what went stale, the CRM’s refusal.',
    },
  ],
};

export const PENDING_COUNT_DEFINITION: CrmPropertyDefinition = {
  name: PENDING_COUNT_PROPERTY,
  label: 'Agent: pending approvals',
  type: 'number',
  fieldType: 'number',
  description: 'How many agent proposals on this record wait for a person; filter lists and views on it.',
};

/** A person's "never email this contact" switch, which the drafts' stop rules obey whatever the policy says. */
export const DO_NOT_CONTACT_DEFINITION: CrmPropertyDefinition = {
  name: DO_NOT_CONTACT_PROPERTY,
  label: 'Agent: do not contact',
  type: 'bool',
  fieldType: 'booleancheckbox',
  description: 'Checked: no agent email is ever sent to this contact, whatever the policy says.',
  options: [
    { label: 'Yes', value: 'true' },
    { label: 'No', value: 'false' },
  ],
};

/** The proposed-value property beside a held one, labelled after it so a person knows what it shadows. */
export function shadowDefinition(property: CrmPropertyDefinition): CrmPropertyDefinition | undefined {
  const name = shadowPropertyName(property.name);
  if (name === undefined) return undefined;
  return {
    name,
    label: `Proposed: ${property.label}`,
    // Text whatever the real type: a proposal is shown, never validated against options here.
    type: 'string',
    fieldType: property.type === 'string' && property.fieldType === 'textarea' ? 'textarea' : 'text',
    description: `The value an agent proposes for ${property.label}, waiting for approval in Agent Governance. Cleared when decided.`,
  };
}
