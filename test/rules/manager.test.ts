import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { GatewayError } from '../../src/errors.js';
import { RuleManager, RuleSetError } from '../../src/rules/manager.js';
import { MemoryRuleStore, type RuleStore } from '../../src/rules/store.js';
import { RedisRuleStore } from '../../src/rules/store-redis.js';
import { redisSkip, TEST_REDIS_URL } from '../helpers/requires.js';
import { rule } from './helpers.js';

const tgt = [{ provider: 'openai', model: 'gpt-4o-mini' }];
const fileRules = [
  rule({ name: 'file-a', cel_expression: 'model == "a"', targets: tgt, priority: 1 }),
  rule({ name: 'file-b', cel_expression: 'model == "b"', targets: tgt, priority: 2 }),
];

async function rejects(p: Promise<unknown>, status: number, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.status, status);
    assert.match(err.message, re);
    return true;
  });
}

async function overlaySemantics(store: RuleStore): Promise<void> {
  const m = await RuleManager.create({ store, fileRules });
  try {
    const changes: number[] = [];
    m.onChange((s) => changes.push(s.rules.length));
    assert.deepEqual(m.list().map((r) => `${r.rule.name}:${r.source}`), ['file-a:file', 'file-b:file']);

    await m.create({ name: 'api-1', cel_expression: 'budget_used > 50', targets: tgt });
    await rejects(m.create({ name: 'api-1', cel_expression: 'true', targets: tgt }), 409, /already exists/);
    await m.setEnabled('file-a', false);
    await m.replace('file-b', { cel_expression: 'model == "bb"', targets: tgt });
    assert.deepEqual(m.list().map((r) => `${r.rule.name}:${r.source}:${r.rule.enabled}`), ['file-a:file+api:false', 'file-b:file+api:true', 'api-1:api:true']);
    assert.equal(m.get('file-b')!.rule.cel_expression, 'model == "bb"');
    assert.equal(m.current().byName.get('file-a')!.enabled, false);
    assert.deepEqual([...m.current().references].sort(), ['budget_used', 'model']);

    // Deleting a file rule leaves a tombstone; deleting an API rule removes it.
    await m.remove('file-a');
    await m.remove('api-1');
    await rejects(m.remove('api-1'), 404, /No routing rule named 'api-1'/);
    await rejects(m.setEnabled('file-a', true), 404, /file-a/);
    assert.deepEqual(m.list().map((r) => r.rule.name), ['file-b']);

    // A config reload keeps the overlay: the tombstone still hides file-a, the override still replaces file-b.
    const res = m.setFileRules([...fileRules, rule({ name: 'file-c', cel_expression: 'true', targets: tgt })]);
    assert.equal(res.ok, true);
    assert.deepEqual(m.list().map((r) => `${r.rule.name}:${r.source}`), ['file-b:file+api', 'file-c:file']);
    assert.equal(m.get('file-b')!.rule.cel_expression, 'model == "bb"');

    // Invalid changes are refused whole and change nothing.
    const before = m.current();
    const version = m.storeVersion();
    await rejects(m.create({ name: 'bad', cel_expression: 'intent_score > "x"', targets: tgt }), 400, /admin rule "bad".*no such overload/);
    await rejects(m.create({ name: 'bad2', cel_expression: 'true', targets: [{ provider: 'p', model: 'm', weight: 0.5 }] }), 400, /weights must sum to 1/);
    await rejects(m.create({ name: 'bad3', targets: tgt }), 400, /cel_expression/);
    await rejects(m.replace('file-b', { name: 'other', cel_expression: 'true', targets: tgt }), 400, /path names 'file-b'/);
    await rejects(m.setEnabled('file-b', 'yes'), 400, /boolean/);
    assert.equal(m.current(), before);
    assert.equal(m.storeVersion(), version);

    // A config reload that does not compile keeps the old set and reports the problem by config path.
    const bad = m.setFileRules([rule({ name: 'x', cel_expression: 'nope == 1', targets: tgt })]);
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.problems[0]!.path, /^rules\[0\]\.cel_expression$/);
    assert.equal(m.current(), before);
    assert.equal(changes.length, 6);
  } finally {
    await m.close();
  }
}

test('memory store: overlay semantics, tombstones, whole-set validation', async () => {
  await overlaySemantics(new MemoryRuleStore());
});

test('a stored overlay that no longer compiles with the file rules fails start with the reasons', async () => {
  const store = new MemoryRuleStore();
  const m = await RuleManager.create({ store, fileRules });
  await m.create({ name: 'uses-a', cel_expression: 'true', targets: tgt, fallbacks: ['openai/x'] });
  await m.close();
  await assert.rejects(
    RuleManager.create({ store, fileRules, providers: new Map([['anthropic', []]]) }),
    (err: unknown) => err instanceof RuleSetError && /unknown provider 'openai'/.test(err.message),
  );
});

