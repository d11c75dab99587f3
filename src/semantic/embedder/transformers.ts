/**
 * Feature-extraction models (MiniLM, bge-small, gte-small, ...) in ONNX through @huggingface/transformers, loaded from a
 * local folder in the transformers.js layout: config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx or
 * onnx/model_quantized.onnx. Inputs are truncated to the tokenizer's model_max_length; token vectors are mean- or CLS-pooled
 * and L2-normalised.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Pooling } from './pooling.js';
import { poolAndNormalize } from './pooling.js';
import type { Embedder } from './types.js';

export interface TransformersOptions {
  /** Folder name under modelsDir, or a hub model id when allowRemote is set. */
  model: string;
  modelsDir: string;
  allowRemote: boolean;
  pooling: Pooling;
  /** Use onnx/model_quantized.onnx when present. */
  quantized: boolean;
}

const REQUIRED = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
const exists = (p: string) => access(p).then(() => true, () => false);

/** Checks the model folder; names every missing file and how to provide it. Returns the ONNX dtype to load. */
async function checkModelDir(dir: string, model: string, quantized: boolean): Promise<'q8' | 'fp32'> {
  const [files, fp32, q8] = await Promise.all([
    Promise.all(REQUIRED.map((f) => exists(path.join(dir, f)))),
    exists(path.join(dir, 'onnx', 'model.onnx')),
    exists(path.join(dir, 'onnx', 'model_quantized.onnx')),
  ]);
  const missing = REQUIRED.filter((_, i) => !files[i]);
  if (!fp32 && !q8) missing.push('onnx/model.onnx (or onnx/model_quantized.onnx)');
  if (missing.length > 0) {
    throw new Error(
      `embedding model '${model}' cannot load: missing ${missing.map((f) => path.join(dir, f)).join(', ')}. ` +
        `Put the model's transformers.js export (e.g. from the Hugging Face repo Xenova/${model}) in ${dir}, ` +
        `or set semantic.embedder.allow_remote: true to download it; see models/README.md`,
    );
  }
  return q8 && (quantized || !fp32) ? 'q8' : 'fp32';
}

interface Loaded {
  tokenizer: (texts: string[], opts: object) => { input_ids: TensorLike; attention_mask: TensorLike } & Record<string, unknown>;
  model: ((inputs: Record<string, unknown>) => Promise<Record<string, TensorLike>>) & { dispose(): Promise<unknown> };
  hidden: number;
}

interface TensorLike {
  dims: number[];
  data: ArrayLike<number | bigint>;
}

export class TransformersEmbedder implements Embedder {
  readonly id: string;
  readonly dim: number;

  private constructor(
    private readonly loaded: Loaded,
    private readonly pooling: Pooling,
    id: string,
  ) {
    this.dim = loaded.hidden;
    this.id = id;
  }

  static async load(opts: TransformersOptions): Promise<TransformersEmbedder> {
    const dir = path.resolve(opts.modelsDir, opts.model);
    const local = await exists(dir);
    let dtype: 'q8' | 'fp32' = opts.quantized ? 'q8' : 'fp32';
    if (local || !opts.allowRemote) dtype = await checkModelDir(dir, opts.model, opts.quantized);
    const hf = await import('@huggingface/transformers');
    hf.env.allowRemoteModels = opts.allowRemote;
    hf.env.allowLocalModels = true;
    hf.env.localModelPath = path.resolve(opts.modelsDir) + path.sep;
    const [tokenizer, model, config] = await Promise.all([
      hf.AutoTokenizer.from_pretrained(opts.model, { local_files_only: !opts.allowRemote }),
      hf.AutoModel.from_pretrained(opts.model, { local_files_only: !opts.allowRemote, dtype, device: 'cpu' }),
      hf.AutoConfig.from_pretrained(opts.model, { local_files_only: !opts.allowRemote }),
    ]);
    const hidden = Number((config as unknown as Record<string, unknown>).hidden_size ?? (config as unknown as Record<string, unknown>).dim);
    if (!Number.isInteger(hidden) || hidden <= 0) throw new Error(`embedding model '${opts.model}': config.json has no hidden_size`);
    const loaded = { tokenizer, model, hidden } as unknown as Loaded;
    const embedder = new TransformersEmbedder(loaded, opts.pooling, `transformers:${opts.model}:${dtype}:${opts.pooling}`);
    return embedder;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const inputs = this.loaded.tokenizer(texts, { padding: true, truncation: true });
    const outputs = await this.loaded.model(inputs);
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? Object.values(outputs)[0];
    const [batch, seq, dim] = hidden.dims;
    if (dim !== this.dim) throw new Error(`embedding model produced ${dim} dimensions, config.json says ${this.dim}`);
    return poolAndNormalize(hidden.data as ArrayLike<number>, inputs.attention_mask.data, batch, seq, dim, this.pooling);
  }

  async close(): Promise<void> {
    await this.loaded.model.dispose();
  }
}
