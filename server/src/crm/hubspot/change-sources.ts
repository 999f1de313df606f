import type { ChangeSource, ContactFields } from '../../../../shared/crm-names.ts';
import type { ReportedChange } from '../port.ts';

/**
 * HubSpot's "Unsubscribed from all email" checkbox, and where it keeps a contact's addresses: the
 * primary one, and the others separated by ";".
 */
export const HUBSPOT_CONTACT_FIELDS: ContactFields = {
  optOut: 'hs_email_optout',
  emails: ['email', 'hs_additional_emails'],
  // Set by HubSpot's email tool on a hard bounce; its primary company's id is a contact property too.
  hardBounce: 'hs_email_hard_bounce_reason_enum',
  account: 'associatedcompanyid',
};

// HubSpot's change sources (knowledge.hubspot.com, "HubSpot's change sources in property history").
const PERSON_SOURCES = new Set([
  'CRM_UI',
  'CRM_UI_BULK_ACTION',
  'MOBILE_IOS',
  'MOBILE_ANDROID',
  'SALES',
  'EMAIL',
  'FORM',
  'MEETINGS',
  'CONVERSATIONS',
]);
const WORKFLOW_SOURCES = new Set(['WORKFLOW', 'AUTOMATION_PLATFORM', 'AUTOMATION', 'SEQUENCES']);
const IMPORT_SOURCES = new Set(['IMPORT']);
const INTEGRATION_SOURCES = new Set(['API', 'INTEGRATION', 'INTEGRATIONS_PLATFORM', 'BATCH_UPDATE', 'APP', 'CRM_API']);

/** Who made a change, from HubSpot's `changeSource` (webhooks) or `sourceType` (history) and `sourceId`. */
export function hubspotChangeSource({ changeSource, sourceId, appId }: ReportedChange): ChangeSource {
  // HubSpot names an app's API writes by its app id.
  if (appId !== null && sourceId !== null && stripPrefix(sourceId) === appId) return 'our_app';
  const source = (changeSource ?? '').toUpperCase();
  if (PERSON_SOURCES.has(source) || sourceId?.startsWith(USER_PREFIX)) return 'person';
  if (WORKFLOW_SOURCES.has(source)) return 'workflow';
  if (IMPORT_SOURCES.has(source)) return 'import';
  if (INTEGRATION_SOURCES.has(source)) return 'integration';
  return 'crm';
}

const USER_PREFIX = 'userId:';

/** The user a `userId:123` source id names: a person's edit. */
export function userOfSourceId(sourceId: string | null): string | null {
  return sourceId?.startsWith(USER_PREFIX) ? sourceId.slice(USER_PREFIX.length) : null;
}

// HubSpot writes an app's source id as the bare id in webhooks and sometimes as "appId:123" in history.
function stripPrefix(sourceId: string): string {
  const colon = sourceId.indexOf(':');
  return colon === -1 ? sourceId : sourceId.slice(colon + 1);
}
