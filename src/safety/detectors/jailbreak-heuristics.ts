/**
 * Cheap prompt-injection heuristics: the cues of jailbreak-cues.ts (instruction overrides, persona and policy-off
 * claims, system-prompt extraction, refusal suppression, …), checked on the text and on what it hides (deobfuscate.ts:
 * base64 and hex payloads, the rot13 and reversed readings, leetspeak and spaced-out letters). Each cue has a weight; the
 * cues that fire combine as a noisy-OR into a 0..1 score. Pure.
 *
 * A cue that fires only in a hidden view is reported as `<view>:<cue>` together with `<view>_instructions` (0.9): an
 * instruction hidden from a reader is itself the strongest sign. A decoded payload that reads as prose but holds no cue
 * adds `<view>_text` (0.3).
 */
import { CUES, PAYLOAD_CUE, type Cue } from './jailbreak-cues.js';
import { hiddenViews } from './deobfuscate.js';

export interface HeuristicResult {
  /** 0..1 */
  score: number;
  /** Names of the cues that fired. */
  cues: string[];
}

const HIDDEN_WEIGHT = 0.9;
const HIDDEN_TEXT_WEIGHT = 0.3;
const PROSE = /\b[a-z]{2,}\s+[a-z]{2,}\s+[a-z]{2,}\b/i;

/** Names of the cues of `list` that fire on `text`, with their weights. */
function firing(text: string, list: readonly Cue[]): Cue[] {
  return list.filter((c) => c.re.test(text));
}

/**
 * How much of a long text the heuristics read (the cost of the cues is bounded by it): its start, and its end, where the
 * newest turn of a conversation is. Reading only the start, an instruction in the newest turn after 8,000 characters of
 * earlier turns went unseen.
 */
const HEAD_CHARS = 2000;
const TAIL_CHARS = 6000;

/** Scores one text (a user turn, or all user turns joined, oldest first). */
export function jailbreakHeuristics(input: string): HeuristicResult {
  const text = input.length > HEAD_CHARS + TAIL_CHARS ? `${input.slice(0, HEAD_CHARS)}\n${input.slice(-TAIL_CHARS)}` : input;
  const cues: string[] = [];
  const weights: number[] = [];
  const add = (name: string, weight: number): void => {
    if (cues.includes(name)) return;
    cues.push(name);
    weights.push(weight);
  };
  const plain = firing(text, CUES);
  for (const c of plain) add(c.name, c.weight);
  for (const view of hiddenViews(text)) {
    const fired = firing(view.text, view.payload ? [...CUES, PAYLOAD_CUE] : CUES).filter((c) => !plain.includes(c));
    for (const c of fired) add(`${view.kind}:${c.name}`, c.weight);
    if (fired.length > 0) add(`${view.kind}_instructions`, HIDDEN_WEIGHT);
    else if ((view.kind === 'base64' || view.kind === 'hex') && PROSE.test(view.text)) add(`${view.kind}_text`, HIDDEN_TEXT_WEIGHT);
  }
  let keep = 1;
  for (const w of weights) keep *= 1 - w;
  return { score: 1 - keep, cues };
}
