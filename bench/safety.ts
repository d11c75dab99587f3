/**
 * Safety signal costs on the hot path: PII scan, language and jailbreak heuristics per prompt (microseconds), over the
 * shared prompt sets (with and without inserted PII). Returns plain numbers.
 */
import { performance } from 'node:perf_hooks';
import { jailbreakHeuristics } from '../src/safety/detectors/jailbreak-heuristics.js';
import { detectLanguage } from '../src/safety/detectors/language.js';
import { detectPii } from '../src/safety/detectors/pii.js';
import { loadPrompts } from '../src/safety/eval/evaluate.js';
import { insertPii, seeded } from '../src/safety/eval/synthetic.js';

function perCallUs(texts: readonly string[], fn: (t: string) => unknown, rounds = 5): number {
  for (const t of texts) fn(t); // warm-up
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const t of texts) fn(t);
  return ((performance.now() - t0) * 1000) / (rounds * texts.length);
}

export async function benchSafety(dataDir = '../shared/data'): Promise<Record<string, number>> {
  let texts = await loadPrompts(dataDir, 400);
  if (texts.length === 0) texts = ['What is the capital of France?', 'Write a Python function that reverses a list.'];
  const rng = seeded(3);
  const withPii = texts.map((t, i) => insertPii(t, (['email', 'card', 'phone', 'secret'] as const)[i % 4], rng).text);
  return {
    prompts: texts.length,
    pii_scan_us: perCallUs(texts, detectPii),
    pii_scan_with_pii_us: perCallUs(withPii, detectPii),
    language_us: perCallUs(texts, detectLanguage),
    jailbreak_heuristics_us: perCallUs(texts, jailbreakHeuristics),
  };
}

export default benchSafety;

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchSafety(process.argv[2]));
