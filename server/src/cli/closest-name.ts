/** Levenshtein distance (insert, delete, substitute), for "did you mean" suggestions on short names. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The candidate nearest to `typed`, when it is near enough to be a typo rather than another word. */
export function closestName(typed: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(typed, name);
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  // A third of the longer word, at least two edits: "worksapce" finds "workspace", "frobnicate" finds nothing.
  const allowed = best === undefined ? 0 : Math.max(2, Math.floor(Math.max(typed.length, best.name.length) / 3));
  return best !== undefined && best.distance <= allowed ? best.name : undefined;
}
