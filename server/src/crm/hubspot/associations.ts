import type { Client } from '@hubspot/api-client';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { CrmAssociateOutcome, CrmAssociationPair, CrmPort } from '../port.ts';
import type { Paced } from './pacing.ts';
import { assertBatchSize } from './records.ts';
import { parseResponse } from './responses.ts';
import { withRetry, type RetryDeps } from './retry.ts';

type BatchApi = Client['crm']['associations']['v4']['batchApi'];

export interface AssociationApis {
  read: BatchApi['getPage'];
  associate: BatchApi['createDefault'];
  archive: BatchApi['archive'];
}

export function associationApis(client: Client, paced: Paced): AssociationApis {
  const batch = client.crm.associations.v4.batchApi;
  return {
    read: paced(batch.getPage.bind(batch)),
    associate: paced(batch.createDefault.bind(batch)),
    archive: paced(batch.archive.bind(batch)),
  };
}

// A record with no link of the asked type is an error of the 207, not a result: it has none.
const readSchema = z.object({
  results: z.array(
    z.object({
      _from: z.object({ id: z.coerce.string() }),
      to: z.array(z.object({ toObjectId: z.coerce.string() })),
    }),
  ),
});

/** HubSpot's names for the object types in an association error's context. */
const ERROR_NAMES: Record<string, string> = { contacts: 'CONTACT', companies: 'COMPANY', deals: 'DEAL' };

/**
 * Governed associations (issue 21) over the v4 batch API with HubSpot's default association type.
 * HubSpot refuses a whole batch that names a record it does not have, listing the invalid ids
 * in the error's context: those pairs fail, and the rest are sent once more.
 */
export function associationMethods(apis: AssociationApis, retry: RetryDeps): Pick<CrmPort, 'associations'> {
  return {
    associations: {
      async read({ fromObjectType, toObjectType, fromIds }) {
        assertBatchSize(fromIds.length);
        const linked = new Map<string, Set<string>>();
        if (fromIds.length === 0) return linked;
        const answer = await withRetry(
          `read the ${toObjectType} of ${fromIds.length} ${fromObjectType}`,
          () => apis.read(fromObjectType, toObjectType, { inputs: fromIds.map((id) => ({ id })) }),
          retry,
        );
        for (const result of parseResponse(readSchema, answer, `${fromObjectType} associations read`).results)
          linked.set(result._from.id, new Set(result.to.map((to) => to.toObjectId)));
        return linked;
      },

      async associate({ fromObjectType, toObjectType, pairs }) {
        assertBatchSize(pairs.length);
        const outcomes: CrmAssociateOutcome[] = pairs.map(() => ({ ok: true }));
        let pending = pairs.map((_, index) => index);
        // Linking twice is harmless, so the call is retried like a read; a refusal names its invalid ids once.
        for (let attempt = 0; pending.length > 0 && attempt < 2; attempt += 1) {
          try {
            await withRetry(
              `associate ${pending.length} ${fromObjectType} with ${toObjectType}`,
              () => apis.associate(fromObjectType, toObjectType, { inputs: pending.map((i) => toInput(pairs[i]!)) }),
              retry,
            );
            return outcomes;
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            const invalid = error.code === 'CRM_REJECTED' ? invalidIds(error) : new Set<string>();
            const named = (index: number) =>
              invalid.has(`${ERROR_NAMES[fromObjectType]}=${pairs[index]!.fromId}`) ||
              invalid.has(`${ERROR_NAMES[toObjectType]}=${pairs[index]!.toId}`);
            const failed = invalid.size === 0 ? pending : pending.filter(named);
            for (const index of failed)
              outcomes[index] = {
                ok: false,
                reason: error.code === 'CRM_REJECTED' ? 'crm_rejected' : 'crm_unavailable',
                message: error.message,
              };
            pending = pending.filter((index) => !failed.includes(index));
          }
        }
        for (const index of pending)
          outcomes[index] = { ok: false, reason: 'crm_rejected', message: 'HubSpot refused the batch twice.' };
        return outcomes;
      },

      async dissociate({ fromObjectType, toObjectType, pairs }) {
        assertBatchSize(pairs.length);
        if (pairs.length === 0) return;
        await withRetry(
          `remove ${pairs.length} associations of ${fromObjectType} with ${toObjectType}`,
          () =>
            apis.archive(fromObjectType, toObjectType, {
              inputs: pairs.map((pair) => ({ _from: { id: pair.fromId }, to: [{ id: pair.toId }] })),
            }),
          retry,
        );
      },
    },
  };
}

function toInput(pair: CrmAssociationPair) {
  return { _from: { id: pair.fromId }, to: { id: pair.toId } };
}

/** `TYPE=id` of each record HubSpot named invalid (its context pairs `objectType` with `objectId`). */
function invalidIds(error: AppError): Set<string> {
  const context = (error.details as { context?: Record<string, string[]> } | undefined)?.context;
  const ids = context?.['objectId'] ?? [];
  const types = context?.['objectType'] ?? [];
  return new Set(ids.map((id, index) => `${types[index] ?? ''}=${id}`));
}
