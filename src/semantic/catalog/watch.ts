/**
 * Watches a folder and calls `onChange` once per burst of events, `debounceMs` after the last one. A folder replaced by
 * another under the same path is watched from then on (see src/util/watch-dir.ts).
 */
import { watchDir, type DirWatcher } from '../../util/watch-dir.js';

export interface FolderWatcher {
  close(): void;
}

export function watchFolder(dir: string, debounceMs: number, onChange: () => void, onError: (err: Error) => void): FolderWatcher {
  let timer: NodeJS.Timeout | undefined;
  const watcher: DirWatcher = watchDir(
    dir,
    () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        void watcher.refresh().then(onChange);
      }, debounceMs);
    },
    onError,
  );
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
