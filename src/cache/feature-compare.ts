/**
 * Comparisons of two texts' guard features shared by the guard's rules (./guard.ts) and the pair scorer's features
 * (./pair-features.ts). No allocation: loops over the small sets and lists extracted once per text.
 */
import type { QuestionFeatures } from './guard.js';

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Elements of `a` not in `b`. */
export function missing(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let n = 0;
  for (const x of a) if (!b.has(x)) n++;
  return n;
}

/** Entities of `a` that the other text does not mention at all (in any case). */
export function missingEntities(a: QuestionFeatures, b: QuestionFeatures): number {
  let n = 0;
  for (const e of a.entities) if (!b.content.has(e) && !b.words.has(e)) n++;
  return n;
}

/**
 * Do the entities both sides mention appear in a different order? The two lists of shared entities are walked side by side,
 * each skipping what the other side does not name: a search of the other list for each entity cost the product of their
 * lengths (thousands of names in a long question: tens of milliseconds a candidate).
 */
export function entitiesReordered(a: QuestionFeatures, b: QuestionFeatures): boolean {
  const other = b.entityOrder;
  let j = 0;
  for (const e of a.entityOrder) {
    if (!b.entities.has(e)) continue;
    while (j < other.length && !a.entities.has(other[j])) j++;
    if (other[j] !== e) return true;
    j++;
  }
  return false;
}
