/**
 * Redis rule store: the overlay is a hash (rule name → JSON entry) next to a version counter; a Lua script does the
 * compare-and-set write, bumps the version and publishes it, so every instance hears of every change and reloads.
 */
import type { RedisClientType } from 'redis';
import type { OverlayEntry, OverlaySnapshot, RuleStore } from './store.js';

const WRITE = `
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v ~= tonumber(ARGV[1]) then return -1 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[2], ARGV[2]) else redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
local nv = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[4], tostring(nv))
return nv
`;

export class RedisRuleStore implements RuleStore {
  readonly kind = 'redis' as const;
  private readonly versionKey: string;
  private readonly overlayKey: string;
  readonly channel: string;

  /** `client` is connected (with disableOfflineQueue); keys live under `prefix`. */
  constructor(
    private readonly client: RedisClientType,
    prefix: string,
  ) {
    this.versionKey = `${prefix}rules:version`;
    this.overlayKey = `${prefix}rules:overlay`;
    this.channel = `${prefix}rules:changed`;
  }

  async read(): Promise<OverlaySnapshot> {
    const [version, hash] = (await this.client.multi().get(this.versionKey).hGetAll(this.overlayKey).exec()) as unknown as [
      string | null,
      Record<string, string>,
    ];
    const entries = new Map<string, OverlayEntry>();
    for (const [name, json] of Object.entries(hash ?? {})) entries.set(name, JSON.parse(json) as OverlayEntry);
    return { version: version === null ? 0 : Number(version), entries };
  }

  async write(expectedVersion: number, name: string, entry: OverlayEntry | null): Promise<number | undefined> {
    const res = await this.client.eval(WRITE, {
      keys: [this.versionKey, this.overlayKey],
      arguments: [String(expectedVersion), name, entry ? JSON.stringify(entry) : '', this.channel],
    });
    const v = Number(res);
    return v < 0 ? undefined : v;
  }

  async subscribe(listener: () => void): Promise<() => Promise<void>> {
    const sub = this.client.duplicate();
    sub.on('error', () => {
      /* reconnects on its own; the manager reloads on the next notification or start */
    });
    await sub.connect();
    await sub.subscribe(this.channel, () => listener());
    // Notifications sent while the subscription was down are lost: reload after every reconnect.
    sub.on('ready', () => listener());
    return async () => {
      try {
        await sub.unsubscribe(this.channel);
      } finally {
        sub.destroy();
      }
    };
  }
}
