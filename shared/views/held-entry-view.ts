import type { PendingRecordEntry } from '../extension-api.ts';
import { visibleText } from './display-text.ts';
import { confidenceLabel, showValue } from './proposal-view.ts';

/**
 * How a held record creation or association (issue 21) reads to a person: pure, so the HubSpot
 * card and the web console show the same words. Never imports React or the HubSpot SDK.
 */

const NOUNS: Record<string, string> = { contacts: 'contact', companies: 'company', deals: 'deal' };

/** "contact", "company", "deal"; another object type by its own name. */
function noun(objectType: string): string {
  return NOUNS[objectType] ?? objectType;
}

/** What approving would do, in one sentence: the link to make, or the record to create with its values. */
export function heldEntrySentence(entry: PendingRecordEntry): string {
  const held = entry.approval;
  if (held.kind === 'association')
    return `Link ${noun(held.objectType)} ${held.recordId} with ${noun(held.toObjectType)} ${held.toRecordId}`;
  const values = Object.entries(held.properties)
    .map(([property, value]) => `${property} ${showValue(value).text}`)
    .join(', ');
  const duplicate = held.duplicateOf ? ` (likely the same as ${noun(held.objectType)} ${held.duplicateOf})` : '';
  return `Create a ${noun(held.objectType)}: ${values}${duplicate}`;
}

/** Who asks and why, how many must approve, and until when: "prospector · apollo, 90% confident · On the team page · two people must approve (approved by 501) · expires 2026-01-10 15:00 UTC". */
export function heldEntryWhy(entry: PendingRecordEntry): string {
  const held = entry.approval;
  const source = [held.evidence.source, confidenceLabel(held.evidence)].filter(Boolean).join(', ');
  const approvers =
    held.tier === 'two_person'
      ? `two people must approve${held.approvedBy.length > 0 ? ` (approved by ${held.approvedBy.join(', ')})` : ''}`
      : 'one person must approve';
  const expires = `expires ${held.expiresAt.slice(0, 16).replace('T', ' ')} UTC`;
  return visibleText([entry.agent.name, source, held.evidence.reason, approvers, expires].filter(Boolean).join(' · '));
}
