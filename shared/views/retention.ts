import type { RetentionPeriodsInput, RetentionView } from '../retention-api.ts';

/** The retention periods as the console and the HubSpot settings page show them (issue 21; docs/retention.md). */

export type RetentionPeriod = keyof RetentionPeriodsInput;

export const RETENTION_PERIODS: { field: RetentionPeriod; label: string }[] = [
  { field: 'changeRecordsDays', label: 'Change records of settled changes' },
  { field: 'draftsDays', label: 'Settled drafts' },
  { field: 'webhookPayloadsDays', label: 'CRM change events and field history' },
  { field: 'auditPersonalDataDays', label: 'Personal values in the audit log' },
];

export const RETENTION_NOTE =
  'Older data is deleted by the daily retention job; a blank period keeps it for ever. Audit events stay and show "[redacted]" where personal values were.';

export const RETENTION_SAVED = 'Saved: the retention job applies it from its next run.';

/** Each period as a field's text: its days, or blank for ever. */
export function retentionTexts(periods: RetentionPeriodsInput): Record<RetentionPeriod, string> {
  return Object.fromEntries(
    RETENTION_PERIODS.map(({ field }) => [field, periods[field] === null ? '' : String(periods[field])]),
  ) as Record<RetentionPeriod, string>;
}

/**
 * The fields' texts as periods: blank is null (for ever), a number its days. Text that is no
 * number is said here, since sending it would turn into null; the server's schema checks the rest.
 */
export function retentionFromTexts(
  texts: Record<RetentionPeriod, string>,
): { ok: true; periods: Record<RetentionPeriod, number | null> } | { ok: false; message: string } {
  const periods = {} as Record<RetentionPeriod, number | null>;
  for (const { field, label } of RETENTION_PERIODS) {
    const text = texts[field].trim();
    if (text !== '' && !Number.isFinite(Number(text)))
      return { ok: false, message: `${label}: write a number of days, or leave it blank to keep it for ever.` };
    periods[field] = text === '' ? null : Number(text);
  }
  return { ok: true, periods };
}

/** When the retention job runs next, or since when it is running. */
export function retentionRunText(view: RetentionView): string {
  if (view.running) return `Running since ${new Date(view.running.startedAt).toLocaleString()}.`;
  return `Next run: ${view.nextRunAt ? new Date(view.nextRunAt).toLocaleString() : 'once a period is set'}.`;
}
