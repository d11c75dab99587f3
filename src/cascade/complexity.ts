/**
 * A difficulty estimate of the request, before any upstream call, so rules can send easy queries to cheap models:
 * `complexity_score` in 0..1 and a `complexity` band (simple | moderate | complex). Signals: the length of the last user
 * turn, code and math markers, reasoning verbs, the number of questions and list items, conversation depth — combined as
 * a noisy-OR — and, when the intent is already known, the intent's metadata `tier` (simple | moderate | complex), which
 * overrides the text signals' band. Pure and cheap: one pass of a few regular expressions over at most 8,000 characters.
 */
import type { SemanticFacts } from '../rules/variables.js';

/** The complexity bands, easiest first; also the values a reference-prompt category's metadata `tier` may take. */
export const COMPLEXITY_BANDS = ['simple', 'moderate', 'complex'] as const;
export type ComplexityBand = (typeof COMPLEXITY_BANDS)[number];

export interface ComplexityFacts {
  band: ComplexityBand;
  score: number;
  /** Per-signal strengths (0..1), for explain and tuning. */
  signals: Readonly<Record<string, number>>;
}

/** Scores below this are simple; at or above COMPLEX_FROM complex. */
export const SIMPLE_BELOW = 0.3;
export const COMPLEX_FROM = 0.6;
const MAX_CHARS = 8000;

const CODE = /```|\b(?:function|def|class|return|import|const|let|var|public|static|void|async|await|lambda)\b|=>|\b(?:python|javascript|typescript|java|c\+\+|rust|golang|sql|regex|bash|html|css|api|json|compile|debug|stack ?trace|exception|algorithm|implement|refactor|unit tests?)\b|[{};]\s*$/gim;
/** An arithmetic expression is read from the start of its first number (not again from each of its digits). */
export const MATH = /\b(?:prove|proof|derive|derivative|integral|equation|solve|theorem|lemma|probability|matrix|eigen\w*|polynomial|logarithm|factorial|prime|modulo|calculate|compute)\b|\\(?:frac|sum|int|sqrt)|(?<!\d)\d+\s*[-+*/^=]\s*\d+|[∑∫√≤≥≠π]/gi;
const REASONING = /\b(?:why|explain|analy[sz]e|compare|contrast|evaluate|trade-?offs?|design|architect\w*|optimi[sz]e|justify|critique|step[- ]by[- ]step|reason(?:ing)?|implications?|pros and cons|strateg\w*|plan)\b/gi;
/**
 * A line that starts with a list marker. Only the blank space of the marker's own line is read before it (any line
 * terminator ends that space), so a run of blank lines is not read again from each of its line starts, which costs the
 * square of the run's length; the same items are counted as with blank lines allowed before the marker.
 */
export const LIST_ITEM = /^[^\S\n\r\u2028\u2029]*(?:\d+[.)]|[-*•])\s+/gm;

function count(re: RegExp, text: string, cap: number): number {
  re.lastIndex = 0;
  let n = 0;
  while (n < cap && re.exec(text) !== null) n++;
  re.lastIndex = 0;
  return n;
}

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  let out = '';
  for (const p of c) if (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string') out += (out ? ' ' : '') + (p as { text: string }).text;
  return out;
}

/** The last user turn (chat) or the prompt (completions), and the number of user turns. */
export function queryText(body: Readonly<Record<string, unknown>>): { text: string; turns: number } {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    let turns = 0;
    let text = '';
    for (const m of messages) {
      if (m && typeof m === 'object' && (m as { role?: unknown }).role === 'user') {
        turns++;
        text = contentText((m as { content?: unknown }).content);
      }
    }
    return { text, turns };
  }
  const p = body.prompt;
  if (typeof p === 'string') return { text: p, turns: 1 };
  if (Array.isArray(p) && typeof p[0] === 'string') return { text: p.join('\n'), turns: p.length };
  return { text: '', turns: 0 };
}

const WEIGHTS = { length: 0.55, code: 0.6, math: 0.6, reasoning: 0.45, questions: 0.35, structure: 0.3, turns: 0.25 } as const;

const isBand = (v: unknown): v is ComplexityBand => (COMPLEXITY_BANDS as readonly unknown[]).includes(v);

export function bandOf(score: number): ComplexityBand {
  return score < SIMPLE_BELOW ? 'simple' : score < COMPLEX_FROM ? 'moderate' : 'complex';
}

const BAND_FLOOR: Record<ComplexityBand, [number, number]> = { simple: [0, SIMPLE_BELOW - 0.01], moderate: [SIMPLE_BELOW, COMPLEX_FROM - 0.01], complex: [COMPLEX_FROM, 1] };

/** Estimates the request's difficulty; `semantic` (when the intent is known) lets the intent's `tier` metadata decide the band. */
export function estimateComplexity(body: Readonly<Record<string, unknown>>, semantic?: SemanticFacts): ComplexityFacts {
  const q = queryText(body);
  const text = q.text.length > MAX_CHARS ? q.text.slice(0, MAX_CHARS) : q.text;
  const signals = {
    length: Math.min(1, q.text.length / 1500),
    code: Math.min(1, count(CODE, text, 4) / 3),
    math: Math.min(1, count(MATH, text, 4) / 3),
    reasoning: Math.min(1, count(REASONING, text, 4) / 2),
    questions: Math.min(1, Math.max(0, count(/\?/g, text, 8) - 1) / 3),
    structure: Math.min(1, count(LIST_ITEM, text, 8) / 4),
    turns: Math.min(1, Math.max(0, q.turns - 1) / 4),
  };
  let keep = 1;
  for (const k in signals) keep *= 1 - WEIGHTS[k as keyof typeof WEIGHTS] * signals[k as keyof typeof signals];
  let score = 1 - keep;
  const tier = semantic?.metadata?.tier;
  if (isBand(tier)) {
    const [lo, hi] = BAND_FLOOR[tier];
    score = Math.min(hi, Math.max(lo, score));
  }
  score = Math.round(score * 1000) / 1000;
  return { band: bandOf(score), score, signals };
}
