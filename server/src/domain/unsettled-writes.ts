import type { CurrentValues } from './policy-conditions.ts';
import { evaluateFields, raiseTier, type EvaluateFieldsInput, type UncappedEvaluation } from './policy-evaluation.ts';

/**
 * Issue 17: a CRM read can be overtaken by our own writes, those in flight and those that settled
 * while it ran, so ten agents filling one empty field at once each saw it empty. These functions
 * decide against what the CRM will hold once those writes land, without waiting for them.
 */

/** The records as they will be once the unsettled values land; a record the CRM did not return stays absent. */
export function withUnsettledValues(
  records: ReadonlyMap<string, CurrentValues>,
  unsettled: ReadonlyMap<string, CurrentValues>,
): Map<string, CurrentValues> {
  const result = new Map(records);
  for (const [recordId, values] of unsettled) {
    const read = records.get(recordId);
    if (read) result.set(recordId, { ...read, ...values });
  }
  return result;
}

/**
 * Decides again, against the unsettled values, the writes on records they touch, and keeps the
 * stricter decision of the two: the value read may still be there if a write in flight fails, so
 * neither alone may lower a tier. A write counts as unchanged only when it is unchanged against
 * both; otherwise it is written, which at worst writes a value again.
 */
export function reconsiderForUnsettled(
  input: EvaluateFieldsInput & {
    uncapped: readonly UncappedEvaluation[];
    unsettled: ReadonlyMap<string, CurrentValues>;
  },
): {
  records: Map<string, CurrentValues>;
  uncapped: UncappedEvaluation[];
} {
  const records = withUnsettledValues(input.records, input.unsettled);
  const touched = input.writes.flatMap((write, index) =>
    input.unsettled.has(write.recordId) && input.records.has(write.recordId) ? [index] : [],
  );
  if (touched.length === 0) return { records, uncapped: [...input.uncapped] };
  const again = evaluateFields({ ...input, records, writes: touched.map((index) => input.writes[index]!) });
  const uncapped = [...input.uncapped];
  touched.forEach((index, i) => {
    uncapped[index] = stricter(input.uncapped[index]!, again[i]!);
  });
  return { records, uncapped };
}

function stricter(read: UncappedEvaluation, unsettled: UncappedEvaluation): UncappedEvaluation {
  const unchanged = read.reasons.includes('value_unchanged') && unsettled.reasons.includes('value_unchanged');
  const tier = raiseTier(read.tier, unsettled.tier);
  const reasons = [...new Set([...read.reasons, ...unsettled.reasons])].filter(
    (reason) => unchanged || reason !== 'value_unchanged',
  );
  return { tier, reasons, countsTowardCaps: !unchanged && tier !== 'deny' };
}
