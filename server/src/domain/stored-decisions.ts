import { DECISIONS, type Decision } from '../../../shared/agent-api.ts';

/** Whether a stored decision is one this server knows: a database owner may have typed anything into the column. */
export function isDecision(value: string): value is Decision {
  return (DECISIONS as readonly string[]).includes(value);
}

/**
 * Why a change set holding a decision this server does not know is neither shown nor acted on:
 * read as one of its own, it would reach an agent as a decision, or be written, recovered or
 * rolled back by a guess. Names the row so an operator can fix it.
 */
export function damagedChangeSetMessage(damaged: { changeSetId: string; changeId: string; decision: string }): string {
  return `Stored change set ${damaged.changeSetId} is damaged: its change ${damaged.changeId} has decision '${damaged.decision}', which is not one this server knows (it was changed in the database), so nothing reads or acts on the change set until the row is fixed.`;
}
