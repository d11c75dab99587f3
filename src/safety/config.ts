/**
 * Config schema of the `safety` section: which detectors act and how. Every field has a default, so the section may be
 * omitted: signals are then computed only when a rule reads them, and nothing is blocked or redacted unless a rule says so.
 */
import { z } from 'zod';
import { PII_TYPES } from './detectors/types.js';

const target = z.string().regex(/^[^/\s]+\/\S+$/, 'must be "provider/model"');

export const piiPolicySchema = z
  .strictObject({
    /**
     * none: no policy action (rules may still read the variables and set an action);
     * block: refuse requests carrying PII of the listed types; redact: replace it with typed placeholders before the
     * request leaves the gateway; route: send such requests to `target` (e.g. a self-hosted model).
     */
    action: z.enum(['none', 'block', 'redact', 'route']).default('none'),
    /** The PII kinds the action applies to (detection always reports every kind). */
    types: z.array(z.enum(PII_TYPES)).min(1).default([...PII_TYPES]),
    /** For action route: "provider/model". */
    target: target.optional(),
    /** After redaction, put the original values back into the reply (JSON and streamed). */
    restore: z.boolean().default(true),
    /**
     * Allow the response cache to store replies to requests that carried PII. Off by default: the cache keeps the request
     * text as the entry's key, so even a redacted request would leave the original values in the cache.
     */
    cache_pii: z.boolean().default(false),
  })
  .refine((p) => p.action !== 'route' || p.target !== undefined, { message: 'action route needs a target', path: ['target'] });

export const jailbreakPolicySchema = z
  .strictObject({
    action: z.enum(['none', 'block', 'route']).default('none'),
    /** `jailbreak` is true (and the action applies) at or above this `jailbreak_score`. */
    threshold: z.number().min(0).max(1).default(0.6),
    target: target.optional(),
    /**
     * Reference examples of attacks (a reference-prompt YAML file), relative to the config file. Unset: jailbreak.yaml in
     * the reference-prompt folder (semantic.reference_prompts.dir).
     */
    examples: z.string().min(1).optional(),
    /**
     * Benign near-misses (a reference-prompt YAML file), relative to the config file: a request at least as near to one
     * of them as to any attack example gets no embedding part. Unset: jailbreak_benign.yaml in the reference-prompt folder.
     */
    benign_examples: z.string().min(1).optional(),
    /**
     * Calibration of the embedding score: similarity to the nearest attack example at or below `floor` maps to 0, at or
     * above `ceiling` to 1, linear in between.
     */
    similarity_floor: z.number().min(-1).max(1).default(0.45),
    similarity_ceiling: z.number().min(-1).max(1).default(0.8),
  })
  .refine((p) => p.action !== 'route' || p.target !== undefined, { message: 'action route needs a target', path: ['target'] })
  .refine((p) => p.similarity_ceiling > p.similarity_floor, { message: 'must be above similarity_floor', path: ['similarity_ceiling'] });

export const safetyConfigSchema = z.strictObject({
  pii: piiPolicySchema.prefault({}),
  jailbreak: jailbreakPolicySchema.prefault({}),
});

export type SafetyConfig = z.output<typeof safetyConfigSchema>;
export type PiiPolicy = SafetyConfig['pii'];
export type JailbreakPolicy = SafetyConfig['jailbreak'];
