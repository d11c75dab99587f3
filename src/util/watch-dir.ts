/**
 * fs.watch on a folder, kept on the folder the path names. Watching follows the inode: when the folder is replaced (moved
 * away and another moved in, a common way to deploy a new version atomically), the old watcher hears nothing more.
 * `refresh()` — called by the owner once a burst of events has settled — re-arms the watch when the path now names
 * another folder.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface DirWatcher {
  refresh(): Promise<void>;
  close(): void;
}

const identityOf = (s: { dev: number; ino: number }): string => `${s.dev}:${s.ino}`;

/** Throws like fs.watch when the folder cannot be watched. */
export function watchDir(dir: string, onEvent: (name: string | null) => void, onError: (err: Error) => void): DirWatcher {
  let watcher: FSWatcher | undefined;
  let closed = false;
  const arm = (): void => {
    const next = watch(dir, { persistent: false }, (_event, name) => onEvent(name));
    next.on('error', onError);
    watcher?.close();
    watcher = next;
  };
  arm();
  let identity = identityOf(statSync(dir));
  return {
    async refresh() {
      const s = await stat(dir).catch(() => undefined);
      if (closed || s === undefined || identityOf(s) === identity) return;
      try {
        arm();
        identity = identityOf(s);
      } catch (err) {
        onError(err as Error);
      }
    },
    close() {
      closed = true;
      watcher?.close();
      watcher = undefined;
    },
  };
}
