import { z } from 'zod';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { DraftTextLimits } from '../../domain/draft-text-limits.ts';
import { AppError } from '../../errors.ts';
import type { CrmPort } from '../port.ts';
import type { SfRequester } from './bulk.ts';
import { sObjectOf } from './names.ts';

/** Task.Priority's standard picklist values for ours. */
const PRIORITY = { LOW: 'Low', MEDIUM: 'Normal', HIGH: 'High' } as const;
/**
 * What Task.Subject (255), Task.Description and Note.Body (long text areas of 32,000) hold; a longer
 * value is refused as STRING_TOO_LONG when the record is made. An email is sent by the agent, not kept here.
 */
export const SALESFORCE_DRAFT_TEXT_LIMITS: DraftTextLimits = {
  create_task: { subject: 255, body: 32_000 },
  create_note: { body: 32_000 },
};
/** Note.Title holds 80 characters. */
const NOTE_TITLE_LENGTH = 80;

const createdSchema = z
  .array(
    z.object({
      id: z.string().nullable(),
      success: z.boolean(),
      errors: z.array(z.object({ statusCode: z.string(), message: z.string() })),
    }),
  )
  .length(1);

/**
 * Drafts' tasks and notes on a record (issue 20): a `Task` linked by WhoId (a contact or lead) or
 * WhatId (an opportunity), and a `Note` (the sObject with ParentId, Title, Body: one record, made
 * in one call, where a ContentNote needs a second record to link it and could be left unlinked
 * between the two). Plain text both: Description and Body are text areas, not HTML.
 */
export function activityMethods(call: SfRequester): Pick<CrmPort, 'createNote' | 'createTask'> {
  return {
    async createTask({ objectType, recordId, subject, body, dueAt, priority }) {
      const fields: Record<string, string> = {
        [sObjectOf(objectType) === 'Opportunity' ? 'WhatId' : 'WhoId']: recordId,
        Subject: subject,
        Status: 'Not Started',
        // A due date, no time: Salesforce keeps it as midnight UTC, so the UTC day is the one meant.
        ActivityDate: dueAt.toISOString().slice(0, 10),
      };
      if (body !== undefined) fields['Description'] = body;
      if (priority !== undefined) fields['Priority'] = PRIORITY[priority];
      return createOnce(call, 'Task', fields, { objectType, recordId });
    },
    async createNote({ objectType, recordId, body }) {
      return createOnce(
        call,
        'Note',
        { ParentId: recordId, Title: noteTitle(body), Body: body },
        { objectType, recordId },
      );
    },
  };
}

/** The note's first line, cut to what Title holds. */
function noteTitle(body: string): string {
  const line = body.trim().split('\n')[0]?.trim() || 'Note';
  return line.length <= NOTE_TITLE_LENGTH ? line : `${line.slice(0, NOTE_TITLE_LENGTH - 1)}…`;
}

/**
 * One record through sObject Collections create (`allOrNone` false: the record's own result, with
 * its `statusCode`, comes back). Not idempotent: jsforce never repeats a POST, and after an unclear
 * failure the record may exist, so the failure is reported and never tried again. (An expired
 * session is renewed and the call repeated once: a 401 means nothing was made.)
 */
async function createOnce(
  call: SfRequester,
  sObject: 'Task' | 'Note',
  fields: Record<string, string>,
  on: { objectType: ObjectType; recordId: string },
): Promise<{ id: string }> {
  const what = `create a ${sObject} on ${sObjectOf(on.objectType)} ${on.recordId}`;
  let answer: unknown;
  try {
    answer = await call(what, (conn) =>
      conn.requestPost('/composite/sobjects', {
        allOrNone: false,
        records: [{ attributes: { type: sObject }, ...fields }],
      }),
    );
  } catch (error) {
    if (error instanceof AppError && error.code === 'CRM_UNAVAILABLE')
      throw new AppError('CRM_UNAVAILABLE', `${error.message} It may have been made, so it is not sent again.`, {
        cause: error,
      });
    throw error;
  }
  const parsed = createdSchema.safeParse(answer);
  if (!parsed.success)
    throw new AppError('CRM_UNAVAILABLE', `Salesforce answered ${what} in an unexpected shape; it is not sent again.`);
  const [result] = parsed.data;
  if (result?.success && result.id) return { id: result.id };
  const first = result?.errors[0];
  throw new AppError(
    'CRM_REJECTED',
    `Salesforce refused to ${what}: ${result?.errors.map((e) => `${e.statusCode}: ${e.message}`).join('; ') || 'no reason given'}`,
    { details: { salesforceCode: first?.statusCode ?? null } },
  );
}
