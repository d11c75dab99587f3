/**
 * Shapes shared by the cascade runner, its checks and the routing decision that carries a cascade plan.
 */
import type { z } from 'zod';
import type { cascadeStreamingSchema, cascadeTierSchema, checksSchema, judgeCheckSchema } from './config.js';

/** One tier of a cascade: where to send the request and what its answer must pass to be returned. */
export type CascadeTier = z.output<typeof cascadeTierSchema>;
export type CascadeChecks = z.output<typeof checksSchema>;
export type JudgeCheck = z.output<typeof judgeCheckSchema>;
/** buffer: check each tier's stream before the first byte; first_tier / last_tier: no cascade, stream that tier. */
export type CascadeStreaming = z.output<typeof cascadeStreamingSchema>;

/** What the checks read from one tier's reply (its first choice). */
export interface Answer {
  /** Message content (chat) or text (completions); "" when none. */
  text: string;
  finishReason: string | null;
  /** The first choice calls tools: content checks do not apply. */
  toolCalls: boolean;
  /** The message's `refusal` field, when the upstream set one. */
  refusal: string | null;
  /** Token log-probabilities, when the upstream returned them. */
  logprobs: number[] | undefined;
}

/** Why an answer failed, as a short stable code (metrics label, header, log), plus a human detail. */
export type FailReason =
  | 'invalid_json'
  | 'schema_mismatch'
  | 'must_match'
  | 'must_not_match'
  | 'too_short'
  | 'refusal'
  | 'truncated'
  | 'low_confidence'
  | 'judge_score'
  | 'judge_error'
  | 'upstream_error';

export type Verdict = { pass: true } | { pass: false; reason: FailReason; detail: string };

export const PASS: Verdict = Object.freeze({ pass: true });
export const fail = (reason: FailReason, detail: string): Verdict => ({ pass: false, reason, detail });
