import { CRM_DISPLAY_NAMES, type ActionKind } from '../../../../shared/crm-names.ts';
import type { CrmPort } from '../../crm/port.ts';
import { draftTextOverflow, type DraftTextField } from '../../domain/draft-text-limits.ts';
import { AppError } from '../../errors.ts';

const KIND_NAMES: Record<ActionKind, string> = {
  field_write: 'field write',
  send_email: 'email',
  create_task: 'task',
  create_note: 'note',
};

/**
 * Refuses (400 VALIDATION_FAILED, the field named) a draft text longer than the CRM of its record
 * keeps, before anything is stored: the CRM would refuse it only when it is made, after approval.
 */
export function assertDraftTextFits(
  crm: CrmPort,
  kind: ActionKind,
  texts: Partial<Record<DraftTextField, string | undefined>>,
): void {
  const over = draftTextOverflow(crm.draftTextLimits, kind, texts);
  if (!over) return;
  const where = CRM_DISPLAY_NAMES[crm.vendor];
  const message = `holds at most ${over.limit.toLocaleString('en-US')} characters in ${where}; this has ${over.length.toLocaleString('en-US')}`;
  throw new AppError(
    'VALIDATION_FAILED',
    `The ${KIND_NAMES[kind]}'s ${over.field} ${message} (an emoji counts as two).`,
    { details: { issues: [{ path: over.field, message }] } },
  );
}
