import { storedValue, tooLongFor } from './record-updates.ts';
import { canSee, type SalesforceSandboxState } from './state.ts';

type SaveError = { statusCode: string; message: string; fields: string[] };

export type CreatePlan =
  | { ok: true; type: string; values: Record<string, string | null> }
  | { ok: false; error: SaveError };

/**
 * One record's create checked as Salesforce checks it, before anything is made: its type, each
 * field visible, text within its length, required fields given, and each lookup naming a record of
 * one of its objects that exists (the errors Salesforce answers per record: INVALID_FIELD,
 * STRING_TOO_LONG, REQUIRED_FIELD_MISSING, FIELD_INTEGRITY_EXCEPTION, INVALID_CROSS_REFERENCE_KEY).
 * A refusal planted for a record (`rejectRecords`) refuses a create that points at it.
 */
export function planCreate(state: SalesforceSandboxState, input: Record<string, unknown>): CreatePlan {
  const type = (input['attributes'] as { type?: string } | undefined)?.type ?? '';
  const fail = (statusCode: string, message: string, fields: string[] = []): CreatePlan => ({
    ok: false,
    error: { statusCode, message, fields },
  });
  const target = state.objects.get(type);
  if (!target) return fail('INVALID_TYPE', `sObject type '${type}' is not supported.`);
  const values: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(input)) {
    if (name === 'attributes') continue;
    const field = target.fields.get(name);
    if (!field || name === 'Id' || !canSee(state, type, field))
      return fail('INVALID_FIELD', `No such column '${name}' on sobject of type ${type}`, [name]);
    const stored = field.type === 'base64' ? keptContent(storedValue(field, value)) : storedValue(field, value);
    const tooLong = tooLongFor(field, stored);
    if (tooLong) return fail('STRING_TOO_LONG', tooLong, [name]);
    if (stored !== null && field.referenceTo) {
      const refused = state.faults.rejectRecords.get(stored);
      if (refused) return fail(refused.statusCode, refused.message, [name]);
      const referenced = field.referenceTo.map((object) => state.objects.get(object));
      const of = referenced.find((object) => object && stored.startsWith(object.keyPrefix));
      if (!of)
        return fail('FIELD_INTEGRITY_EXCEPTION', `${field.label}: id value of incorrect type: ${stored}`, [name]);
      if (!of.records.has(stored)) return fail('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [name]);
    }
    values[name] = stored;
  }
  const missing = [...target.fields.values()].filter((field) => field.required && values[field.name] == null);
  if (missing.length > 0)
    return fail(
      'REQUIRED_FIELD_MISSING',
      `Required fields are missing: [${missing.map((field) => field.name).join(', ')}]`,
      missing.map((field) => field.name),
    );
  return { ok: true, type, values };
}

/** Tags a note's HTML keeps; `script` and `style` go with their text, any other tag alone. */
const KEPT_TAGS = new Set(['p', 'br', 'b', 'strong', 'i', 'em', 'u', 's', 'ul', 'ol', 'li']);

/**
 * What Salesforce keeps of a ContentNote's `Content` (base64 of HTML): it strips unsafe markup and
 * raw newlines before saving (object reference, ContentNote), so plain text sent unescaped loses its
 * line breaks and anything that looks like a tag, as in the org.
 */
function keptContent(base64: string | null): string | null {
  if (base64 === null) return null;
  const html = Buffer.from(base64, 'base64')
    .toString('utf8')
    .replace(/[\r\n]/g, '')
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<\/?([A-Za-z][\w-]*)[^>]*>/g, (tag, name: string) => (KEPT_TAGS.has(name.toLowerCase()) ? tag : ''));
  return Buffer.from(html, 'utf8').toString('base64');
}
