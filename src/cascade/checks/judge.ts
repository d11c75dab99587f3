/**
 * The LLM judge: a configured cheap model is asked, with a fixed prompt, to grade the answer 1..10; the answer passes at or
 * above the threshold. Building the judge request and reading its grade are pure; the call itself goes through the
 * gateway's provider execution path (see ../runner.ts), so it is retried, balanced and accounted like any request.
 */
import type { JudgeCheck } from '../types.js';
import { fail, PASS, type Verdict } from '../types.js';

export const JUDGE_SYSTEM_PROMPT =
  'You are a strict grader of assistant answers. Rate how well the ANSWER responds to the QUESTION: is it correct, ' +
  'complete, specific and helpful, and does it actually answer rather than refuse or deflect? ' +
  'Reply with only one integer from 1 (useless) to 10 (excellent) and nothing else.';

const QUESTION_CHARS = 4000;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n[... cut at ${max} characters]`;
}

/** The chat request sent to the judge model. */
export function judgeRequest(check: JudgeCheck, question: string, answer: string): Record<string, unknown> {
  return {
    model: check.model,
    messages: [
      { role: 'system', content: JUDGE_SYSTEM_PROMPT },
      { role: 'user', content: `QUESTION:\n${cut(question, QUESTION_CHARS)}\n\nANSWER:\n${cut(answer, check.max_answer_chars)}\n\nGrade (1-10):` },
    ],
    temperature: 0,
    max_tokens: 16,
  };
}

/** The grade in a judge's reply: "Score: 8", "8/10" or the first standalone integer 1..10; undefined when none. */
export function parseGrade(reply: string): number | undefined {
  const labelled = /\b(?:score|grade|rating)\s*[:=]?\s*(10|[1-9])(?:\s*\/\s*10)?\b/i.exec(reply);
  if (labelled) return Number(labelled[1]);
  const outOf = /\b(10|[1-9])\s*\/\s*10\b/.exec(reply);
  if (outOf) return Number(outOf[1]);
  const bare = /(?<![\w.])(10|[1-9])(?![\w.])/.exec(reply);
  return bare ? Number(bare[1]) : undefined;
}

/** The verdict for a judge's outcome: a grade, or an error (no usable grade / the call failed). */
export function judgeVerdict(check: JudgeCheck, outcome: { grade: number } | { error: string }): Verdict {
  if ('error' in outcome) return check.on_error === 'accept' ? PASS : fail('judge_error', outcome.error);
  return outcome.grade >= check.threshold ? PASS : fail('judge_score', `graded ${outcome.grade}/10, below ${check.threshold}`);
}
