/**
 * Model prices (USD per million tokens) and cost arithmetic. Costs are kept in integer nano-dollars (1e-9 USD) so budgets add
 * up exactly over any number of requests; `costOf` reports USD. The default table is data: pricing/models.yaml.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../config/paths.js';
import type { Usage } from '../providers/types.js';
import { priceSchema, type Price } from './config.js';

/** The price file shipped with the package (see its header). */
export const PRICE_FILE = path.join(PACKAGE_ROOT, 'pricing', 'models.yaml');

const priceFileSchema = z.strictObject({ models: z.record(z.string(), priceSchema) });

/** Parses a price file's text; throws naming the first invalid entry. */
export function parsePriceFile(text: string, source: string): Record<string, Price> {
  const parsed = priceFileSchema.safeParse(parseYaml(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data.models;
}

/**
 * List prices of common models, USD per million tokens, from the shipped price file. Read once when the module loads (start-up,
 * never on a request); config entries (`governance.pricing`) override these.
 */
export const BUILTIN_PRICES: Readonly<Record<string, Price>> = Object.freeze(parsePriceFile(readFileSync(PRICE_FILE, 'utf8'), PRICE_FILE));

/**
 * The same as a map, which is what lookups read: a model name comes from a request, and a plain object answers names such
 * as `constructor` or `toString` with Object.prototype's members (a price of NaN, which would void every budget it reached).
 */
const BUILTIN: ReadonlyMap<string, Price> = new Map(Object.entries(BUILTIN_PRICES));

/** Nano-dollars per token for a price of 1 USD per million tokens. */
const NANOS_PER_TOKEN_PER_USD_PER_M = 1000;

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

export const nanosToUsd = (nanos: number): number => nanos / 1e9;
export const usdToNanos = (usd: number): number => Math.round(usd * 1e9);

export interface PricingOptions {
  /** Overrides, keyed `provider/model` or `model`. */
  overrides?: Readonly<Record<string, Price>>;
  /** For models found nowhere. */
  unknown?: Price;
  /** Called once per model that has no price. */
  onUnknown?: (provider: string, model: string) => void;
}

/**
 * Resolves a price: override `provider/model`, override `model`, built-in `model`, then the longest built-in name the model
 * starts with at a `-`, `@` or `:` boundary (so dated snapshots such as `gpt-4o-mini-2024-07-18` find `gpt-4o-mini`). A model
 * named `vendor/model` is also tried as `model`. Results are memoised per provider/model.
 */
export class Pricing {
  private readonly overrides: ReadonlyMap<string, Price>;
  private readonly unknown: Price;
  private readonly memo = new Map<string, { price: Price; known: boolean }>();
  private readonly builtinNames: string[];

  constructor(private readonly opts: PricingOptions = {}) {
    this.overrides = new Map(Object.entries(opts.overrides ?? {}));
    this.unknown = opts.unknown ?? { input: 0, output: 0 };
    this.builtinNames = [...BUILTIN.keys()].sort((a, b) => b.length - a.length);
  }

  priceOf(provider: string, model: string): { price: Price; known: boolean } {
    const memoKey = `${provider}/${model}`;
    let hit = this.memo.get(memoKey);
    if (hit === undefined) {
      const price = this.resolve(provider, model);
      hit = price === undefined ? { price: this.unknown, known: false } : { price, known: true };
      if (!hit.known) this.opts.onUnknown?.(provider, model);
      if (this.memo.size > 10_000) this.memo.clear();
      this.memo.set(memoKey, hit);
    }
    return hit;
  }

  private resolve(provider: string, model: string): Price | undefined {
    const o = this.overrides;
    const exact = o.get(`${provider}/${model}`) ?? o.get(model) ?? BUILTIN.get(model);
    if (exact !== undefined) return exact;
    const slash = model.lastIndexOf('/');
    const bare = slash >= 0 ? model.slice(slash + 1) : model;
    if (bare !== model) {
      const p = o.get(bare) ?? BUILTIN.get(bare);
      if (p !== undefined) return p;
    }
    for (const name of this.builtinNames) {
      if (bare.length > name.length && bare.startsWith(name) && '-@:'.includes(bare[name.length])) return BUILTIN.get(name);
    }
    return undefined;
  }

  /** Cost in integer nano-dollars. */
  costNanos(provider: string, model: string, promptTokens: number, completionTokens: number): number {
    const { price } = this.priceOf(provider, model);
    return Math.round((promptTokens * price.input + completionTokens * price.output) * NANOS_PER_TOKEN_PER_USD_PER_M);
  }

  /**
   * Cost in integer nano-dollars of a reply's usage: cached prompt tokens (prompt_tokens_details.cached_tokens) at the cached
   * input price, reasoning tokens (completion_tokens_details.reasoning_tokens, part of completion_tokens) at the reasoning
   * price; each defaults to the plain input or output price.
   */
  usageNanos(provider: string, model: string, usage: Usage): number {
    const { price } = this.priceOf(provider, model);
    const prompt = usage.prompt_tokens;
    const completion = usage.completion_tokens;
    const cached = Math.min(prompt, count(usage.prompt_tokens_details?.cached_tokens));
    const reasoning = Math.min(completion, count(usage.completion_tokens_details?.reasoning_tokens));
    const perM = (prompt - cached) * price.input + cached * (price.cached_input ?? price.input) +
      (completion - reasoning) * price.output + reasoning * (price.reasoning ?? price.output);
    return Math.round(perM * NANOS_PER_TOKEN_PER_USD_PER_M);
  }

  /** Cost in USD of a reply's usage. */
  costOf(provider: string, model: string, usage: Usage): number {
    return nanosToUsd(this.usageNanos(provider, model, usage));
  }
}
