/**
 * Refusal and "I don't know" detection: a curated phrase list and a few patterns over the head of the answer.
 * Refusal phrases count anywhere in the head; uncertainty phrases only in a short answer or its first sentence, so a
 * long helpful answer that mentions "I'm not sure" in passing is not failed.
 */
import { fail, PASS, type Verdict } from '../types.js';

/** How much of the answer is inspected: refusals come first. */
const HEAD_CHARS = 400;
/** Answers shorter than this are judged by their uncertainty phrases anywhere in the head. */
const SHORT_ANSWER = 280;

export const REFUSAL_PHRASES: readonly string[] = [
  "i can't help with", 'i cannot help with', "i can't assist with", 'i cannot assist with', "i can't help you with",
  "i'm unable to help", 'i am unable to help', "i'm not able to help", 'i am not able to help', "i won't be able to help",
  "i can't provide", 'i cannot provide', "i can't comply", 'i cannot comply', "i can't fulfill", 'i cannot fulfill',
  "i can't do that", 'i cannot do that', "i'm unable to provide", 'i am unable to provide', "i'm not able to provide",
  "i can't answer", 'i cannot answer', "i'm unable to answer", 'i am unable to answer', "i'm not able to answer",
  'as an ai language model', 'as an ai, i cannot', "as an ai, i can't", "i'm not allowed to", 'i am not allowed to',
  'i must decline', 'i have to decline', "i'm not comfortable", 'i am not comfortable', "that's not something i can",
  'this is not something i can', "i don't have access to real-time", 'i do not have access to real-time',
  "i don't have the ability to", 'i do not have the ability to',
];

export const UNCERTAINTY_PHRASES: readonly string[] = [
  "i don't know", 'i do not know', "i'm not sure", 'i am not sure', 'i have no idea', "i'm not certain", 'i am not certain',
  "i don't have enough information", 'i do not have enough information', "i can't determine", 'i cannot determine',
  "i don't have information", 'i do not have information', 'no idea', "i couldn't find", 'i could not find',
  "i'm unsure", 'i am unsure', 'unable to determine',
];

const PATTERNS: readonly RegExp[] = [
  // "I'm sorry, but I can't ..." / "I'm afraid I cannot ..."
  /\bi(?:'m| am)\s+(?:sorry|afraid)\b[^.!?\n]{0,80}?\b(?:can(?:no|')t|unable|not able|won't|will not)\b/,
  // "Sorry, I can't ..." / "Unfortunately, I cannot ..." at the start
  /^\W*(?:\[[^\]]{1,40}\]\s*)?(?:sorry|unfortunately|apologies)\b[^.!?\n]{0,80}?\b(?:can(?:no|')t|unable|not able|won't|will not)\b/,
];

function normalise(text: string): string {
  return text.slice(0, HEAD_CHARS).toLowerCase().replace(/[\u2018\u2019\u02bc]/g, "'");
}

function firstSentence(head: string): string {
  const m = /^[\s\S]*?[.!?\n](?:\s|$)/.exec(head);
  return m ? m[0] : head;
}

/** The phrase or pattern that makes the answer a refusal or a non-answer, else undefined. */
export function detectRefusal(text: string): string | undefined {
  const head = normalise(text);
  for (const p of REFUSAL_PHRASES) if (head.includes(p)) return p;
  for (const re of PATTERNS) {
    const m = re.exec(head);
    if (m) return m[0].trim();
  }
  const scope = text.trim().length < SHORT_ANSWER ? head : firstSentence(head);
  for (const p of UNCERTAINTY_PHRASES) if (scope.includes(p)) return p;
  return undefined;
}

/** Fails a refusal: the message's `refusal` field, or a refusal / "I don't know" in the text (or an empty answer). */
export function checkRefusal(text: string, refusalField: string | null): Verdict {
  if (refusalField) return fail('refusal', 'the upstream marked the answer as a refusal');
  if (text.trim() === '') return fail('refusal', 'empty answer');
  const hit = detectRefusal(text);
  return hit === undefined ? PASS : fail('refusal', `refusal or non-answer ("${hit}")`);
}
