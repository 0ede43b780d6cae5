// "did you mean `ready_timeout`?": the closest known key by edit distance.

/** Levenshtein distance (insert, delete, substitute: cost 1 each). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The candidate closest to `word` (ignoring case and "-" vs "_"), if it is close enough to be
 * a plausible typo: at most 1 edit for short words, up to a third of the length for long ones.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 64) return undefined; // keeps the quadratic distance cheap on hostile input
  const normal = word.toLowerCase().replaceAll('-', '_');
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(normal.length / 3));
  for (const candidate of candidates) {
    const distance = editDistance(normal, candidate);
    if (distance < bestDistance || (distance === bestDistance && best === undefined)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
