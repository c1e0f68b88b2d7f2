/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/**
 * The candidate closest to `target` (case-insensitive), or undefined when none is close enough to be a
 * plausible typo: within max(2, a third of the longer name) edits, or one name a prefix of the other.
 */
export function closestMatch(target: string, candidates: readonly string[]): string | undefined {
  const t = target.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const d = levenshtein(t, lc);
    const limit = Math.max(2, Math.floor(Math.max(t.length, lc.length) / 3));
    const plausible = d <= limit || (t.length >= 3 && (lc.startsWith(t) || t.startsWith(lc)));
    if (plausible && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** `"a", "b", "c"` for messages. */
export function quoteList(names: readonly string[]): string {
  return names.map((n) => JSON.stringify(n)).join(", ");
}
