import type { Connection } from '@jsforce/jsforce-node';
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
 * What Task.Subject (255) and Task.Description (a long text area of 32,000) hold; a longer value is
 * refused as STRING_TOO_LONG when the record is made. A note has no such bound: a ContentNote's
 * content is a file, and a JSON request carries up to 37.5 MB of base64, where the longest note we
 * write (an email of 100,000 characters logged with its delivery, every character escaped) is under
 * 1 MB. An email is sent by the agent, not kept here.
 */
export const SALESFORCE_DRAFT_TEXT_LIMITS: DraftTextLimits = {
  create_task: { subject: 255, body: 32_000 },
};
/** ContentNote.Title holds 255 characters. */
const NOTE_TITLE_LENGTH = 255;

const createdSchema = z
  .array(
    z.object({
      id: z.string().nullable(),
      success: z.boolean(),
      errors: z.array(z.object({ statusCode: z.string(), message: z.string() })),
    }),
  )
  .length(1);

const subrequestErrorsSchema = z.array(z.object({ errorCode: z.string(), message: z.string() }));
const compositeSchema = z.object({
  compositeResponse: z
    .array(z.object({ referenceId: z.string(), httpStatusCode: z.number(), body: z.unknown() }))
    .length(2),
});
/** What a subrequest rolled back for another's refusal says; the other names the reason. */
const HALTED = 'PROCESSING_HALTED';

/**
 * Drafts' tasks and notes on a record (issue 20): a `Task` linked by WhoId (a contact or lead) or
 * WhatId (an opportunity), made by one sObject Collections create; a note as an enhanced note, the
 * `ContentNote` Lightning shows in the record's Notes list, linked to the record by a
 * `ContentDocumentLink`, both made by one composite request (one API call) with `allOrNone`, so a
 * note is never left linked to nothing. A task's Description is plain text; a note's Content is
 * HTML, so its text is escaped.
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
      return createTaskOnce(call, fields, { objectType, recordId });
    },
    async createNote({ objectType, recordId, body }) {
      return createLinkedNote(call, { Title: noteTitle(body), Content: noteContent(body) }, { objectType, recordId });
    },
  };
}

/** The note's first line, cut to what Title holds. */
function noteTitle(body: string): string {
  const line = body.trim().split('\n')[0]?.trim() || 'Note';
  return line.length <= NOTE_TITLE_LENGTH ? line : `${line.slice(0, NOTE_TITLE_LENGTH - 1)}…`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * A note's Content: its plain text as HTML, base64 of UTF-8. Salesforce strips unsafe markup and raw
 * newlines from it, so the five markup characters are escaped (the apostrophe as `&#39;`) and each
 * line break is a `<br>`; control characters but the tab, which HTML cannot carry, become U+FFFD.
 * Every other character goes as it is, in UTF-8.
 */
function noteContent(body: string): string {
  const html = body
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c).replace(/(?!\t)\p{Cc}/gu, '\ufffd'))
    .join('<br>');
  return Buffer.from(html, 'utf8').toString('base64');
}

/**
 * One request whose records may be made even when it fails unclearly. Not idempotent: jsforce never
 * repeats a POST, and after an unclear failure the records may exist, so the failure is reported and
 * never tried again, nor is an answer of an unexpected shape. (An expired session is renewed and the
 * call repeated once: a 401 means nothing was made.)
 */
async function sendOnce<T>(
  call: SfRequester,
  what: string,
  answerSchema: z.ZodType<T>,
  request: (conn: Connection) => Promise<unknown>,
): Promise<T> {
  let answer: unknown;
  try {
    answer = await call(what, request);
  } catch (error) {
    if (error instanceof AppError && error.code === 'CRM_UNAVAILABLE')
      throw new AppError('CRM_UNAVAILABLE', `${error.message} It may have been made, so it is not sent again.`, {
        cause: error,
      });
    throw error;
  }
  const parsed = answerSchema.safeParse(answer);
  if (!parsed.success)
    throw new AppError('CRM_UNAVAILABLE', `Salesforce answered ${what} in an unexpected shape; it is not sent again.`);
  return parsed.data;
}

function refusedError(what: string, errors: { code: string; message: string }[]): AppError {
  return new AppError(
    'CRM_REJECTED',
    `Salesforce refused to ${what}: ${errors.map((e) => `${e.code}: ${e.message}`).join('; ') || 'no reason given'}`,
    { details: { salesforceCode: errors[0]?.code ?? null } },
  );
}

/** One Task through sObject Collections create (`allOrNone` false: the record's own result, with its `statusCode`, comes back). */
async function createTaskOnce(
  call: SfRequester,
  fields: Record<string, string>,
  on: { objectType: ObjectType; recordId: string },
): Promise<{ id: string }> {
  const what = `create a Task on ${sObjectOf(on.objectType)} ${on.recordId}`;
  const [result] = await sendOnce(call, what, createdSchema, (conn) =>
    conn.requestPost('/composite/sobjects', {
      allOrNone: false,
      records: [{ attributes: { type: 'Task' }, ...fields }],
    }),
  );
  if (result?.success && result.id) return { id: result.id };
  throw refusedError(
    what,
    (result?.errors ?? []).map((e) => ({ code: e.statusCode, message: e.message })),
  );
}

/**
 * A ContentNote and the ContentDocumentLink sharing it with the record (ShareType `V`: whoever sees
 * the record reads the note as it was approved; Visibility `AllUsers`), in one composite request
 * with `allOrNone`: a refusal of either (a record the org no longer has) makes neither, and the
 * refusal's errorCode comes back. The note's id (its ContentDocument's) is the one returned.
 */
async function createLinkedNote(
  call: SfRequester,
  note: { Title: string; Content: string },
  on: { objectType: ObjectType; recordId: string },
): Promise<{ id: string }> {
  const what = `create a ContentNote on ${sObjectOf(on.objectType)} ${on.recordId}`;
  const { compositeResponse } = await sendOnce(call, what, compositeSchema, (conn) =>
    conn.requestPost('/composite', {
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: `/services/data/v${conn.version}/sobjects/ContentNote`,
          referenceId: 'note',
          body: note,
        },
        {
          method: 'POST',
          url: `/services/data/v${conn.version}/sobjects/ContentDocumentLink`,
          referenceId: 'link',
          body: {
            ContentDocumentId: '@{note.id}',
            LinkedEntityId: on.recordId,
            ShareType: 'V',
            Visibility: 'AllUsers',
          },
        },
      ],
    }),
  );
  const [made, linked] = compositeResponse;
  const id = z.object({ id: z.string() }).safeParse(made?.body).data?.id;
  if (id && made && linked && isCreated(made.httpStatusCode) && isCreated(linked.httpStatusCode)) return { id };
  const errors = compositeResponse.flatMap(
    (sub) =>
      subrequestErrorsSchema.safeParse(sub.body).data?.map((e) => ({ code: e.errorCode, message: e.message })) ?? [],
  );
  const reasons = errors.filter((e) => e.code !== HALTED);
  throw refusedError(what, reasons.length > 0 ? reasons : errors);
}

const isCreated = (status: number) => status >= 200 && status < 300;