const clients: RedisClientType[] = [];
async function redis(): Promise<RedisClientType> {
  const c = createClient({ url: TEST_REDIS_URL, disableOfflineQueue: true }) as RedisClientType;
  await c.connect();
  clients.push(c);
  return c;
}
const prefixes: string[] = [];
after(async () => {
  const c = clients[0];
  if (c) for (const p of prefixes) {
    const keys = await c.keys(`${p}*`);
    if (keys.length) await c.del(keys);
  }
  for (const c of clients) c.destroy();
});

function waitFor(m: RuleManager, pred: () => boolean): Promise<void> {
  if (pred()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = m.onChange(() => {
      if (pred()) {
        off();
        resolve();
      }
    });
  });
}

test('redis store: overlay semantics', { skip: redisSkip }, async () => {
  const prefix = `test:rules:${randomUUID()}:`;
  prefixes.push(prefix);
  await overlaySemantics(new RedisRuleStore(await redis(), prefix));
});

test('redis store: two managers see each other\'s changes; concurrent writes both land', { skip: redisSkip }, async () => {
  const prefix = `test:rules:${randomUUID()}:`;
  prefixes.push(prefix);
  const m1 = await RuleManager.create({ store: new RedisRuleStore(await redis(), prefix), fileRules });
  const m2 = await RuleManager.create({ store: new RedisRuleStore(await redis(), prefix), fileRules });
  try {
    await m1.create({ name: 'from-1', cel_expression: 'true', targets: tgt, priority: 500 });
    await waitFor(m2, () => m2.get('from-1') !== undefined);
    assert.equal(m2.current().byName.get('from-1')!.priority, 500);

    await m2.setEnabled('file-a', false);
    await waitFor(m1, () => m1.get('file-a')?.rule.enabled === false);

    await m2.remove('file-b');
    await waitFor(m1, () => m1.get('file-b') === undefined);

    // Both write at once against the same version: compare-and-set makes one retry on a fresh snapshot.
    await Promise.all([
      m1.create({ name: 'c1', cel_expression: 'true', targets: tgt }),
      m2.create({ name: 'c2', cel_expression: 'true', targets: tgt }),
    ]);
    await waitFor(m1, () => m1.get('c2') !== undefined);
    await waitFor(m2, () => m2.get('c1') !== undefined);
    assert.equal(m1.storeVersion(), m2.storeVersion());

    // A third instance starting later loads the same effective set.
    const m3 = await RuleManager.create({ store: new RedisRuleStore(await redis(), prefix), fileRules });
    assert.deepEqual(m3.list(), m1.list());
    await m3.close();
  } finally {
    await m1.close();
    await m2.close();
  }
});

test('redis store down: a change is refused with 503 and the current set keeps serving', { skip: redisSkip }, async () => {
  const prefix = `test:rules:${randomUUID()}:`;
  prefixes.push(prefix);
  const c = createClient({ url: TEST_REDIS_URL, disableOfflineQueue: true }) as RedisClientType;
  await c.connect();
  const m = await RuleManager.create({ store: new RedisRuleStore(c, prefix), fileRules });
  const before = m.current();
  c.destroy();
  await rejects(m.create({ name: 'x', cel_expression: 'true', targets: tgt }), 503, /store is unavailable/);
  assert.equal(m.current(), before);
  await m.close();
});

test('a config reload while an admin change is being stored is not undone by that change', async () => {
  // A store whose writes wait until released, as a Redis round trip does.
  const inner = new MemoryRuleStore();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const store: RuleStore = {
    kind: 'memory',
    read: () => inner.read(),
    write: async (v, name, entry) => {
      await held;
      return inner.write(v, name, entry);
    },
    subscribe: (l) => inner.subscribe(l),
  };
  const m = await RuleManager.create({ store, fileRules });
  try {
    const created = m.create({ name: 'api-x', cel_expression: 'model == "x"', targets: tgt });
    await new Promise((r) => setImmediate(r)); // the change has read the store and is writing
    const reloaded = [...fileRules, rule({ name: 'file-c', cel_expression: 'model == "c"', targets: tgt, priority: 3 })];
    assert.ok(m.setFileRules(reloaded).ok);
    assert.ok(m.current().byName.has('file-c'));
    release();
    await created;
    assert.deepEqual([...m.current().byName.keys()].sort(), ['api-x', 'file-a', 'file-b', 'file-c']);
    assert.deepEqual(m.list().map((e) => e.rule.name), ['file-a', 'file-b', 'file-c', 'api-x']);
  } finally {
    await m.close();
  }
});
