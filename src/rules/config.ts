/**
 * Config schema of the `rules` section: a list of routing rules. The same schema validates rules sent to the admin API.
 * Structural checks (types, required fields) live here; cross-field checks (weights, scope ids, CEL) live in ./compile.ts.
 */
import { z } from 'zod';

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

export const ruleSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must start with a letter or digit and use only letters, digits, . _ : -'),
  description: z.string().optional(),
  cel_expression: z.string().min(1).max(8192),
  targets: z.array(targetSchema).min(1),
  /** "provider/model" entries; when given (even empty) they replace the default fallback chain. */
  fallbacks: z.array(z.string().regex(/^[^/\s]+\/\S+$/, 'must be "provider/model"')).optional(),
  scope: z.enum(RULE_SCOPES).default('global'),
  scope_id: z.string().min(1).optional(),
  priority: z.number().int().default(100),
  enabled: z.boolean().default(true),
  chain_rule: z.boolean().default(false),
  cache: cachePolicySchema.optional(),
});

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
