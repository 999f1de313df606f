import type { ActionKind } from '../../../shared/crm-names.ts';

/** The draft fields whose text a CRM keeps in a field of bounded length. */
export type DraftTextField = 'subject' | 'body';

/** Per action kind, the most characters each draft field may hold in a CRM; a kind or field absent has no limit beyond the schema's. */
export type DraftTextLimits = Partial<Record<ActionKind, Partial<Record<DraftTextField, number>>>>;

export interface DraftTextOverflow {
  field: DraftTextField;
  limit: number;
  length: number;
}

/**
 * The first of a draft's texts longer than its CRM keeps, or undefined. Length is JS string length,
 * UTF-16 code units, not code points: Salesforce's String class and formulas count a surrogate pair
 * (an emoji, a rare kanji) as two characters (Salesforce Help 005166849), so counting code points
 * would let through a text the org then refuses as STRING_TOO_LONG; counting units never does.
 */
export function draftTextOverflow(
  limits: DraftTextLimits | undefined,
  kind: ActionKind,
  texts: Partial<Record<DraftTextField, string | undefined>>,
): DraftTextOverflow | undefined {
  const ofKind = limits?.[kind];
  if (!ofKind) return undefined;
  for (const field of ['subject', 'body'] as const) {
    const limit = ofKind[field];
    const length = texts[field]?.length;
    if (limit !== undefined && length !== undefined && length > limit) return { field, limit, length };
  }
  return undefined;
}
