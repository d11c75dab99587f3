/**
 * The whole config file: the gateway's own sections plus each feature area's section, validated together so a file is
 * accepted or refused whole.
 */
import { z } from 'zod';
import { cacheConfigSchema } from '../cache/config.js';
import { cascadeConfigSchema } from '../cascade/config.js';
import { governanceConfigSchema } from '../governance/config.js';
import { observabilityConfigSchema } from '../observability/config.js';
import { compile, type ProviderCatalog } from '../rules/compile.js';
import { rulesConfigSchema } from '../rules/config.js';
import { responsesConfigSchema } from '../edges/openai-responses/config.js';
import { safetyConfigSchema } from '../safety/config.js';
import { SemanticConfigSchema } from '../semantic/config.js';
import { sessionsConfigSchema } from '../sessions/config.js';
import { aliasSchema, balancingSchema, circuitSchema, loggingSchema, providerSchema, redisSchema, routingSchema, serverSchema } from './core-schema.js';

export const configSchema = z.object({
  server: serverSchema.default(serverSchema.parse({})),
  providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'provider names use letters, digits, _ . -'), providerSchema).default({}),
  aliases: z.record(z.string().min(1), aliasSchema).default({}),
  routing: routingSchema.default(routingSchema.parse({})),
  balancing: balancingSchema.default(balancingSchema.parse({})),
  circuit: circuitSchema.default(circuitSchema.parse({})),
  logging: loggingSchema.default(loggingSchema.parse({})),
  redis: redisSchema.default(redisSchema.parse({})),
  rules: rulesConfigSchema,
  semantic: SemanticConfigSchema.prefault({}),
  cache: cacheConfigSchema.prefault({}),
  governance: governanceConfigSchema.prefault({}),
  observability: observabilityConfigSchema.prefault({}),
  cascade: cascadeConfigSchema.prefault({}),
  safety: safetyConfigSchema.prefault({}),
  sessions: sessionsConfigSchema.prefault({}),
  responses: responsesConfigSchema.prefault({}),
}).strict().superRefine((cfg, ctx) => {
  // Cross-references: every provider/model named by an alias or fallback must name a configured provider.
  const check = (target: string, path: (string | number)[]): void => {
    const provider = target.slice(0, target.indexOf('/'));
    if (!(provider in cfg.providers)) ctx.addIssue({ code: 'custom', path, message: `unknown provider '${provider}'` });
  };
  for (const [name, alias] of Object.entries(cfg.aliases)) {
    if (name in cfg.providers) ctx.addIssue({ code: 'custom', path: ['aliases', name], message: `alias '${name}' shadows a provider name` });
    alias.targets.forEach((t, i) => check(t.target, ['aliases', name, 'targets', i]));
    alias.fallbacks.forEach((t, i) => check(t, ['aliases', name, 'fallbacks', i]));
  }
  // Rule expressions are compiled here too, so a CEL error is reported with the file's line like any other issue.
  const compiled = compile(cfg.rules, { providers: providerCatalog(cfg.providers) });
  if (!compiled.ok) {
    for (const p of compiled.problems) ctx.addIssue({ code: 'custom', path: pathOf(p.path), message: p.rule ? `rule "${p.rule}": ${p.message}` : p.message });
  }
  for (const k of ['pii', 'jailbreak'] as const) {
    const t = cfg.safety[k].target;
    if (t !== undefined) check(t, ['safety', k, 'target']);
  }
  for (const [from, chain] of Object.entries(cfg.routing.fallbacks)) {
    chain.forEach((t, i) => check(t, ['routing', 'fallbacks', from, i]));
  }
  if (cfg.responses.store === 'redis' && cfg.redis.url === undefined) {
    ctx.addIssue({ code: 'custom', path: ['responses', 'store'], message: 'the redis store needs redis.url' });
  }
});

/** `rules[2].cel_expression` → ['rules', 2, 'cel_expression']. */
function pathOf(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

export type Config = z.infer<typeof configSchema>;

/**
 * What each provider serves, for checking rule targets: its listed models plus its Azure deployment names; an empty list
 * means the provider lists nothing and serves whatever model it is asked for.
 */
export function providerCatalog(providers: Readonly<Record<string, { models: readonly string[]; deployments?: Readonly<Record<string, string>> | undefined }>>): ProviderCatalog {
  return new Map(Object.entries(providers).map(([name, p]) => [name, [...new Set([...p.models, ...Object.keys(p.deployments ?? {})])]]));
}
export type ProviderConfig = Config['providers'][string];
export type AliasConfig = Config['aliases'][string];
