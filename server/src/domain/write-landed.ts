/** One revision of a CRM property, as its history keeps it. */
export interface Revision {
  value: string | null;
  at: Date;
}

export interface RecordHistory {
  changeSetId: string;
  /** Revisions of the provenance property naming the change set that last wrote the record, newest first. */
  changeIdRevisions: readonly Revision[];
  /** The record's writes of this change set, each with its property's revisions, newest first. */
  writes: readonly { value: string | null; revisions: readonly Revision[] }[];
}

/**
 * Whether a record's write, sent by a process that died before storing the outcome, reached the
 * CRM (issue 17). The write carried its values and our provenance (the change set's id) in one
 * call, which the CRM applies to the record as a whole and stamps with one time. So it landed
 * when either
 *  - the record still names this change set and holds every value it proposed, or
 *  - the history holds a revision naming this change set and, at that very time, a revision of a
 *    property the write set: a later write (a person, another change set) replaced ours since.
 * Otherwise it did not land: neither trace exists. A revision naming the change set with no
 * value revision beside it is the approval path writing other fields of the same change set.
 * Limit: a record rewritten more often than the CRM keeps revisions (20 to 45) since the crash
 * has lost the trace, and its write is judged not landed.
 */
export function writeLanded(record: RecordHistory): boolean {
  const namesUs = (revision: Revision | undefined) => revision !== undefined && revision.value === record.changeSetId;
  const holdsAll = record.writes.every((write) => sameValue(write.revisions[0]?.value ?? null, write.value));
  if (namesUs(record.changeIdRevisions[0]) && holdsAll) return true;
  const ours = new Set(record.changeIdRevisions.filter(namesUs).map((revision) => revision.at.getTime()));
  return record.writes.some((write) => write.revisions.some((revision) => ours.has(revision.at.getTime())));
}

// A null proposal is sent as an empty string, which is how the CRM keeps an emptied field.
function sameValue(current: string | null, proposed: string | null): boolean {
  return (current ?? '') === (proposed ?? '');
}
