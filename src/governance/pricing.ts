/**
 * Model prices (USD per million tokens) and cost arithmetic. Costs are kept in integer nano-dollars (1e-9 USD) so budgets add
 * up exactly over any number of requests; `costOf` reports USD.
 */
import type { Usage } from '../providers/types.js';
import type { Price } from './config.js';

/** List prices of common models, USD per million tokens (input, output). Config entries override these. */
export const BUILTIN_PRICES: Readonly<Record<string, Price>> = Object.freeze({
  // OpenAI
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-4': { input: 30, output: 60 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'o1': { input: 15, output: 60 },
  'o1-mini': { input: 1.1, output: 4.4 },
  'o3': { input: 2, output: 8 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  'text-embedding-ada-002': { input: 0.1, output: 0 },
  // Anthropic
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-3-5-sonnet': { input: 3, output: 15 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-opus': { input: 15, output: 75 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
  // Groq (Llama, Gemma)
  'llama-3.1-8b-instant': { input: 0.05, output: 0.08 },
  'llama-3.3-70b-versatile': { input: 0.59, output: 0.79 },
  'llama3-8b-8192': { input: 0.05, output: 0.08 },
  'llama3-70b-8192': { input: 0.59, output: 0.79 },
  'gemma2-9b-it': { input: 0.2, output: 0.2 },
  // Mistral
  'mistral-large': { input: 2, output: 6 },
  'mistral-medium': { input: 0.4, output: 2 },
  'mistral-small': { input: 0.1, output: 0.3 },
  'ministral-8b': { input: 0.1, output: 0.1 },
  'open-mistral-nemo': { input: 0.15, output: 0.15 },
  'codestral': { input: 0.3, output: 0.9 },
  'mistral-embed': { input: 0.1, output: 0 },
  // Google (OpenAI-compatible endpoint)
  'gemini-2.5-pro': { input: 1.25, output: 10 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4 },
  'gemini-1.5-pro': { input: 1.25, output: 5 },
  'gemini-1.5-flash': { input: 0.075, output: 0.3 },
  // DeepSeek
  'deepseek-chat': { input: 0.27, output: 1.1 },
  'deepseek-reasoner': { input: 0.55, output: 2.19 },
});

/** Nano-dollars per token for a price of 1 USD per million tokens. */
const NANOS_PER_TOKEN_PER_USD_PER_M = 1000;

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
  private readonly overrides: Readonly<Record<string, Price>>;
  private readonly unknown: Price;
  private readonly memo = new Map<string, { price: Price; known: boolean }>();
  private readonly builtinNames: string[];

  constructor(private readonly opts: PricingOptions = {}) {
    this.overrides = opts.overrides ?? {};
    this.unknown = opts.unknown ?? { input: 0, output: 0 };
    this.builtinNames = Object.keys(BUILTIN_PRICES).sort((a, b) => b.length - a.length);
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
    const exact = o[`${provider}/${model}`] ?? o[model] ?? BUILTIN_PRICES[model];
    if (exact !== undefined) return exact;
    const slash = model.lastIndexOf('/');
    const bare = slash >= 0 ? model.slice(slash + 1) : model;
    if (bare !== model) {
      const p = o[bare] ?? BUILTIN_PRICES[bare];
      if (p !== undefined) return p;
    }
    for (const name of this.builtinNames) {
      if (bare.length > name.length && bare.startsWith(name) && '-@:'.includes(bare[name.length])) return BUILTIN_PRICES[name];
    }
    return undefined;
  }

  /** Cost in integer nano-dollars. */
  costNanos(provider: string, model: string, promptTokens: number, completionTokens: number): number {
    const { price } = this.priceOf(provider, model);
    return Math.round((promptTokens * price.input + completionTokens * price.output) * NANOS_PER_TOKEN_PER_USD_PER_M);
  }

  /** Cost in USD of a reply's usage. */
  costOf(provider: string, model: string, usage: Usage): number {
    return nanosToUsd(this.costNanos(provider, model, usage.prompt_tokens, usage.completion_tokens));
  }
}
