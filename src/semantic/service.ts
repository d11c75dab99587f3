/**
 * The semantic facade the pipeline uses: a batched, cached embedder and the intent classifier over the reference-prompt
 * folder. The folder is loaded and validated whole at start-up (an invalid set fails start-up with file:line); later
 * changes are picked up by a debounced watcher, validated, embedded and trained off the hot path and swapped in
 * atomically. A failed reload is logged with file:line and the previous set keeps serving.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { buildCatalog, type BuiltCatalog } from './catalog/build.js';
import { EmbeddingStore } from './catalog/embedding-store.js';
import { CatalogError, loadCatalog } from './catalog/load.js';
import { watchFolder, type FolderWatcher } from './catalog/watch.js';
import { NONE_INTENT, type Classification } from './classifier.js';
import type { SemanticConfig } from './config.js';
import { createEmbedder, EmbedderBusy } from './embedder/index.js';

export type { Classification } from './classifier.js';
export { textToEmbed } from './text.js';

export interface CategoryInfo {
  name: string;
  description: string;
  examples: number;
  /** The threshold in force for this category. */
  threshold: number;
  metadata: Record<string, unknown>;
}

export interface SemanticService {
  /**
   * One unit vector for the text: micro-batched with concurrent calls, LRU-cached. Do not modify the result. With `budget`
   * (a request's bounded wait; a function is called only when the text has to queue) it returns EmbedderBusy.refusal when
   * the embedder's queue is full or would take longer than `maxWaitMs`, and with EmbedAborted when the signal fires
   * first; without it the text always queues. `owner` (the caller's virtual key) is whom the embedder's queue is fair
   * between: one owner's flood does not push another's texts out of their budget.
   */
  embed(text: string, budget?: AbortSignal | (() => AbortSignal), maxWaitMs?: number, owner?: string): Promise<Float32Array>;
  /** Texts waiting for a model call now. */
  readonly queued: number;
  /**
   * Classifies an embedding. `text` is what was embedded: the classifier's lexical part reads its wording. Without it, a
   * vector this service's `embed` returned is matched to its text; any other vector is classified by meaning alone.
   */
  classify(vec: Float32Array, text?: string): Classification;
  categories(): CategoryInfo[];
  readonly embedderId: string;
  /** The vector space models fitted on the embedder's similarities belong to (see Embedder.space). */
  readonly embedderSpace: string;
  readonly dim: number;
  readonly ready: boolean;
  /** Reloads the reference prompts now (what the watcher does on a change). Rejects, keeping the old set, on error. */
  reload(): Promise<void>;
  /**
   * Resolves once the current set's classifier head is trained. Classification works before that: blend and linear rank
   * by prototype similarity for the few seconds the head takes to train after a (re)load.
   */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface SemanticDeps {
  rootDir: string;
  logger: Logger;
  /** Called after every model call with its latency and batch size (metrics). */
  onEmbedBatch?: (latencyMs: number, batchSize: number) => void;
}

const NONE: Classification = Object.freeze({ intent: NONE_INTENT, score: 0, margin: 0, top: [], metadata: {} }) as Classification;

/** Describes a reload failure for the log: each problem on its own line with file:line. */
const problemsOf = (err: unknown): string[] => (err instanceof CatalogError ? err.problems : [String((err as Error)?.message ?? err)]);

export async function createSemanticService(config: SemanticConfig, deps: SemanticDeps): Promise<SemanticService> {
  const log = deps.logger.child({ component: 'semantic' });
  if (!config.enabled) return disabledService();
  const embedder = await createEmbedder(config.embedder, deps.rootDir, deps.onEmbedBatch, (msg, err) => log.warn({ err }, msg));
  const dir = path.resolve(deps.rootDir, config.reference_prompts.dir);
  const cacheDir = config.reference_prompts.cache_dir;
  const store = cacheDir === ''
    ? undefined
    : new EmbeddingStore(path.resolve(deps.rootDir, cacheDir), embedder.id, embedder.dim, (msg, err) => log.warn({ err }, msg));
  let closed = false;
  /** The text each vector `embed` returned was computed from (the embedder's LRU hands out the same array per text). */
  const textOf = new WeakMap<Float32Array, string>();
  const maxChars = config.embedder.max_input_chars;

  const build = async (): Promise<BuiltCatalog> => {
    const source = await loadCatalog(dir);
    for (const w of source.warnings) log.warn({ dir }, w);
    return buildCatalog(source, embedder, store, config, config.embedder.max_batch, true);
  };

  /** Swaps in the trained head when it is ready, unless a newer set has replaced this one meanwhile. */
  const adoptTraining = (built: BuiltCatalog) => {
    built.training
      ?.then((trained) => {
        if (!trained || current !== built || closed) return;
        current = { ...built, classifier: trained };
        log.info({ dir, references: trained.size }, 'intent classifier head trained');
      })
      .catch((err: Error) => log.error({ dir, err: err.message }, 'training the intent classifier head failed; ranking by prototypes'));
  };

  let current: BuiltCatalog;
  try {
    current = await build();
  } catch (err) {
    await embedder.close();
    throw err;
  }
  log.info({ dir, categories: current.source.categories.length, ...current.stats }, 'reference prompts loaded');
  adoptTraining(current);

  let running: Promise<void> | undefined;
  let again = false;
  const reload = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          const next = await build();
          if (closed) return;
          current = next; // the atomic swap: classify() reads `current` once per call
          adoptTraining(next);
          log.info({ dir, categories: next.source.categories.length, ...next.stats }, 'reference prompts reloaded');
        } catch (err) {
          log.error({ dir, problems: problemsOf(err) }, 'reference prompts reload failed; the previous set keeps serving');
          if (!again) throw err;
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  let watcher: FolderWatcher | undefined;
  if (config.reference_prompts.watch) {
    watcher = watchFolder(
      dir,
      config.reference_prompts.debounce_ms,
      () => void reload().catch(() => undefined),
      (err) => log.error({ dir, err: err.message }, 'watching the reference-prompt folder failed'),
    );
  }

  return {
    embedderId: embedder.id,
    embedderSpace: embedder.space ?? embedder.id,
    dim: embedder.dim,
    get ready() {
      return !closed;
    },
    get queued() {
      return embedder.queued;
    },
    // The embedder's own promise is handed on (its text noted first): a refusal or an LRU hit is settled when it returns,
    // so the request's budget (src/pipeline/semantic-budget.ts) takes it in the same turn without arming its timer.
    embed: (text, budget, maxWaitMs, owner) => {
      const p = embedder.embedOne(text, budget, maxWaitMs, owner);
      if (p !== EmbedderBusy.refusal) p.then((vec) => { textOf.set(vec, text.slice(0, maxChars)); }, () => undefined);
      return p;
    },
    classify: (vec, text) => current.classifier.classify(vec, text === undefined ? textOf.get(vec) : text.slice(0, maxChars)),
    categories: () => {
      const { classifier, source } = current;
      return source.categories.map((c) => ({
        name: c.name,
        description: c.description,
        examples: c.examples.length,
        threshold: c.threshold ?? classifier.settings.threshold,
        metadata: c.metadata,
      }));
    },
    reload,
    async settled() {
      const built = current;
      await built.training?.catch(() => undefined);
      // adoptTraining's swap runs in the same microtask chain; give it a turn before returning.
      await new Promise((r) => setImmediate(r));
    },
    async close() {
      if (closed) return;
      closed = true;
      watcher?.close();
      await running?.catch(() => undefined);
      await embedder.close();
    },
  };
}

function disabledService(): SemanticService {
  return {
    embedderId: 'disabled',
    embedderSpace: 'disabled',
    dim: 0,
    ready: false,
    queued: 0,
    embed: () => Promise.reject(new Error('semantic features are disabled (semantic.enabled: false)')),
    classify: () => NONE,
    categories: () => [],
    reload: () => Promise.resolve(),
    settled: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
