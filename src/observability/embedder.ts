/**
 * Embedding metrics without touching the embedder: wraps the model backend (the object the batching layer calls once per
 * batch) so every call reports its latency and batch size.
 */
import { performance } from 'node:perf_hooks';

interface BatchEmbedder {
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** Returns `inner` with `embed` timed; all other members are the inner object's own. */
export function instrumentEmbedder<E extends BatchEmbedder>(inner: E, record: (latencyMs: number, batchSize: number) => void): E {
  const embed = inner.embed.bind(inner);
  const timed = async (texts: string[]): Promise<Float32Array[]> => {
    const started = performance.now();
    const out = await embed(texts);
    record(performance.now() - started, texts.length);
    return out;
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'embed') return timed;
      const v: unknown = Reflect.get(target, prop);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
