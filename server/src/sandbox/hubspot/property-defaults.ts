/**
 * HubSpot's default property definitions and groups for the object types the fake serves.
 * Names, types, field types and option values follow a fresh HubSpot portal; labels are
 * abbreviated where HubSpot's are long. Only what Agent Governance reads or writes is here.
 */

export type FakePropertyType = 'string' | 'number' | 'enumeration' | 'datetime' | 'date' | 'bool';

export interface FakePropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
}

export interface FakePropertyDefinition {
  name: string;
  label: string;
  type: FakePropertyType;
  fieldType: string;
  groupName: string;
  description: string;
  options: FakePropertyOption[];
  displayOrder: number;
  hubspotDefined: boolean;
  /** HubSpot refuses writes to these (`READ_ONLY_VALUE`); the fake computes their values. */
  readOnlyValue: boolean;
  /** Options come from elsewhere (owners): validated against the state's owner ids. */
  externalOptions: boolean;
  hasUniqueValue: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface FakePropertyGroup {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

type Seed = Pick<FakePropertyDefinition, 'name' | 'label' | 'type' | 'fieldType' | 'groupName'> &
  Partial<Pick<FakePropertyDefinition, 'readOnlyValue' | 'externalOptions' | 'hasUniqueValue' | 'description'>> & {
    options?: readonly (readonly [value: string, label: string])[];
  };

const LIFECYCLE_STAGES = [
  ['subscriber', 'Subscriber'],
  ['lead', 'Lead'],
  ['marketingqualifiedlead', 'Marketing Qualified Lead'],
  ['salesqualifiedlead', 'Sales Qualified Lead'],
  ['opportunity', 'Opportunity'],
  ['customer', 'Customer'],
  ['evangelist', 'Evangelist'],
  ['other', 'Other'],
] as const;

const LEAD_STATUSES = [
  ['NEW', 'New'],
  ['OPEN', 'Open'],
  ['IN_PROGRESS', 'In Progress'],
  ['OPEN_DEAL', 'Open Deal'],
  ['UNQUALIFIED', 'Unqualified'],
  ['ATTEMPTED_TO_CONTACT', 'Attempted to Contact'],
  ['CONNECTED', 'Connected'],
  ['BAD_TIMING', 'Bad Timing'],
] as const;

// HubSpot models company size on contacts as an enumeration of ranges, not a number.
const EMPLOYEE_RANGES = [
  ['1-5', '1-5'],
  ['5-25', '5-25'],
  ['25-50', '25-50'],
  ['50-100', '50-100'],
  ['100-500', '100-500'],
  ['500-1000', '500-1000'],
  ['1000+', '1000+'],
] as const;

const DEAL_STAGES = [
  ['appointmentscheduled', 'Appointment Scheduled'],
  ['qualifiedtobuy', 'Qualified To Buy'],
  ['presentationscheduled', 'Presentation Scheduled'],
  ['decisionmakerboughtin', 'Decision Maker Bought-In'],
  ['contractsent', 'Contract Sent'],
  ['closedwon', 'Closed Won'],
  ['closedlost', 'Closed Lost'],
] as const;

const BOOL_OPTIONS = [
  ['true', 'Yes'],
  ['false', 'No'],
] as const;

const OWNER = { type: 'enumeration', fieldType: 'select', externalOptions: true } as const;

const CONTACT_SEEDS: Seed[] = [
  {
    name: 'hs_object_id',
    label: 'Record ID',
    type: 'number',
    fieldType: 'number',
    groupName: 'contactinformation',
    readOnlyValue: true,
    hasUniqueValue: true,
  },
  {
    name: 'createdate',
    label: 'Create Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'contactinformation',
    readOnlyValue: true,
  },
  {
    name: 'lastmodifieddate',
    label: 'Last Modified Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'contactinformation',
    readOnlyValue: true,
  },
  { name: 'firstname', label: 'First Name', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  { name: 'lastname', label: 'Last Name', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  { name: 'email', label: 'Email', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  {
    name: 'hs_email_domain',
    label: 'Email Domain',
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
    readOnlyValue: true,
  },
  { name: 'phone', label: 'Phone Number', type: 'string', fieldType: 'phonenumber', groupName: 'contactinformation' },
  {
    name: 'mobilephone',
    label: 'Mobile Phone Number',
    type: 'string',
    fieldType: 'phonenumber',
    groupName: 'contactinformation',
  },
  { name: 'jobtitle', label: 'Job Title', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  { name: 'company', label: 'Company Name', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  { name: 'website', label: 'Website URL', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  { name: 'industry', label: 'Industry', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  { name: 'city', label: 'City', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  { name: 'country', label: 'Country/Region', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  {
    name: 'numemployees',
    label: 'Number of Employees',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'contactinformation',
    options: EMPLOYEE_RANGES,
  },
  { name: 'hubspot_owner_id', label: 'Contact owner', groupName: 'contactinformation', ...OWNER },
  {
    name: 'lifecyclestage',
    label: 'Lifecycle Stage',
    type: 'enumeration',
    fieldType: 'radio',
    groupName: 'contactinformation',
    options: LIFECYCLE_STAGES,
  },
  {
    name: 'hs_lead_status',
    label: 'Lead Status',
    type: 'enumeration',
    fieldType: 'radio',
    groupName: 'contactinformation',
    options: LEAD_STATUSES,
  },
  // Opt-out and deliverability flags: the properties an outreach agent must never flip back.
  {
    name: 'hs_email_optout',
    label: 'Unsubscribed from all email',
    type: 'bool',
    fieldType: 'booleancheckbox',
    groupName: 'emailinformation',
    options: BOOL_OPTIONS,
  },
  {
    name: 'hs_email_bad_address',
    label: 'Invalid email address',
    type: 'bool',
    fieldType: 'booleancheckbox',
    groupName: 'emailinformation',
    options: BOOL_OPTIONS,
  },
  // Set by HubSpot's email tool on a hard bounce (a reason such as UNKNOWN_USER): the stop rules read it.
  {
    name: 'hs_email_hard_bounce_reason_enum',
    label: 'Email hard bounce reason',
    type: 'string',
    fieldType: 'text',
    groupName: 'emailinformation',
    readOnlyValue: true,
  },
  // HubSpot's own quarantine, marketing-contact and consent properties: the example policy denies
  // them to every agent, and a policy naming a property a portal lacks is published with a warning.
  {
    name: 'hs_email_quarantined',
    label: 'Email address quarantined',
    type: 'bool',
    fieldType: 'booleancheckbox',
    groupName: 'emailinformation',
    options: BOOL_OPTIONS,
    readOnlyValue: true,
  },
  {
    name: 'hs_email_quarantined_reason',
    label: 'Email address quarantine reason',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'emailinformation',
    readOnlyValue: true,
  },
  {
    name: 'hs_marketable_status',
    label: 'Marketing contact status',
    type: 'enumeration',
    fieldType: 'booleancheckbox',
    groupName: 'contactinformation',
    options: [
      ['true', 'Marketing contact'],
      ['false', 'Non-marketing contact'],
    ],
  },
  {
    name: 'hs_legal_basis',
    label: "Legal basis for processing contact's data",
    type: 'enumeration',
    fieldType: 'checkbox',
    groupName: 'contactinformation',
    options: [
      ['Legitimate interest – prospect/lead', 'Legitimate interest – prospect/lead'],
      ['Legitimate interest – existing customer', 'Legitimate interest – existing customer'],
      ['Legitimate interest - other', 'Legitimate interest – other'],
      ['Performance of a contract', 'Performance of a contract'],
      ['Freely given consent from contact', 'Freely given consent from contact'],
      ['Not applicable', 'Not applicable'],
    ],
  },
  // The contact's primary company: the account a frequency cap per account counts under.
  {
    name: 'associatedcompanyid',
    label: 'Primary Associated Company ID',
    type: 'number',
    fieldType: 'number',
    groupName: 'contactinformation',
  },
];

const DEAL_SEEDS: Seed[] = [
  {
    name: 'hs_object_id',
    label: 'Record ID',
    type: 'number',
    fieldType: 'number',
    groupName: 'dealinformation',
    readOnlyValue: true,
    hasUniqueValue: true,
  },
  {
    name: 'createdate',
    label: 'Create Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'dealinformation',
    readOnlyValue: true,
  },
  {
    name: 'hs_lastmodifieddate',
    label: 'Last Modified Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'dealinformation',
    readOnlyValue: true,
  },
  { name: 'dealname', label: 'Deal Name', type: 'string', fieldType: 'text', groupName: 'dealinformation' },
  {
    name: 'dealstage',
    label: 'Deal Stage',
    type: 'enumeration',
    fieldType: 'radio',
    groupName: 'dealinformation',
    options: DEAL_STAGES,
  },
  {
    name: 'pipeline',
    label: 'Pipeline',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'dealinformation',
    options: [['default', 'Sales Pipeline']],
  },
  { name: 'amount', label: 'Amount', type: 'number', fieldType: 'number', groupName: 'dealinformation' },
  { name: 'closedate', label: 'Close Date', type: 'datetime', fieldType: 'date', groupName: 'dealinformation' },
  { name: 'hubspot_owner_id', label: 'Deal owner', groupName: 'dealinformation', ...OWNER },
];

export const DEFAULT_GROUPS = {
  contacts: [
    { name: 'contactinformation', label: 'Contact information' },
    { name: 'emailinformation', label: 'Email information' },
  ],
  deals: [{ name: 'dealinformation', label: 'Deal information' }],
} as const;

export const DEFAULT_PROPERTIES = { contacts: CONTACT_SEEDS, deals: DEAL_SEEDS } as const;

/** Names HubSpot returns when a read asks for no properties. */
export const DEFAULT_READ_PROPERTIES = {
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  deals: [
    'amount',
    'closedate',
    'createdate',
    'dealname',
    'dealstage',
    'hs_lastmodifieddate',
    'hs_object_id',
    'pipeline',
  ],
} as const;

export function buildDefinition(seed: Seed, displayOrder: number, at: number): FakePropertyDefinition {
  return {
    name: seed.name,
    label: seed.label,
    type: seed.type,
    fieldType: seed.fieldType,
    groupName: seed.groupName,
    description: seed.description ?? '',
    options: (seed.options ?? []).map(([value, label], index) => ({
      value,
      label,
      displayOrder: index,
      hidden: false,
    })),
    displayOrder,
    hubspotDefined: true,
    readOnlyValue: seed.readOnlyValue ?? false,
    externalOptions: seed.externalOptions ?? false,
    hasUniqueValue: seed.hasUniqueValue ?? false,
    createdAt: at,
    updatedAt: at,
  };
}
