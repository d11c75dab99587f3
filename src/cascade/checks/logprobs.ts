/**
 * Token log-probability confidence: the mean and/or the minimum token log-probability must clear a threshold.
 */
import { fail, PASS, type Verdict } from '../types.js';

export interface LogprobsThresholds {
  min_mean?: number;
  min_token?: number;
  when_missing: 'pass' | 'fail';
}

export function checkLogprobs(logprobs: readonly number[] | undefined, t: LogprobsThresholds): Verdict {
  if (!logprobs || logprobs.length === 0) {
    return t.when_missing === 'pass' ? PASS : fail('low_confidence', 'the upstream returned no log-probabilities');
  }
  let sum = 0;
  let min = 0;
  for (const lp of logprobs) {
    sum += lp;
    if (lp < min) min = lp;
  }
  const mean = sum / logprobs.length;
  if (t.min_mean !== undefined && mean < t.min_mean) {
    return fail('low_confidence', `mean token logprob ${mean.toFixed(3)} below ${t.min_mean}`);
  }
  if (t.min_token !== undefined && min < t.min_token) {
    return fail('low_confidence', `lowest token logprob ${min.toFixed(3)} below ${t.min_token}`);
  }
  return PASS;
}
