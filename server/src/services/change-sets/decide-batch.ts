import type { BatchDecisionResult } from '../../../../shared/approval-api.ts';
import { AppError } from '../../errors.ts';
import { type BatchedEntries, decideApprovalsBatch, type EntryOutcome } from '../held/index.ts';
import type { ServiceDeps } from '../common/index.ts';
import { associations } from './decide-association.ts';
import { creations } from './decide-creation.ts';
import {
  applyDecidedEntries,
  claimForApply,
  type DecidedEntry,
  decideLockedEntry,
  type HeldEntryKind,
  type StoredHeldEntry,
} from './held-entry-decision.ts';

/**
 * One person's decision on many approvals of every kind at once (the admin API's, the console's
 * and the record card's batch): held field changes and drafts as decideApprovalsBatch decides them,
 * and held creations and associations (issue 21) by their own routes' rules, in one transaction with
 * one manifest.
 */
export function decideBatch(
  deps: ServiceDeps,
  input: Parameters<typeof decideApprovalsBatch>[1],
): Promise<BatchDecisionResult> {
  return decideApprovalsBatch(deps, input, heldEntries);
}

const heldEntries: BatchedEntries = {
  async decide(deps, tx, audit, input) {
    const outcomes = new Map<string, { kind: 'creation' | 'association'; outcome: EntryOutcome }>();
    const applies: (() => Promise<void>)[] = [];
    let rest = input.ids;
    for (const kind of [creations, associations] as HeldEntryKind<StoredHeldEntry>[]) {
      const rows = await kind.lock(tx, input.workspace.id, rest);
      const decided: DecidedEntry<StoredHeldEntry>[] = [];
      for (const row of rows) {
        try {
          decided.push(
            await decideLockedEntry(tx, audit, kind, {
              workspaceId: input.workspace.id,
              row,
              decision: { request: input.request, via: input.via, person: input.person },
              now: input.now,
              batchDecisionId: input.batchDecisionId,
            }),
          );
          outcomes.set(row.id, { kind: kind.what, outcome: { ok: true } });
        } catch (error) {
          outcomes.set(row.id, { kind: kind.what, outcome: refusalOf(error) });
        }
      }
      const claimed = await claimForApply(
        deps,
        tx,
        decided.filter((entry) => entry.ready).map((entry) => entry.row.changeSetId),
      );
      applies.push(() => applyDecidedEntries(deps, kind, { workspace: input.workspace, decided, claimed }));
      const found = new Set(rows.map((row) => row.id));
      rest = rest.filter((id) => !found.has(id));
    }
    return {
      outcomes,
      apply: async () => {
        for (const apply of applies) await apply();
      },
    };
  },
};

/** A refusal of the single route (its AppError's details.refusal), as a batch reports it per entry. */
function refusalOf(error: unknown): EntryOutcome {
  const details = error instanceof AppError ? (error.details as { refusal?: unknown } | undefined) : undefined;
  if (!(error instanceof AppError) || typeof details?.refusal !== 'string') throw error;
  return { ok: false, code: details.refusal, message: error.message };
}
