import { canSee, type SalesforceSandboxState, type SandboxField } from './state.ts';

/** A stored value (our sandbox keeps strings) from Salesforce's JSON or a CSV cell. */
export function storedValue(field: SandboxField, value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (field.type === 'boolean') return value === true || value === 'true' ? 'true' : 'false';
  return String(value);
}

export type UpdatePlan =
  | { ok: true; id: string; type: string; values: Record<string, string | null> }
  | { ok: false; id: string | null; error: { statusCode: string; message: string; fields: string[] } };

/** One record's update checked as Salesforce checks it, before anything is written: sObject Collections and Bulk jobs alike. */
export function planUpdate(state: SalesforceSandboxState, input: Record<string, unknown>): UpdatePlan {
  const id = typeof input['id'] === 'string' ? input['id'] : typeof input['Id'] === 'string' ? input['Id'] : null;
  const type = (input['attributes'] as { type?: string } | undefined)?.type ?? '';
  const fail = (statusCode: string, message: string, fields: string[] = []): UpdatePlan => ({
    ok: false,
    id,
    error: { statusCode, message, fields },
  });
  const target = state.objects.get(type);
  if (!target) return fail('INVALID_TYPE', `sObject type '${type}' is not supported.`);
  if (id === null || !id.startsWith(target.keyPrefix))
    return fail('MALFORMED_ID', `${type} ID: id value of incorrect type: ${id}`);
  if (!target.records.has(id)) return fail('ENTITY_IS_DELETED', 'entity is deleted');
  const refused = state.faults.rejectRecords.get(id);
  if (refused) return fail(refused.statusCode, refused.message);
  const values: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(input)) {
    if (name === 'attributes' || name === 'id' || name === 'Id') continue;
    const field = target.fields.get(name);
    if (!field || !canSee(state, type, field))
      return fail('INVALID_FIELD', `No such column '${name}' on sobject of type ${type}`, [name]);
    if (!field.updateable)
      return fail(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        [name],
      );
    const stored = storedValue(field, value);
    const tooLong = tooLongFor(field, stored);
    if (tooLong) return fail('STRING_TOO_LONG', tooLong, [name]);
    values[name] = stored;
  }
  return { ok: true, id, type, values };
}

/** Salesforce's message when a text is longer than its field keeps, or undefined when it fits. */
export function tooLongFor(field: SandboxField, stored: string | null): string | undefined {
  if (stored === null || field.length === undefined || stored.length <= field.length) return undefined;
  return `${field.label}: data value too large: ${stored.slice(0, 40)}... (max length=${field.length})`;
}
