/**
 * On-disk embedding cache, so a restart does not re-embed unchanged reference text. One append-only file per embedder id
 * under the cache dir; each record is the 20-byte SHA-1 of the text followed by `dim` little-endian float32s. A torn last
 * record (a crash mid-append) is ignored, and cut off before the next append so later records stay aligned. The file may
 * be deleted at any time; it is rebuilt on demand. It is only a cache: given `onError`, a file that cannot be read or
 * written (a read-only volume) is reported there and every example is embedded, never failing a load.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import type { Embedder } from '../embedder/types.js';

const KEY_BYTES = 20;

export const textDigest = (text: string): Buffer => createHash('sha1').update(text).digest();

export class EmbeddingStore {
  readonly file: string;
  private readonly recordBytes: number;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    dir: string,
    readonly embedderId: string,
    readonly dim: number,
    /** Told of a read or write failure (then treated as a miss or skipped); without it, failures reject. */
    private readonly onError?: (message: string, err: unknown) => void,
  ) {
    const safe = embedderId.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80);
    const tag = createHash('sha1').update(`${embedderId}\0${dim}`).digest('hex').slice(0, 10);
    this.file = path.join(dir, `${safe}-${tag}.bin`);
    this.recordBytes = KEY_BYTES + dim * 4;
  }

  /** Vectors found on disk for the given digests (hex keys of the map are the digests). */
  async lookup(digests: Buffer[]): Promise<Map<string, Float32Array>> {
    const found = new Map<string, Float32Array>();
    if (digests.length === 0) return found;
    let data: Buffer;
    try {
      await this.writes;
      data = await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return found;
      if (!this.onError) throw err;
      this.onError(`cannot read the embedding cache ${this.file}; embedding every example`, err);
      return found;
    }
    const wanted = new Set(digests.map((d) => d.toString('hex')));
    const records = Math.floor(data.length / this.recordBytes);
    for (let r = 0; r < records; r++) {
      const off = r * this.recordBytes;
      const key = data.toString('hex', off, off + KEY_BYTES);
      if (!wanted.has(key)) continue;
      const vec = new Float32Array(this.dim);
      for (let d = 0; d < this.dim; d++) vec[d] = data.readFloatLE(off + KEY_BYTES + d * 4);
      found.set(key, vec);
    }
    return found;
  }

  /** Appends records; writes are serialised so records never interleave within this process. */
  append(entries: Array<{ digest: Buffer; vector: Float32Array }>): Promise<void> {
    if (entries.length === 0) return this.writes;
    const buf = Buffer.allocUnsafe(entries.length * this.recordBytes);
    entries.forEach((e, i) => {
      const off = i * this.recordBytes;
      e.digest.copy(buf, off);
      for (let d = 0; d < this.dim; d++) buf.writeFloatLE(e.vector[d], off + KEY_BYTES + d * 4);
    });
    const write = this.writes.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const size = await stat(this.file).then((s) => s.size, () => 0);
      if (size % this.recordBytes !== 0) await truncate(this.file, size - (size % this.recordBytes));
      await appendFile(this.file, buf);
    });
    this.writes = write.catch(() => undefined);
    const onError = this.onError;
    return onError ? write.catch((err: unknown) => onError(`cannot write the embedding cache ${this.file}`, err)) : write;
  }
}

export interface EmbedAllResult {
  vectors: Float32Array[];
  /** How many came from the disk cache. */
  cached: number;
}

/**
 * Embeds many texts, reusing the disk cache when one is given and appending what it had to compute. Model calls go out in
 * chunks of `batch` texts so a large catalogue never builds one giant tensor.
 */
export async function embedAll(
  embedder: Embedder,
  texts: string[],
  store: EmbeddingStore | undefined,
  batch = 32,
): Promise<EmbedAllResult> {
  const digests = texts.map(textDigest);
  const known = store ? await store.lookup(digests) : new Map<string, Float32Array>();
  const vectors: Float32Array[] = new Array(texts.length);
  const missing: number[] = [];
  texts.forEach((_, i) => {
    const v = known.get(digests[i].toString('hex'));
    if (v) vectors[i] = v;
    else missing.push(i);
  });
  const fresh: Array<{ digest: Buffer; vector: Float32Array }> = [];
  for (let s = 0; s < missing.length; s += batch) {
    const idx = missing.slice(s, s + batch);
    const out = await embedder.embed(idx.map((i) => texts[i]));
    idx.forEach((i, j) => {
      vectors[i] = out[j];
      fresh.push({ digest: digests[i], vector: out[j] });
    });
  }
  if (store) await store.append(fresh);
  return { vectors, cached: texts.length - missing.length };
}
