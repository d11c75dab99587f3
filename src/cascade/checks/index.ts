/**
 * Composes one tier's checks: compiled once per tier spec (regular expressions), run cheapest first, stopping at the first
 * failure; the judge (a model call) runs last and only when everything else passed. Content checks do not apply to an
 * answer that calls tools; the token-limit check always does.
 */
import { toRegExp } from '../config.js';
import type { Answer, CascadeChecks, JudgeCheck, Verdict } from '../types.js';
import { PASS } from '../types.js';
import { checkJson } from './json.js';
import { judgeVerdict } from './judge.js';
import { checkLogprobs } from './logprobs.js';
import { checkFinish, checkMinLength, checkPatterns } from './patterns.js';
import { checkRefusal } from './refusal.js';

export { checkJson, requestedSchema } from './json.js';
export { checkPatterns, checkMinLength, checkFinish } from './patterns.js';
export { checkRefusal, detectRefusal, REFUSAL_PHRASES, UNCERTAINTY_PHRASES } from './refusal.js';
export { checkLogprobs } from './logprobs.js';
export { judgeRequest, parseGrade, judgeVerdict, JUDGE_SYSTEM_PROMPT } from './judge.js';

export interface CompiledChecks {
  readonly spec: CascadeChecks;
  readonly mustMatch: readonly RegExp[];
  readonly mustNotMatch: readonly RegExp[];
}

const compiled = new WeakMap<CascadeChecks, CompiledChecks>();

export function compileChecks(spec: CascadeChecks): CompiledChecks {
  let c = compiled.get(spec);
  if (!c) {
    c = { spec, mustMatch: (spec.must_match ?? []).map(toRegExp), mustNotMatch: (spec.must_not_match ?? []).map(toRegExp) };
    compiled.set(spec, c);
  }
  return c;
}

/** What checks need from the request beyond the answer. */
export interface CheckEnv {
  /** The request's response_format json_schema, if any. */
  schema: Record<string, unknown> | undefined;
  /** Reports a problem that is not the answer's fault (an uncompilable schema). */
  warn?: (message: string) => void;
  /** Calls the judge model; resolves with its grade or why there is none. */
  judge?: (check: JudgeCheck, answer: Answer) => Promise<{ grade: number } | { error: string }>;
}

/** The checks that need no model call, in cost order; the first failure is returned. */
export function runLocalChecks(answer: Answer, checks: CompiledChecks, env: CheckEnv): Verdict {
  const s = checks.spec;
  if (s.finish_length) {
    const v = checkFinish(answer.finishReason);
    if (!v.pass) return v;
  }
  if (answer.toolCalls) return PASS;
  if (s.min_length !== undefined) {
    const v = checkMinLength(answer.text, s.min_length);
    if (!v.pass) return v;
  }
  if (s.refusal) {
    const v = checkRefusal(answer.text, answer.refusal);
    if (!v.pass) return v;
  }
  if (checks.mustMatch.length > 0 || checks.mustNotMatch.length > 0) {
    const v = checkPatterns(answer.text, checks.mustMatch, checks.mustNotMatch);
    if (!v.pass) return v;
  }
  if (s.json !== undefined && s.json !== false) {
    const useSchema = s.json === true || s.json.schema;
    const v = checkJson(answer.text, useSchema ? env.schema : undefined, env.warn);
    if (!v.pass) return v;
  }
  if (s.logprobs) {
    const v = checkLogprobs(answer.logprobs, s.logprobs);
    if (!v.pass) return v;
  }
  return PASS;
}

/** Every configured check; the judge only when the local checks passed. */
export async function runChecks(answer: Answer, checks: CompiledChecks, env: CheckEnv): Promise<Verdict> {
  const local = runLocalChecks(answer, checks, env);
  if (!local.pass) return local;
  const judge = checks.spec.judge;
  if (!judge || answer.toolCalls) return PASS;
  if (!env.judge) return judgeVerdict(judge, { error: 'no judge is available' });
  return judgeVerdict(judge, await env.judge(judge, answer));
}
