/**
 * The console's side-by-side diff of two policy versions (issue 19): every setting as a path
 * (`objects.contacts.properties.phone.enrichment`, `conditions[2].threshold`) with its value in
 * each version, only where they differ.
 */

export interface PolicyDiffRow {
  path: string;
  /** The setting's value in the left and right versions, as JSON; null where that version lacks it. */
  left: string | null;
  right: string | null;
}

export function policyDiff(left: unknown, right: unknown): PolicyDiffRow[] {
  const a = settings(left);
  const b = settings(right);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths
    .map((path) => ({ path, left: a.get(path) ?? null, right: b.get(path) ?? null }))
    .filter((row) => row.left !== row.right);
}

/** Leaves of a JSON document by path; an empty object or list is a leaf of its own, so adding one still shows. */
function settings(document: unknown, path = '', into = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(document) && document.length > 0)
    for (const [index, item] of document.entries()) settings(item, `${path}[${index}]`, into);
  else if (isObject(document) && Object.keys(document).length > 0)
    for (const [key, value] of Object.entries(document)) settings(value, path ? `${path}.${key}` : key, into);
  else if (document !== undefined) into.set(path, JSON.stringify(document));
  return into;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
