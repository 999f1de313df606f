/** Change sets: submitting one (read, decide, store, write; updates, creations or associations), deciding a held creation or association (alone, or in a batch with held field changes and drafts), recovering one whose server died, and QA review of applied writes. Other folders import this feature only from here. */
export { readChangeSet } from './change-set-view.ts';
export { decideBatch } from './decide-batch.ts';
export { decideAssociation } from './decide-association.ts';
export { decideCreation } from './decide-creation.ts';
export { decideEntry } from './decide-entry.ts';
export { findQaReviews, qaErrorRates, reviewQa } from './qa-reviews.ts';
export { claimInterruptedChangeSet, recoverInterruptedChangeSet } from './recover-change-sets.ts';
export { submitChangeSet } from './submit-change-set.ts';
