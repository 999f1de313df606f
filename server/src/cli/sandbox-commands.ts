import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { PersonEdit } from '../sandbox/control-routes.ts';
import type { CommandOutput } from './command-kit.ts';
import { requireOption, type CommandContext, type CommandSpec } from './parse.ts';

/**
 * Commands that drive the local HubSpot sandbox. They speak HTTP to it and never open the
 * database, so they work while the server holds the PGlite data folder.
 */
export const SANDBOX_COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'sandbox edit',
    summary: 'Edits a field in the local HubSpot sandbox as a person in HubSpot’s UI would.',
    usage:
      'sandbox edit --object contacts|deals --id RECORD_ID --property NAME --value VALUE [--as-user USER_ID] [--sandbox-url URL] [--json]',
    options: {
      object: { type: 'string' },
      id: { type: 'string' },
      property: { type: 'string' },
      value: { type: 'string' },
      'as-user': { type: 'string' },
      'sandbox-url': { type: 'string' },
    },
    run: async (context) => {
      const objectType = z.enum(['contacts', 'deals']).safeParse(requireOption(context, 'object'));
      if (!objectType.success) throw new AppError('VALIDATION_FAILED', '--object must be contacts or deals.');
      const value = context.values.value;
      if (typeof value !== 'string')
        throw new AppError('VALIDATION_FAILED', '--value is required (give --value "" to clear the field).');
      const { DEFAULT_PERSON_USER_ID } = await import('../sandbox/control-routes.ts');
      const userId = Number(context.values['as-user'] ?? DEFAULT_PERSON_USER_ID);
      if (!Number.isInteger(userId) || userId <= 0)
        throw new AppError('VALIDATION_FAILED', '--as-user must be a HubSpot user id (a positive whole number).');
      const edit: PersonEdit = {
        objectType: objectType.data,
        recordId: requireOption(context, 'id'),
        property: requireOption(context, 'property'),
        value,
        userId,
      };
      const result = await postEdit(sandboxUrl(context), edit);
      return {
        kind: 'result',
        value: result,
        human: `${edit.objectType} ${edit.recordId}: ${edit.property} is now ${JSON.stringify(result.value)}, changed by user ${userId} as in HubSpot's UI (history CRM_UI).`,
      };
    },
  },
];

function sandboxUrl(context: CommandContext): string {
  const given = context.values['sandbox-url'];
  return (typeof given === 'string' && given !== '' ? given : `http://127.0.0.1:${context.config.sandboxPort}`).replace(
    /\/+$/,
    '',
  );
}

async function postEdit(baseUrl: string, edit: PersonEdit): Promise<{ value: string } & Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/_sandbox/edit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(edit),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw new AppError(
      'CRM_UNAVAILABLE',
      `No HubSpot sandbox answers at ${baseUrl}. The sandbox runs inside the server in demo mode (npm start, while no HubSpot account is connected) or on its own (npm run sandbox); start one, or give --sandbox-url where it listens.`,
      { cause },
    );
  }
  const body = (await response.json().catch(() => ({}))) as { message?: string } & Record<string, unknown>;
  if (response.ok) return body as { value: string } & Record<string, unknown>;
  const message = body.message ?? `The sandbox answered ${response.status}.`;
  if (response.status === 404)
    throw new AppError('NOT_FOUND', `The sandbox has no ${edit.objectType} record ${edit.recordId}.`);
  if (message.includes('PROPERTY_DOESNT_EXIST'))
    throw new AppError('UNKNOWN_PROPERTY', `The sandbox has no ${edit.objectType} property ${edit.property}.`, {
      details: { sandbox: message },
    });
  if (response.status === 400) throw new AppError('INVALID_PROPERTY_VALUE', message);
  throw new AppError('CRM_UNAVAILABLE', message);
}
