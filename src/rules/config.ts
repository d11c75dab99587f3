/**
 * Config schema of the `rules` section: a list of routing rules. The same schema validates rules sent to the admin API.
 * Structural checks (types, required fields) live here; cross-field checks (weights, scope ids, CEL) live in ./compile.ts.
 */
import { z } from 'zod';
import { cascadeProblems, cascadeSchema, cascadeStreamingSchema } from '../cascade/config.js';

export const RULE_SCOPES = ['virtual_key', 'team', 'customer', 'global'] as const;
export type RuleScope = (typeof RULE_SCOPES)[number];

export const targetSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  /** Share of matching requests; omitted on every target = equal split. */
  weight: z.number().min(0).max(1).optional(),
});

export const cachePolicySchema = z.strictObject({
  enabled: z.boolean().optional(),
  threshold: z.number().min(0).max(1).optional(),
  ttl_s: z.number().int().positive().optional(),
});

const ruleObjectSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must start with a letter or digit and use only letters, digits, . _ : -'),
  description: z.string().optional(),
  cel_expression: z.string().min(1).max(8192),
  /** Required unless `cascade` is given. */
  targets: z.array(targetSchema).min(1).optional(),
  /** Tiers tried in order, each answer checked before the next is tried (see docs/cascade.md); instead of `targets`. */
  cascade: cascadeSchema.optional(),
  /** Streamed requests: buffer each tier (default), or skip the cascade and stream the first / last tier. */
  cascade_streaming: cascadeStreamingSchema.optional(),
  /** "provider/model" entries; when given (even empty) they replace the default fallback chain. */
  fallbacks: z.array(z.string().regex(/^[^/\s]+\/\S+$/, 'must be "provider/model"')).optional(),
  scope: z.enum(RULE_SCOPES).default('global'),
  scope_id: z.string().min(1).optional(),
  priority: z.number().int().default(100),
  enabled: z.boolean().default(true),
  chain_rule: z.boolean().default(false),
  cache: cachePolicySchema.optional(),
  /**
   * Sticky conversations: a request whose session (see the `sessions` section) was last answered by one of this rule's
   * targets goes there again, instead of a new weighted pick, so a conversation keeps its model.
   */
  sticky: z.boolean().optional(),
  /** Safety action on matching requests, besides routing: refuse them, or redact their PII before they leave. */
  action: z.enum(['block', 'redact']).optional(),
});

/**
 * A rule has `targets` or `cascade`. A cascade rule's target is its first tier (filled in, so everything that reads
 * targets keeps working); a listed rule given back with that filled-in target is accepted as is.
 */
export const ruleSchema = ruleObjectSchema
  .superRefine((r, ctx) => {
    if (r.cascade === undefined) {
      if (r.targets === undefined) ctx.addIssue({ code: 'custom', path: ['targets'], message: 'a rule needs targets or a cascade' });
      if (r.cascade_streaming !== undefined) ctx.addIssue({ code: 'custom', path: ['cascade_streaming'], message: 'only a cascade rule takes cascade_streaming' });
      return;
    }
    const first = r.cascade[0]!;
    const echo = r.targets?.length === 1 && r.targets[0]!.provider === first.provider && r.targets[0]!.model === first.model && r.targets[0]!.weight === undefined;
    if (r.targets !== undefined && !echo) ctx.addIssue({ code: 'custom', path: ['targets'], message: 'a rule takes targets or a cascade, not both' });
    if (r.fallbacks !== undefined) ctx.addIssue({ code: 'custom', path: ['fallbacks'], message: 'a cascade rule takes no fallbacks (its later tiers are the fallbacks)' });
    if (r.sticky) ctx.addIssue({ code: 'custom', path: ['sticky'], message: 'a cascade rule cannot be sticky (its tiers are tried in order)' });
    for (const p of cascadeProblems(r.cascade)) ctx.addIssue({ code: 'custom', path: ['cascade', ...p.path], message: p.message });
  })
  .transform((r) => ({ ...r, targets: r.targets ?? [{ provider: r.cascade![0]!.provider, model: r.cascade![0]!.model }] }));

/** A rule as written in config or sent to the admin API (after defaults). */
export type RuleSpec = z.output<typeof ruleSchema>;
/** A rule as accepted on input (defaults optional). */
export type RuleInput = z.input<typeof ruleSchema>;

export const rulesConfigSchema = z.array(ruleSchema).default([]);
export type RulesConfig = z.output<typeof rulesConfigSchema>;

/** One problem with a rule set, located by config path (`rules[2].targets[0].weight`) and rule name when known. */
export interface RuleProblem {
  path: string;
  rule?: string;
  message: string;
}

/** Renders a zod issue path as `a[0].b`. */
export function formatPath(base: string, path: ReadonlyArray<PropertyKey>): string {
  let out = base;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** Parses a list of rules; problems carry config paths under `base`. */
export function parseRules(
  input: unknown,
  base = 'rules',
): { ok: true; rules: RuleSpec[] } | { ok: false; problems: RuleProblem[] } {
  const r = rulesConfigSchema.safeParse(input);
  if (r.success) return { ok: true, rules: r.data };
  const problems = r.error.issues.map((i) => {
    const idx = typeof i.path[0] === 'number' ? i.path[0] : undefined;
    const name = idx !== undefined && Array.isArray(input) ? (input[idx] as { name?: unknown } | undefined)?.name : undefined;
    return { path: formatPath(base, i.path), message: i.message, ...(typeof name === 'string' ? { rule: name } : {}) };
  });
  return { ok: false, problems };
}

/** Parses one rule (admin API body); problems carry paths relative to the body. */
export function parseRule(input: unknown): { ok: true; rule: RuleSpec } | { ok: false; problems: RuleProblem[] } {
  const r = ruleSchema.safeParse(input);
  if (r.success) return { ok: true, rule: r.data };
  return { ok: false, problems: r.error.issues.map((i) => ({ path: formatPath('', i.path), message: i.message })) };
}
