/** Turns a validated reference-prompt folder into a ready classifier: embed (disk cache first), index, train. */
import type { SemanticConfig } from '../config.js';
import { defaultThreshold, IntentClassifier, NONE_INTENT, type ClassifierSettings } from '../classifier.js';
import { categoryNameText } from '../text.js';
import type { Embedder } from '../embedder/types.js';
import { embedAll, type EmbeddingStore } from './embedding-store.js';
import type { CatalogSettings, CatalogSource } from './load.js';

export interface BuiltCatalog {
  source: CatalogSource;
  classifier: IntentClassifier;
  stats: { examples: number; fromDiskCache: number; embedMs: number; buildMs: number };
  /** With `defer`: resolves to the classifier with its trained head (undefined when the method has none). */
  training?: Promise<IntentClassifier | undefined>;
}

/** Effective classifier settings: an explicit config value, else the folder's fitted value, else the built-in default. */
export function resolveSettings(config: SemanticConfig['classifier'], fitted: CatalogSettings): ClassifierSettings {
  return {
    method: config.method,
    k: config.k,
    top_k: config.top_k,
    threshold: config.threshold ?? fitted.threshold ?? defaultThreshold(config.method, config.lexical),
    min_margin: config.min_margin ?? fitted.min_margin ?? 0,
    lexical: config.lexical,
    calibrate: config.calibration && config.threshold === undefined && fitted.threshold === undefined,
    calibration_quantile: config.calibration_quantile,
  };
}

export async function buildCatalog(
  source: CatalogSource,
  embedder: Embedder,
  store: EmbeddingStore | undefined,
  config: Pick<SemanticConfig, 'classifier' | 'index'>,
  maxBatch = 32,
  defer = false,
): Promise<BuiltCatalog> {
  const t0 = performance.now();
  // Each category's examples, plus its name as one more when configured and not already among them.
  const examples = source.categories.map((c) => {
    // 'none' (out-of-scope examples) names no request, so its name is never an example.
    const name = config.classifier.name_as_example && c.name !== NONE_INTENT ? categoryNameText(c.name) : '';
    return name === '' || c.examples.includes(name) ? c.examples : [...c.examples, name];
  });
  const texts = examples.flat();
  const { vectors, cached } = await embedAll(embedder, texts, store, maxBatch);
  const t1 = performance.now();
  const grouped: Float32Array[][] = [];
  let at = 0;
  for (const e of examples) {
    grouped.push(vectors.slice(at, at + e.length));
    at += e.length;
  }
  const { ready, trained } = IntentClassifier.buildDeferred(
    source.categories.map((c) => ({ name: c.name, threshold: c.threshold, metadata: c.metadata })),
    grouped,
    embedder.dim,
    resolveSettings(config.classifier, source.settings),
    config.index,
    {},
    examples,
  );
  const classifier = defer ? ready : ((await trained) ?? ready);
  return {
    source,
    classifier,
    stats: { examples: texts.length, fromDiskCache: cached, embedMs: t1 - t0, buildMs: performance.now() - t1 },
    training: defer ? trained : undefined,
  };
}
