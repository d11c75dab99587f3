/**
 * Config schemas of cascading routing: the `cascade` list a routing rule may carry instead of `targets` (tiers tried in
 * order, each with the checks its answer must pass), and the gateway-wide `cascade` section (defaults for all rules).
 * Regular expressions are validated here and compiled once per tier by ./checks.
 */
import { z } from 'zod';

/** How a cascade treats streamed requests: buffer each tier's stream and check it, or skip the cascade. */
export const CASCADE_STREAMING = ['buffer', 'first_tier', 'last_tier'] as const;
export const cascadeStreamingSchema = z.enum(CASCADE_STREAMING);

/** `(?i)` at the start of a pattern means case-insensitive (JavaScript has no inline flags). */
export function toRegExp(pattern: string): RegExp {
  return pattern.startsWith('(?i)') ? new RegExp(pattern.slice(4), 'iu') : new RegExp(pattern, 'u');
}

const regexString = z.string().min(1).superRefine((s, ctx) => {
  try {
    toRegExp(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});

const providerModel = { provider: z.string().min(1), model: z.string().min(1) };

export const judgeCheckSchema = z.strictObject({
  ...providerModel,
  /** Lowest passing grade on the judge's 1..10 scale. */
  threshold: z.number().min(1).max(10).default(7),
  /** The answer is cut to this many characters before it is shown to the judge. */
  max_answer_chars: z.number().int().min(200).max(200_000).default(6000),
  /** What an unusable verdict (judge error, no grade in its reply) means for the answer. */
  on_error: z.enum(['escalate', 'accept']).default('escalate'),
});

export const logprobsCheckSchema = z.strictObject({
  /** Mean token log-probability must be at least this (e.g. -0.7). */
  min_mean: z.number().max(0).optional(),
  /** Every token's log-probability must be at least this (e.g. -6). */
  min_token: z.number().max(0).optional(),
  /** An answer without log-probabilities passes or fails this check. */
  when_missing: z.enum(['pass', 'fail']).default('pass'),
}).refine((c) => c.min_mean !== undefined || c.min_token !== undefined, { message: 'give min_mean, min_token or both' });

export const checksSchema = z.strictObject({
  /** The answer must be valid JSON; with `schema` (default true) it must also match the request's response_format json_schema. */
  json: z.union([z.boolean(), z.strictObject({ schema: z.boolean().default(true) })]).optional(),
  /** Every pattern must match the answer. */
  must_match: z.array(regexString).optional(),
  /** No pattern may match the answer. */
  must_not_match: z.array(regexString).optional(),
  /** Minimum answer length in characters (after trimming). */
  min_length: z.number().int().positive().optional(),
  /** Fail refusals and "I don't know" answers (curated phrases and patterns, plus the message's `refusal` field). */
  refusal: z.boolean().optional(),
  /** Fail an answer cut off by the token limit (finish_reason "length"). */
  finish_length: z.boolean().optional(),
  /** Token log-probability confidence, when the upstream returns logprobs. */
  logprobs: logprobsCheckSchema.optional(),
  /** A cheap model grades the answer 1..10. */
  judge: judgeCheckSchema.optional(),
});

export const cascadeTierSchema = z.strictObject({
  ...providerModel,
  checks: checksSchema.default({}),
});

export const cascadeSchema = z.array(cascadeTierSchema).min(2, 'a cascade needs at least 2 tiers').max(8);

/** True when the checks enable at least one check. */
export function hasChecks(c: z.output<typeof checksSchema>): boolean {
  return (
    (c.json !== undefined && c.json !== false) ||
    (c.must_match?.length ?? 0) > 0 ||
    (c.must_not_match?.length ?? 0) > 0 ||
    c.min_length !== undefined ||
    c.refusal === true ||
    c.finish_length === true ||
    c.logprobs !== undefined ||
    c.judge !== undefined
  );
}

/** Cross-field checks of a rule's cascade; issues carry paths relative to the cascade list. */
export function cascadeProblems(tiers: z.output<typeof cascadeSchema>): Array<{ path: (string | number)[]; message: string }> {
  const out: Array<{ path: (string | number)[]; message: string }> = [];
  const seen = new Set<string>();
  tiers.forEach((t, i) => {
    const key = `${t.provider}/${t.model}`;
    if (seen.has(key)) out.push({ path: [i], message: `tier ${key} appears twice` });
    seen.add(key);
    if (i < tiers.length - 1 && !hasChecks(t.checks)) {
      out.push({ path: [i, 'checks'], message: 'every tier but the last needs at least one check (else it would never escalate)' });
    }
  });
  return out;
}

/** The gateway-wide `cascade` section. */
export const cascadeConfigSchema = z.strictObject({
  /** Default streaming behaviour of rules that do not set `cascade_streaming`. */
  streaming: cascadeStreamingSchema.default('buffer'),
});

export type CascadeConfig = z.output<typeof cascadeConfigSchema>;
