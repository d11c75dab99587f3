/**
 * Pattern and length checks: regular expressions that must / must not match the answer, and a minimum length.
 */
import { fail, PASS, type Verdict } from '../types.js';

export function checkPatterns(text: string, mustMatch: readonly RegExp[], mustNotMatch: readonly RegExp[]): Verdict {
  for (const re of mustMatch) if (!re.test(text)) return fail('must_match', `does not match /${re.source}/`);
  for (const re of mustNotMatch) if (re.test(text)) return fail('must_not_match', `matches /${re.source}/`);
  return PASS;
}

export function checkMinLength(text: string, min: number): Verdict {
  const n = text.trim().length;
  return n >= min ? PASS : fail('too_short', `${n} characters, at least ${min} required`);
}

/** finish_reason "length": the answer was cut off by the token limit. */
export function checkFinish(finishReason: string | null): Verdict {
  return finishReason === 'length' ? fail('truncated', 'cut off by the token limit (finish_reason length)') : PASS;
}
