/**
 * Hot reload: watches the config file's folder (editors often replace files by rename), and on a change loads and validates
 * the whole file, then hands it to `apply`. If loading or applying fails, the running config stays and the error is logged.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { loadConfigFile } from './load.js';
import type { Config } from './schema.js';

export interface ConfigWatcher {
  close(): void;
  /** Reload now (also used by SIGHUP). Resolves with the errors, empty when applied. */
  reload(): Promise<string[]>;
}

export function watchConfig(file: string, apply: (config: Config) => Promise<void> | void, logger: Logger, debounceMs = 150): ConfigWatcher {
  const path = resolve(file);
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<string[]> = Promise.resolve([]);

  const reload = (): Promise<string[]> => {
    running = running.then(async () => {
      const res = await loadConfigFile(path);
      if (!res.ok) {
        logger.error({ errors: res.errors, file: path }, 'config reload refused; the running config stays');
        return res.errors;
      }
      try {
        await apply(res.config);
        logger.info({ file: path }, 'config reloaded');
        return [];
      } catch (err) {
        const errors = (err as { errors?: string[] }).errors ?? [(err as Error).message];
        logger.error({ errors, file: path }, 'config reload refused; the running config stays');
        return errors;
      }
    });
    return running;
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), debounceMs);
    });
  } catch (err) {
    logger.warn({ err: (err as Error).message, file: path }, 'cannot watch the config file; reload with SIGHUP');
  }
  return {
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
    reload,
  };
}
