/**
 * What the proxy benchmark runs: the loads (closed-loop concurrency, open-loop rates, streams), the request workloads, and the
 * Switchyard modes — each mode is a label plus config sections on top of the one-provider base. A mode whose sections the
 * config schema does not (yet) accept is skipped with the validation message.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load.js';
import type { LoadResult, Workload } from './loadgen.js';

export interface LoadDef {
  id: string;
  label: string;
  mode: 'closed' | 'open';
  concurrency?: number;
  rate?: number;
  stream?: boolean;
}

export const LOADS: LoadDef[] = [
  { id: 'c1', label: 'concurrency 1', mode: 'closed', concurrency: 1 },
  { id: 'c16', label: 'concurrency 16', mode: 'closed', concurrency: 16 },
  { id: 'c64', label: 'concurrency 64', mode: 'closed', concurrency: 64 },
  { id: 'r500', label: '500 req/s open loop', mode: 'open', rate: 500 },
  { id: 'r2000', label: '2,000 req/s open loop', mode: 'open', rate: 2000 },
  { id: 'stream_c16', label: 'streams, concurrency 16', mode: 'closed', concurrency: 16, stream: true },
];

export const MODEL = 'gpt-4o-mini';

/** Everyday prompts across several intents; used when the evaluation data is absent. */
export const BUILTIN_PROMPTS = [
  'How do I reset my password when the email link has expired?',
  'Write a Python function that merges two sorted lists.',
  'What is the derivative of x squared times sine x?',
  'Write a short poem about autumn rain on a tin roof.',
  'My order arrived damaged, how can I get a refund?',
  'Explain the difference between TCP and UDP.',
  'Summarise the plot of Hamlet in three sentences.',
  'How are you doing today?',
  'Why does my JavaScript promise never resolve?',
  'Solve for x: 3x + 7 = 22.',
  'Translate "see you tomorrow" into Spanish.',
  'What is a good name for a golden retriever puppy?',
  'Can I change the delivery address after checkout?',
  'Write a limerick about a cat who learns to code.',
  'What is the integral of 1 over x?',
  'How do I undo the last git commit but keep the changes?',
  'Tell me a fun fact about octopuses.',
  'Why was my card declined at the store?',
  'Draft a polite email declining a meeting invitation.',
  'What is the time complexity of quicksort in the worst case?',
  'How many days are there in a leap year?',
  'Suggest a weekend itinerary for Lisbon.',
  'Refactor this loop into a list comprehension: for x in xs: ys.append(x*2)',
  'What are the symptoms of dehydration?',
];

/** Texts for unique requests: CLINC150 validation queries when the evaluation data is present, else the built-in prompts. */
export async function uniquePrompts(dataDir: string | undefined): Promise<{ prompts: string[]; source: string }> {
  if (dataDir !== undefined) {
    try {
      const text = await readFile(join(dataDir, 'clinc150', 'val.jsonl'), 'utf8');
      const prompts = text.split('\n').filter((l) => l.trim() !== '').map((l) => (JSON.parse(l) as { text: string }).text);
      if (prompts.length > 0) return { prompts, source: 'clinc150/val.jsonl' };
    } catch {
      // fall through to the built-in prompts
    }
  }
  return { prompts: BUILTIN_PROMPTS, source: 'built-in prompts' };
}

/** One fixed request, repeated: the pure proxy workload. */
export const fixedWorkload = (): Workload => ({ model: MODEL, hot_prompts: [BUILTIN_PROMPTS[0]], unique_prompts: [], hot_fraction: 1 });

export interface ModeDef {
  id: string;
  label: string;
  /** Config sections merged over the base; entries under `optional` are added only when the schema accepts them. */
  sections: Record<string, unknown>;
  optional?: Record<string, unknown>;
  workload(unique: string[]): Workload;
  loads: string[];
}

export const PURE_MODE: ModeDef = {
  id: 'pure',
  label: 'pure proxy (one provider, cache off, no rules)',
  sections: {},
  optional: { cache: { enabled: false }, semantic: { enabled: false }, rules: [] },
  workload: fixedWorkload,
  loads: LOADS.map((l) => l.id),
};

export const EXTRA_MODES: ModeDef[] = [
  {
    id: 'intent_rule',
    label: 'one intent rule (every request embedded and classified), cache off',
    sections: {
      semantic: { enabled: true },
      rules: [{ name: 'code-route', cel_expression: 'intent == "code"', targets: [{ provider: 'sim', model: MODEL }] }],
    },
    optional: { cache: { enabled: false } },
    workload: (unique) => ({ model: MODEL, hot_prompts: [], unique_prompts: unique, hot_fraction: 0 }),
    loads: ['c1', 'c16', 'r500'],
  },
  {
    id: 'cache_on',
    label: 'semantic cache on (memory store), ~30% repeated questions',
    sections: { cache: { enabled: true, store: 'memory' }, semantic: { enabled: true } },
    optional: { rules: [] },
    workload: (unique) => ({ model: MODEL, hot_prompts: BUILTIN_PROMPTS, unique_prompts: unique, hot_fraction: 0.3 }),
    loads: ['c16', 'r500'],
  },
];

/** The one-provider base every mode starts from. */
export function baseConfig(upstreamUrl: string): Record<string, unknown> {
  return {
    providers: { sim: { kind: 'openai', base_url: upstreamUrl, timeout_ms: 30_000, keys: [{ id: 'bench', value: 'sk-upstream-bench' }], models: [MODEL] } },
    logging: { level: 'info' },
    // The load generator sends no virtual key: anonymous callers are allowed (governance still runs, with no limits).
    governance: { allow_anonymous: true },
  };
}

/** The mode's whole config, or the reason the running schema refuses it. */
export function modeConfig(mode: ModeDef, upstreamUrl: string): { ok: true; config: Record<string, unknown> } | { ok: false; reason: string } {
  const config: Record<string, unknown> = { ...baseConfig(upstreamUrl), ...mode.sections };
  const res = validateConfig(config);
  if (!res.ok) return { ok: false, reason: res.errors.join('; ') };
  for (const [key, value] of Object.entries(mode.optional ?? {})) {
    if (key in config) continue;
    if (validateConfig({ ...config, [key]: value }).ok) config[key] = value;
  }
  return { ok: true, config };
}

/**
 * The unique prompts one target process has been sent so far: each load it serves continues where the previous one
 * stopped, so no unique prompt reaches the same process twice (a repeat would be answered by its embedder's LRU or its
 * cache, and flatter the semantic figures).
 */
export class PromptCursor {
  private sent = 0;

  constructor(private readonly base: Workload) {}

  /** The workload for the next load. */
  next(): Workload {
    return { ...this.base, unique_start: this.sent };
  }

  /** Counts what a load sent. */
  advance(result: LoadResult): void {
    this.sent += result.unique_sent ?? 0;
  }
}
