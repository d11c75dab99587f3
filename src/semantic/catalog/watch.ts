/** Watches a folder (fs.watch) and calls `onChange` once per burst of events, `debounceMs` after the last one. */
import { watch, type FSWatcher } from 'node:fs';

export interface FolderWatcher {
  close(): void;
}

export function watchFolder(dir: string, debounceMs: number, onChange: () => void, onError: (err: Error) => void): FolderWatcher {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined = watch(dir, { persistent: false }, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
  });
  watcher.on('error', (err) => onError(err));
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}
