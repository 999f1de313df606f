import type { CrmPort, CrmPropertyDefinition } from '../../crm/port.ts';
import { SHADOW_PREFIX } from '../../domain/approval-mirror.ts';
import { NEEDS_REVIEW_PROPERTY, PROVENANCE_PROPERTIES } from '../common/index.ts';
import { DO_NOT_CONTACT_DEFINITION, PENDING_COUNT_DEFINITION } from './approval-crm-schema.ts';

/**
 * The properties bootstrap creates on an object type of a connected CRM, shadows aside: provenance,
 * the review mark, the pending-approvals count and, on the contacts a draft is sent to, the
 * do-not-contact switch (each connected CRM's: an email may go to a portal's contact or an org's).
 */
export function appPropertiesOf(crm: CrmPort, objectType: string): CrmPropertyDefinition[] {
  const contactOnly = objectType === crm.forObject(objectType).contactObjectType ? [DO_NOT_CONTACT_DEFINITION] : [];
  return [...PROVENANCE_PROPERTIES, NEEDS_REVIEW_PROPERTY, PENDING_COUNT_DEFINITION, ...contactOnly];
}

/** Whether bootstrap makes this property itself (its own, or the proposed-value shadow of a held one). */
export function isAppProperty(crm: CrmPort, objectType: string, name: string): boolean {
  return name.startsWith(SHADOW_PREFIX) || appPropertiesOf(crm, objectType).some((property) => property.name === name);
}
