/**
 * CounterStore on Redis: one Lua script checks every limit and adds every amount atomically, so several gateway instances
 * sharing one Redis never pass a check that the combined counters would refuse. Values are integers (INCRBY); weights may be
 * fractional (sliding windows), which Lua handles as doubles.
 *
 * A counter that does not hold an integer (written by hand or by another program, or a key of another type) never turns a
 * limit off: the check reads it as the whole limit and rewrites it to the limit (its expiry kept), so the limit refuses
 * until its window ends and later settlements add to it again; a settlement skips it rather than failing the others.
 */
import { refuses, UnansweredReserve, type CounterAdjustment, type CounterCheck, type CounterStore, type ReserveResult } from './counters.js';
import { RedisUnavailableError } from './redis-guard.js';
import { RedisScript, type Redis } from './redis-script.js';

// The integer a counter holds (0 when absent), or nil when it holds anything INCRBY would refuse (another type included).
const COUNTER_VALUE = `
local function counter_value(key)
  local raw = redis.pcall('GET', key)
  if raw == false then return 0 end
  if type(raw) ~= 'string' or #raw > 17 then return nil end
  if raw ~= '0' and not string.find(raw, '^%-?[1-9]%d*$') then return nil end
  local v = tonumber(raw)
  if math.abs(v) > 9007199254740991 then return nil end
  return v
end
`;

/** The value MGET read, as the scripts read it: NaN when the counter holds no integer. */
const INTEGER = /^(?:0|-?[1-9]\d{0,15})$/;
const counterValue = (v: string | null): number => {
  if (v === null) return 0;
  const n = INTEGER.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : NaN;
};

// ARGV: n, then per check: nkeys, limit, amount, ttl_ms, weight_1..weight_nkeys. KEYS: every check's keys, in order.
// Returns {0} when all pass, else {index (1-based), current, value_1..value_nkeys} as strings to keep fractions.
const RESERVE = new RedisScript(`${COUNTER_VALUE}
local n = tonumber(ARGV[1])
local a = 2
local k = 1
local plan = {}
for i = 1, n do
  local nk = tonumber(ARGV[a])
  local limit_arg = ARGV[a + 1]
  local limit = tonumber(limit_arg)
  local amount = tonumber(ARGV[a + 2])
  local ttl = tonumber(ARGV[a + 3])
  a = a + 4
  local cur = 0
  local vals = {}
  for j = 1, nk do
    local key = KEYS[k + j - 1]
    local v = counter_value(key)
    if v == nil then
      redis.log(redis.LOG_WARNING, 'switchyard: counter ' .. key .. ' held no integer; it now reads as its limit')
      redis.call('SET', key, limit_arg, 'KEEPTTL')
      v = limit
    end
    vals[j] = tostring(v)
    cur = cur + v * tonumber(ARGV[a + j - 1])
  end
  if cur >= limit or cur + amount > limit then
    local out = { tostring(i), tostring(cur) }
    for j = 1, nk do out[j + 2] = vals[j] end
    return out
  end
  plan[i] = { KEYS[k], amount, ttl }
  a = a + nk
  k = k + nk
end
for i = 1, n do
  local p = plan[i]
  if p[2] ~= 0 then
    redis.call('INCRBY', p[1], p[2])
    if p[3] > 0 and redis.call('PTTL', p[1]) == -1 then redis.call('PEXPIRE', p[1], p[3]) end
  end
end
return { '0' }
`);

// ARGV: per key: amount, ttl_ms.
const ADJUST = new RedisScript(`${COUNTER_VALUE}
for i = 1, #KEYS do
  local amount = tonumber(ARGV[2 * i - 1])
  local ttl = tonumber(ARGV[2 * i])
  if amount ~= 0 and counter_value(KEYS[i]) ~= nil then
    redis.call('INCRBY', KEYS[i], amount)
    if ttl > 0 and redis.call('PTTL', KEYS[i]) == -1 then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
return 0
`);

const int = (n: number): string => String(Math.round(n));

export class RedisCounterStore implements CounterStore {
  readonly kind = 'redis' as const;

  constructor(private readonly client: Redis) {}

  async reserve(checks: readonly CounterCheck[]): Promise<ReserveResult> {
    if (checks.length === 0) return { ok: true };
    const keys: string[] = [];
    const args: string[] = [String(checks.length)];
    for (const c of checks) {
      args.push(String(c.keys.length), String(c.limit), int(c.amount), int(c.ttlMs));
      for (let j = 0; j < c.keys.length; j++) {
        keys.push(c.keys[j]);
        args.push(String(c.weights[j] ?? 1));
      }
    }
    let reply: string[];
    try {
      reply = (await RESERVE.run(this.client, keys, args)) as string[];
    } catch (err) {
      // Timed out after it was sent: the script may still run, and what it adds must then be given back by the caller.
      if (err instanceof RedisUnavailableError && err.late !== undefined) {
        throw new UnansweredReserve(err.message, err.late.then((r) => Array.isArray(r) && String(r[0]) === '0', () => false));
      }
      throw err;
    }
    const index = Number(reply[0]);
    if (index === 0) return { ok: true };
    const current = Number(reply[1]);
    const values = reply.slice(2).map(Number);
    const check = checks[index - 1];
    // Sanity: the script and the in-memory store share one refusal rule.
    if (!refuses(current, check.amount, check.limit)) throw new Error('counter script returned an inconsistent refusal');
    return { ok: false, index: index - 1, current, values };
  }

  async adjust(adjustments: readonly CounterAdjustment[]): Promise<void> {
    const keys: string[] = [];
    const args: string[] = [];
    for (const a of adjustments) {
      if (a.amount === 0) continue;
      keys.push(a.key);
      args.push(int(a.amount), int(a.ttlMs));
    }
    if (keys.length > 0) await ADJUST.run(this.client, keys, args);
  }

  async read(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const values = await this.client.mGet([...keys]);
    return values.map(counterValue);
  }
}
