/**
 * Wraps an async generator so `cleanup` runs exactly once — when it finishes, when it throws, or when the consumer stops
 * early — including when the consumer stops before its first `next()`, where a plain generator's `finally` never runs.
 */
export function withCleanup<T>(gen: AsyncGenerator<T>, cleanup: () => void | Promise<void>): AsyncIterable<T> {
  let cleaned = false;
  const finish = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await cleanup();
  };
  const iterator: AsyncIterator<T> = {
    async next() {
      let r: IteratorResult<T>;
      try {
        r = await gen.next();
      } catch (err) {
        await finish();
        throw err;
      }
      if (r.done) await finish();
      return r;
    },
    async return(value?: unknown) {
      try {
        await gen.return(undefined as never);
      } finally {
        await finish();
      }
      return { done: true, value: value as T };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
