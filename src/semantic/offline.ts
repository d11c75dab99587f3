/**
 * Shared plumbing of the offline commands (eval, fit): embedder from flags, reference folder → classifier, labelled rows →
 * raw classifications. Embeddings go through the on-disk cache so repeated runs are fast.
 */
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../config/paths.js';
import { buildCatalog, type BuiltCatalog } from './catalog/build.js';
import { EmbeddingStore, embedAll } from './catalog/embedding-store.js';
import { loadCatalog } from './catalog/load.js';
import type { IntentClassifier } from './classifier.js';
import { SemanticConfigSchema, type SemanticConfig } from './config.js';
import { createBackend } from './embedder/index.js';
import type { Embedder } from './embedder/types.js';
import type { Scored, Thresholds } from './evaluate.js';
import { categoryOf, type LabelledRow } from './labelled.js';

/** Flags every offline command accepts for choosing the embedder and classifier. */
export const EMBEDDER_FLAGS = {
  backend: { type: 'string' },
  model: { type: 'string' },
  'models-dir': { type: 'string' },
  'cache-dir': { type: 'string' },
  method: { type: 'string' },
  k: { type: 'number', integer: true, min: 1, max: 256 },
  lexical: { type: 'string' },
  names: { type: 'string' },
  calibration: { type: 'string' },
  quantized: { type: 'string' },
  'calibration-quantile': { type: 'number', min: 0, max: 0.5 },
} as const;

export const EMBEDDER_HELP = `  --backend use-lite|transformers   embedder (default use-lite)
  --model NAME                      transformers model folder under --models-dir
  --models-dir DIR                  default models
  --quantized true|false            the model's int8 variant (default true; embeddings are cached per variant)
  --cache-dir DIR                   on-disk embedding cache (default: the user's cache folder, \$XDG_CACHE_HOME/switchyard/
                                    embeddings or ~/.cache/switchyard/embeddings; '' disables)
  --method blend|knn|centroid|linear  classifier method (default blend)
  --k N                             neighbours consulted (default 10)
  --lexical true|false              head reads word/character n-grams too (default true)
  --names true|false                category names as extra examples (default true)
  --calibration true|false          blend without a fitted threshold: per-category thresholds calibrated from the
                                    references (default true)
  --calibration-quantile Q          in-scope share a calibrated threshold may reject (default 0.02)`;

/** A true/false flag value (undefined when absent). */
function flagBool(v: string | undefined, flag: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new Error(`--${flag} must be true or false`);
}

/**
 * Where the offline commands keep embeddings when --cache-dir is not given: the user's cache folder, never the current
 * folder or the installed package. $XDG_CACHE_HOME (when absolute), else the platform's per-user cache folder.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  const xdg = env.XDG_CACHE_HOME;
  let base: string;
  if (xdg && path.isAbsolute(xdg)) base = xdg;
  else if (platform === 'win32') base = env.LOCALAPPDATA || path.join(home, 'AppData', 'Local');
  else if (platform === 'darwin') base = path.join(home, 'Library', 'Caches');
  else base = path.join(home, '.cache');
  return path.join(base, 'switchyard', 'embeddings');
}

type EmbedderFlagValues = { [K in keyof typeof EMBEDDER_FLAGS]?: K extends 'k' | 'calibration-quantile' ? number : string };

export function configFromFlags(v: EmbedderFlagValues): SemanticConfig {
  return SemanticConfigSchema.parse({
    // Folders given on the command line are relative to the current folder; the defaults are the package's.
    embedder: { backend: v.backend ?? 'use-lite', model: v.model, models_dir: v['models-dir'] === undefined ? 'models' : path.resolve(v['models-dir']), quantized: flagBool(v.quantized, 'quantized') },
    reference_prompts: { cache_dir: v['cache-dir'] === undefined ? userCacheDir() : v['cache-dir'] && path.resolve(v['cache-dir']), watch: false },
    classifier: {
      method: v.method ?? 'blend',
      k: v.k ?? 10,
      lexical: flagBool(v.lexical, 'lexical'),
      name_as_example: flagBool(v.names, 'names'),
      calibration: flagBool(v.calibration, 'calibration'),
      calibration_quantile: v['calibration-quantile'],
    },
  });
}

export interface Offline {
  config: SemanticConfig;
  embedder: Embedder;
  store: EmbeddingStore | undefined;
  close(): Promise<void>;
}

export async function openOffline(config: SemanticConfig, rootDir = PACKAGE_ROOT): Promise<Offline> {
  const embedder = await createBackend(config.embedder, rootDir, (msg, err) => process.stderr.write(`warning: ${msg} (${err.message})\n`));
  const cacheDir = config.reference_prompts.cache_dir;
  const store = cacheDir === '' ? undefined : new EmbeddingStore(path.resolve(rootDir, cacheDir), embedder.id, embedder.dim);
  return { config, embedder, store, close: () => embedder.close() };
}

export async function buildFromFolder(off: Offline, dir: string): Promise<BuiltCatalog> {
  return buildCatalog(await loadCatalog(dir), off.embedder, off.store, off.config, off.config.embedder.max_batch);
}

/** The thresholds a built folder is running with. */
export function thresholdsOf(built: BuiltCatalog): Thresholds {
  const s = built.classifier.settings;
  const perCategory = new Map<string, number>();
  const inUse = built.classifier.thresholdsInUse;
  built.classifier.categories.forEach((c, i) => {
    if (inUse[i] !== s.threshold) perCategory.set(c.name, inUse[i]);
  });
  return { global: s.threshold, minMargin: s.min_margin, perCategory };
}

export interface ScoredRun {
  scored: Scored[];
  embedMsPerRow: number;
  classifyMs: number[];
}

/** Embeds the rows (disk cache first) and classifies them with rejection off, timing the classifier per row. */
export async function scoreRows(off: Offline, classifier: IntentClassifier, rows: LabelledRow[]): Promise<ScoredRun> {
  const maxChars = off.config.embedder.max_input_chars;
  const t0 = performance.now();
  const { vectors, cached } = await embedAll(off.embedder, rows.map((r) => r.text.slice(0, maxChars)), off.store, off.config.embedder.max_batch);
  const embedMs = performance.now() - t0;
  const raw = classifier.withSettings(
    { ...classifier.settings, threshold: -1, min_margin: 0 },
    classifier.categories.map((c) => ({ ...c, threshold: undefined })),
  );
  const classifyMs: number[] = [];
  const scored = rows.map((r, i) => {
    const t = performance.now();
    const c = raw.classify(vectors[i], r.text.slice(0, maxChars));
    classifyMs.push(performance.now() - t);
    return { gold: categoryOf(r.label), raw: c };
  });
  const fresh = rows.length - cached;
  return { scored, embedMsPerRow: fresh > 0 ? embedMs / fresh : 0, classifyMs };
}

export const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
