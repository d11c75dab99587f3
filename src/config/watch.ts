/**
 * Hot reload: watches the config file's folder (editors often replace files by rename, a ConfigMap swaps a link to a
 * folder), and on a change loads and validates the whole file, then hands it to `apply`. If loading or applying fails, the running config stays and the error is logged.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { parseConfigText, type LoadResult } from './load.js';
import type { Config } from './schema.js';
import { watchDir, type DirWatcher } from '../util/watch-dir.js';

/** A file still being written is read again once it has kept the same size and time for this long. */
const SETTLE_MS = 250;
/** How long to wait for it to settle before refusing it. */
const SETTLE_TRIES = 20;

/**
 * Loads the file once it has stopped changing: the text read must match the file's size and modification time both before
 * and after a short pause. A file that keeps changing is refused like any invalid config (the next change reloads it).
 */
export async function loadSettledConfigFile(path: string, settleMs = SETTLE_MS, tries = SETTLE_TRIES): Promise<LoadResult> {
  for (let i = 0; i < tries; i++) {
    try {
      const before = await stat(path);
      const text = await readFile(path, 'utf8');
      await sleep(settleMs);
      const after = await stat(path);
      if (before.size === after.size && before.mtimeMs === after.mtimeMs && Buffer.byteLength(text) === after.size) return parseConfigText(text, path);
    } catch (err) {
      return { ok: false, errors: [`${path}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`] };
    }
  }
  return { ok: false, errors: [`${path}: the file kept changing for ${(settleMs * tries) / 1000} s; not applied until it settles`] };
}

export interface ConfigWatcher {
  close(): void;
  /**
   * Reload now (SIGHUP, the admin route). Resolves with the errors, empty when applied. Its log line says
   * `trigger: "request"`; a reload the file's change started says `trigger: "file"`, so each outcome can be told apart.
   */
  reload(): Promise<string[]>;
}

export function watchConfig(file: string, apply: (config: Config) => Promise<void> | void, logger: Logger, debounceMs = 150): ConfigWatcher {
  const path = resolve(file);
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<string[]> = Promise.resolve([]);

  const reload = (trigger: 'request' | 'file'): Promise<string[]> => {
    running = running.then(async () => {
      const res = await loadSettledConfigFile(path);
      if (!res.ok) {
        logger.error({ errors: res.errors, file: path, trigger }, 'config reload refused; the running config stays');
        return res.errors;
      }
      try {
        await apply(res.config);
        logger.info({ file: path, trigger }, 'config reloaded');
        return [];
      } catch (err) {
        const errors = (err as { errors?: string[] }).errors ?? [(err as Error).message];
        logger.error({ errors, file: path, trigger }, 'config reload refused; the running config stays');
        return errors;
      }
    });
    return running;
  };

  // What the path resolves to (stat follows links). A change to another entry of the folder reloads only when this moved:
  // a Kubernetes ConfigMap volume swaps a `..data` link, and the file's own name never shows up in the events.
  const identity = (): Promise<string> => stat(path).then((s) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`, () => '');
  let seen = identity();
  let own = false;
  let watcher: DirWatcher | undefined;
  try {
    watcher = watchDir(dirname(path), (changed) => {
      own ||= changed === null || changed === name;
      clearTimeout(timer);
      timer = setTimeout(() => {
        void watcher?.refresh();
        const before = seen;
        seen = identity();
        if (!own) {
          void Promise.all([before, seen]).then(([a, b]) => (a !== b ? reload('file') : undefined));
          return;
        }
        own = false;
        void reload('file');
      }, debounceMs);
    }, (err) => logger.error({ err: err.message, file: path }, 'watching the config folder failed; reload with SIGHUP'));
  } catch (err) {
    logger.warn({ err: (err as Error).message, file: path }, 'cannot watch the config file; reload with SIGHUP');
  }
  return {
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
    reload: () => reload('request'),
  };
}
