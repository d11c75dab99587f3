/**
 * Persistence of rule changes made through the admin API. The store holds an overlay over the config file's rules —
 * one entry per rule name: a full rule (create/replace), an enabled flag (over a file rule) or a tombstone (deletion) — plus
 * a version that every write bumps. Writes are compare-and-set on that version, so a change validated against one view of
 * the whole set is only stored if nobody changed the set meanwhile; every instance is told of every change and reloads.
 */
import type { RuleSpec } from './config.js';

export type OverlayEntry =
  | { op: 'put'; rule: RuleSpec; at: number }
  | { op: 'enabled'; enabled: boolean; at: number }
  | { op: 'delete'; at: number };

export interface OverlaySnapshot {
  version: number;
  entries: ReadonlyMap<string, OverlayEntry>;
}

export interface RuleStore {
  readonly kind: 'memory' | 'redis';
  /** A consistent snapshot of the overlay and its version. */
  read(): Promise<OverlaySnapshot>;
  /**
   * Sets (or with `null` removes) the overlay entry of `name` if the version is still `expectedVersion`.
   * Returns the new version, or undefined when the version moved on (the caller re-reads and retries).
   */
  write(expectedVersion: number, name: string, entry: OverlayEntry | null): Promise<number | undefined>;
  /** Calls `listener` after every change by any instance; resolves once listening. Returns an unsubscribe function. */
  subscribe(listener: () => void): Promise<() => Promise<void>>;
}

/** One process (or several managers in one process sharing the instance). Entries are kept serialised, never shared. */
export class MemoryRuleStore implements RuleStore {
  readonly kind = 'memory' as const;
  private version = 0;
  private readonly entries = new Map<string, string>();
  private readonly listeners = new Set<() => void>();

  read(): Promise<OverlaySnapshot> {
    const entries = new Map<string, OverlayEntry>();
    for (const [k, v] of this.entries) entries.set(k, JSON.parse(v) as OverlayEntry);
    return Promise.resolve({ version: this.version, entries });
  }

  write(expectedVersion: number, name: string, entry: OverlayEntry | null): Promise<number | undefined> {
    if (expectedVersion !== this.version) return Promise.resolve(undefined);
    if (entry) this.entries.set(name, JSON.stringify(entry));
    else this.entries.delete(name);
    this.version++;
    for (const l of this.listeners) queueMicrotask(l);
    return Promise.resolve(this.version);
  }

  subscribe(listener: () => void): Promise<() => Promise<void>> {
    const own = (): void => listener();
    this.listeners.add(own);
    return Promise.resolve(() => {
      this.listeners.delete(own);
      return Promise.resolve();
    });
  }
}
