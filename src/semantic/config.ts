/**
 * The `semantic` config section: local embedder, reference-prompt catalogue, HNSW index and intent classifier.
 * Every field has a default, so the whole section may be omitted.
 */
import { z } from 'zod';

export const EmbedderConfigSchema = z
  .object({
    /** `use-lite`: the bundled Universal Sentence Encoder Lite; `transformers`: an ONNX model from models_dir. */
    backend: z.enum(['use-lite', 'transformers']).default('use-lite'),
    /** For `transformers`: folder name under models_dir (or a model id when allow_remote is true). */
    model: z.string().min(1).optional(),
    /** Where local models live: relative to the config file; unset, the package's models/ folder. */
    models_dir: z.string().min(1).default('models'),
    /** Allow the transformers backend to download a model that is not in models_dir. */
    allow_remote: z.boolean().default(false),
    /** How long concurrent embed calls wait to share one model call. */
    batch_window_ms: z.number().min(0).max(1000).default(0),
    max_batch: z.number().int().min(1).max(1024).default(32),
    /**
     * `use-lite`: padded tokens (rows × the longest row's tokens) one model call may hold; a larger batch runs as several
     * calls, shortest texts first. onnxruntime keeps the buffers of the largest call it has run, per worker, so this bounds
     * the model's memory; texts of like length share a call, so less is padding (docs/embeddings.md, "Memory").
     */
    max_batch_tokens: z.number().int().min(1).max(1_000_000).default(512),
    /**
     * Texts of requests that may wait for a model call at once; past it a request goes on without an embedding
     * (semantic_ready false) instead of queueing. Start-up and offline embedding is not bounded by it.
     */
    max_queue: z.number().int().min(1).max(100_000).default(128),
    /** Recently embedded texts kept in memory (0 disables). */
    lru_size: z.number().int().min(0).default(10_000),
    /** Longer inputs are cut to this many characters before tokenising; the model's own token limit applies too. */
    max_input_chars: z.number().int().min(16).default(2_000),
    /** Pooling for the transformers backend (`mean` for MiniLM/gte, `cls` for bge). */
    pooling: z.enum(['mean', 'cls']).default('mean'),
    /**
     * Run the int8 variant of the model. `use-lite`: the graph's weight matrix products get int8 weights (per-column
     * scales) and run on onnxruntime's integer kernels, about twice as fast at equal quality (docs/semantic.md); the tfjs
     * runtime has no int8 variant and runs float. `transformers`: onnx/model_quantized.onnx when present.
     */
    quantized: z.boolean().default(true),
    /**
     * For `use-lite`: `onnx` runs the graph on onnxruntime (native), `tfjs` on TF.js WASM; `auto`
     * uses onnx and falls back to tfjs (with a warning) when onnxruntime cannot load. Same vectors either way.
     */
    runtime: z.enum(['auto', 'onnx', 'tfjs']).default('auto'),
    /**
     * Threads one onnxruntime model call may use; `auto` sizes it from the available cores (cores / concurrency).
     */
    threads: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto'),
    /**
     * Model calls that may run at once, one worker thread each (a batch starts while the previous one runs); `auto`: 2 on a
     * machine with 2 or more cores (fewer when `threads` already takes them), else 1.
     */
    concurrency: z.union([z.literal('auto'), z.number().int().min(1).max(16)]).default('auto'),
    /**
     * Scheduling priority of the model's worker threads (Linux): added to the process's nice value (0 keeps it; at most 19), or `idle`
     * (SCHED_IDLE: a core only when no other thread of any process wants it, given up at once when one does; nice 19 where
     * it cannot be set). When the cores are busy, the event loop that answers requests then runs before the model, so
     * overload degrades requests instead of queueing them. `idle` suits a host that runs nothing else: next to any other
     * busy process the model gets almost no time (docs/embeddings.md).
     */
    worker_priority: z.union([z.literal('idle'), z.number().int().min(0).max(19)]).default(19),
  })
  .strict();

export const SemanticConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    embedder: EmbedderConfigSchema.prefault({}),
    reference_prompts: z
      .object({
        /** The reference-prompt folder: relative to the config file; unset, the package's example categories. */
        dir: z.string().min(1).default('reference-prompts'),
        watch: z.boolean().default(true),
        /** Debounce for folder changes before a reload. */
        debounce_ms: z.number().int().min(0).default(250),
        /** On-disk embedding cache, relative to the config file (unset: .cache/embeddings in the package); '' disables it. */
        cache_dir: z.string().default('.cache/embeddings'),
      })
      .strict()
      .prefault({}),
    index: z
      .object({
        M: z.number().int().min(2).max(128).default(16),
        ef_construction: z.number().int().min(8).default(200),
        ef_search: z.number().int().min(1).default(64),
      })
      .strict()
      .prefault({}),
    classifier: z
      .object({
        /** `blend` (default): logistic head + prototypes + neighbour vote; or one of them alone. */
        method: z.enum(['blend', 'knn', 'centroid', 'linear']).default('blend'),
        /** Neighbours consulted by the vote. */
        k: z.number().int().min(1).max(256).default(10),
        /**
         * Global acceptance threshold on the winning score; a category's own `threshold` overrides it. Unset: the value
         * `fit` stored in the folder's _settings.yaml, else the method's built-in default.
         */
        threshold: z.number().min(-1).max(1).optional(),
        /** Reject when the winner leads the runner-up by less than this. Unset: _settings.yaml, else 0. */
        min_margin: z.number().min(0).max(2).optional(),
        /** How many intents `top` lists. */
        top_k: z.number().int().min(1).max(50).default(5),
        /**
         * blend/linear: the head also reads hashed word and character n-grams of the text (trained on the reference
         * prompts' wording), so requests are ranked by meaning and wording together.
         */
        lexical: z.boolean().default(true),
        /** Use each category's name (`report_lost_card` → "report lost card") as one more reference example. */
        name_as_example: z.boolean().default(true),
        /**
         * blend: while no threshold is set (here or by `fit` in _settings.yaml), each category's threshold is lowered to
         * what its own references score out of sample (calibration.ts), so broad categories are not rejected by a
         * threshold made for narrow ones. Costs K more head trainings at load time (in the background).
         */
        calibration: z.boolean().default(true),
        /**
         * The share of a category's in-scope requests its calibrated threshold may reject (the conformal quantile).
         * 0.02 was chosen over 0.05 on a tuning half of task-type data (docs/reference-prompts.md, "Calibration").
         */
        calibration_quantile: z.number().min(0).max(0.5).default(0.02),
      })
      .strict()
      .prefault({}),
    /**
     * The latency budget of a request's semantic work: the embedding and the cache lookup together wait at most this long
     * (counted from the first of them). Past it the request goes on without them: intent "unavailable", semantic_ready
     * false, the cache skipped ("overload"); never an error. Applies on reload.
     */
    max_wait_ms: z.number().int().min(0).max(60_000).default(20),
    /** Which part of a request is embedded. */
    embed_text: z.enum(['last_user', 'all_user', 'all']).default('last_user'),
  })
  .strict();

export type EmbedderConfig = z.infer<typeof EmbedderConfigSchema>;
export type SemanticConfig = z.infer<typeof SemanticConfigSchema>;
export type ClassifierConfig = SemanticConfig['classifier'];
export type EmbedTextMode = SemanticConfig['embed_text'];

/** The config with every default applied. */
export const defaultSemanticConfig = (): SemanticConfig => SemanticConfigSchema.parse({});
