import type { Client } from '@hubspot/api-client';
import { z } from 'zod';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { CrmPort } from '../port.ts';
import { ofHubSpotObject } from './records.ts';
import { parseResponse } from './responses.ts';
import type { Paced } from './pacing.ts';
import { withRetry, type RetryDeps } from './retry.ts';

type NoteCreate = Parameters<Client['crm']['objects']['notes']['basicApi']['create']>[0];
type TaskCreate = Parameters<Client['crm']['objects']['tasks']['basicApi']['create']>[0];
type AssociationCategory = NonNullable<NoteCreate['associations']>[number]['types'][number]['associationCategory'];

export interface EngagementApis {
  createNote(input: NoteCreate): Promise<unknown>;
  createTask(input: TaskCreate): Promise<unknown>;
}

export function engagementApis(client: Client, paced: Paced): EngagementApis {
  const notes = client.crm.objects.notes.basicApi;
  const tasks = client.crm.objects.tasks.basicApi;
  return { createNote: paced(notes.create.bind(notes)), createTask: paced(tasks.create.bind(tasks)) };
}

/** HubSpot-defined association type ids, from its associations v4 reference: note → contact 202, note → deal 214, task → contact 204, task → deal 216. */
const NOTE_ASSOCIATION: Partial<Record<ObjectType, number>> = { contacts: 202, deals: 214 };
const TASK_ASSOCIATION: Partial<Record<ObjectType, number>> = { contacts: 204, deals: 216 };
const HUBSPOT_DEFINED: string = 'HUBSPOT_DEFINED';

const createdSchema = z.object({ id: z.string() });

/**
 * Notes and tasks on a record's timeline (issue 5, drafts). A create is not idempotent: after a
 * 5xx or a dropped connection HubSpot may have made the object, so it is tried once and the
 * failure reported rather than risking a second note on the timeline.
 */
export function engagementMethods(apis: EngagementApis, retry: RetryDeps): Pick<CrmPort, 'createNote' | 'createTask'> {
  const once: RetryDeps = { ...retry, policy: { ...retry.policy, maxAttempts: 1 } };
  const association = (recordId: string, typeId: number) => [
    {
      to: { id: recordId },
      types: [{ associationCategory: HUBSPOT_DEFINED as AssociationCategory, associationTypeId: typeId }],
    },
  ];
  return {
    async createNote({ objectType, recordId, body, timestamp }) {
      const answer = await withRetry(
        `log a note on ${objectType} ${recordId}`,
        () =>
          apis.createNote({
            properties: { hs_timestamp: timestamp.toISOString(), hs_note_body: noteHtml(body) },
            associations: association(recordId, ofHubSpotObject(NOTE_ASSOCIATION, objectType)),
          }),
        once,
      );
      return { id: parseResponse(createdSchema, answer, 'POST notes').id };
    },
    async createTask({ objectType, recordId, subject, body, dueAt, priority }) {
      const properties: Record<string, string> = {
        hs_timestamp: dueAt.toISOString(),
        hs_task_subject: subject,
        hs_task_status: 'NOT_STARTED',
      };
      if (body !== undefined) properties['hs_task_body'] = noteHtml(body);
      if (priority !== undefined) properties['hs_task_priority'] = priority;
      const answer = await withRetry(
        `create a task on ${objectType} ${recordId}`,
        () =>
          apis.createTask({
            properties,
            associations: association(recordId, ofHubSpotObject(TASK_ASSOCIATION, objectType)),
          }),
        once,
      );
      return { id: parseResponse(createdSchema, answer, 'POST tasks').id };
    },
  };
}

/** HubSpot renders note and task bodies as HTML: our text is escaped so an agent cannot inject markup or links. */
export function noteHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll('\n', '<br>');
}
