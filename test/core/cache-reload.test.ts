import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, provider, sims, TEST_SEMANTIC_BUDGET_MS } from '../helpers/gateway.js';

const ADMIN = 'admin-key-for-tests-0123456789';

describe('cache settings reload without a restart', () => {
  let up: Simulator;
  let gw: Gateway;
  let dir: string;
  let file: string;
  // The file a reload reads goes to the gateway as written (test/helpers/gateway.ts adds the test budget only to the config the
  // gateway starts with), so it carries the budget itself: with the default max_wait_ms (20 ms) a busy machine embeds the
  // question too late and the lookup is skipped for overload instead of searched — 'skip' where the test asserts a 'miss'.
  const raw = (cache: Record<string, unknown>) => ({
    server: { admin_key: ADMIN },
    semantic: { max_wait_ms: TEST_SEMANTIC_BUDGET_MS, reference_prompts: { watch: false } },
    governance: { allow_anonymous: true },
    cache: { enabled: true, max_entries: 50, ...cache },
    providers: { up: provider(up, ['m']) },
  });
  /** Writes the config file and reloads it; returns the errors the reload reported. */
  const reload = async (cache: Record<string, unknown>): Promise<string[]> => {
    await writeFile(file, JSON.stringify(raw(cache)));
    return gw.reload();
  };

  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    dir = await mkdtemp(join(tmpdir(), 'switchyard-cache-reload-'));
    file = join(dir, 'switchyard.json');
    await writeFile(file, JSON.stringify(raw({})));
    gw = await gateway(raw({}), file);
  });
  after(async () => {
    await closeAll(gw, [up]);
    await rm(dir, { recursive: true, force: true });
  });

  const ask = async (content: string): Promise<string | null> => {
    const { response } = await client(gw).chat.completions.create({ model: 'up/m', messages: [{ role: 'user', content }] }).withResponse();
    return response.headers.get('x-switchyard-cache');
  };
  const entries = async (): Promise<number> => {
    const res = await fetch(`${gw.url}/v1/cache/stats`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return ((await res.json()) as { entries: number }).entries;
  };

  it('applies a new threshold, refuses a section it cannot use, and applies new bounds at once', async () => {
    assert.equal(await ask('How do I reset my account password?'), 'miss');
    assert.equal(await ask('How can I reset my account password?'), 'hit-semantic');

    assert.deepEqual(await reload({ threshold: 0.995 }), []);
    assert.equal(await ask('How do I change the email address on my account?'), 'miss');
    assert.equal(await ask('How can I change the email address on my account?'), 'miss', 'the raised threshold applies');

    const refused = await reload({ threshold: 0.5, guard: { scorer_file: join(dir, 'missing-model.json') } });
    assert.ok(refused.some((e) => e.includes('cache.guard.scorer_file')), refused.join('\n'));
    assert.equal(await ask('How do I update the phone number on my account?'), 'miss');
    assert.equal(await ask('How can I update the phone number on my account?'), 'miss', 'the refused section changed nothing');

    // How entries are partitioned waits for a restart: applied live it would strand every stored entry.
    assert.deepEqual(await reload({ threshold: 0.995, partition_by: 'global' }), []);
    assert.equal(await ask('How do I reset my account password?'), 'hit-exact');

    assert.ok((await entries()) >= 3);
    // Index settings wait for a restart; the rest of the section still applies.
    assert.deepEqual(await reload({ threshold: 0.995, max_entries: 1, index: { M: 8 } }), []);
    assert.equal(await entries(), 1, 'entries beyond the new bound are evicted at once');

    assert.deepEqual(await reload({ enabled: false }), []);
    assert.equal(await ask('How do I update the phone number on my account?'), 'skip');
  });
});
