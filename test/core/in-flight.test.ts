/**
 * Admission at the door (server.max_in_flight), against a gateway process bounded at four requests at once and an upstream
 * that holds every answer 3 s: one key's burst takes the four places and has the rest refused at once (503 with
 * Retry-After, in the caller's protocol's envelope), while another key's request still gets in and is answered. Nothing
 * queues: the refusals come back while the admitted requests are still being served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { APIError } from 'openai';
import type { Simulator } from '../../src/simulator/types.js';
import { simGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const FLOOD_KEY = 'sk-sy-in-flight-flooding-key-01';
const QUIET_KEY = 'sk-sy-in-flight-quiet-key-00001';

describe('requests in flight, bounded and shared between virtual keys (gateway process)', () => {
  let upstream: Simulator;
  let gw: GatewayProcess;

  before(async () => {
    ({ upstream, gw } = await simGatewayProcess({ name: 'slow', latencyMs: 3000 }, [
      'server: { max_in_flight: 4 }',
      'governance:',
      `  keys: [{ id: flood, name: flood, key: ${FLOOD_KEY} }, { id: quiet, name: quiet, key: ${QUIET_KEY} }]`,
    ]));
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('a key holding its share is refused at once; another key still gets in', async () => {
    const flood = new OpenAI({ apiKey: FLOOD_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const quiet = new OpenAI({ apiKey: QUIET_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const ask = (ai: OpenAI, i: number) => ai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `question ${i}` }] });
    const started = Date.now();
    const burst = Array.from({ length: 7 }, (_, i) => ask(flood, i).then(() => 'ok', (err: unknown) => err));
    // The refusals come back while the four admitted requests are still held upstream.
    const firstThree = await new Promise<unknown[]>((resolve) => {
      const refused: unknown[] = [];
      for (const p of burst) void p.then((r) => { if (r !== 'ok' && refused.push(r) === 3) resolve(refused); });
      void Promise.all(burst).then(() => resolve(refused));
    });
    assert.equal(firstThree.length, 3, 'three of the burst were refused');
    assert.ok(Date.now() - started < 3000, 'refused without waiting');
    for (const err of firstThree) {
      assert.ok(err instanceof APIError, String(err));
      assert.equal(err.status, 503);
      assert.equal((err.error as { code?: string }).code, 'gateway_overloaded');
      assert.equal(err.headers?.get('retry-after'), '1');
    }
    // The flooding key is refused on the Anthropic edge too, in that protocol's envelope (529 overloaded_error).
    const messages = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': FLOOD_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(messages.status, 529);
    assert.equal(((await messages.json()) as { error: { type: string } }).error.type, 'overloaded_error');
    // Another key is under its share: it gets in and is answered.
    const answer = await ask(quiet, 100);
    assert.ok((answer.choices[0].message.content ?? '').length > 0);
    const outcomes = await Promise.all(burst);
    assert.equal(outcomes.filter((o) => o === 'ok').length, 4, 'the four admitted requests of the burst are answered');
    // With the places given back, the flooding key gets in again.
    assert.ok((await ask(flood, 200)).choices.length > 0);
  });
});

describe('a key\'s and a team\'s own bound on requests in flight (rate_limits.max_parallel_requests)', () => {
  let upstream: Simulator;
  let gw: GatewayProcess;
  const K1 = 'sk-sy-parallel-key-one-000001';
  const K2 = 'sk-sy-parallel-key-two-000002';
  const K3 = 'sk-sy-parallel-key-other-0003';

  before(async () => {
    ({ upstream, gw } = await simGatewayProcess({ name: 'slow', latencyMs: 2000 }, [
      'governance:',
      '  teams: [{ id: t, name: research, rate_limits: { max_parallel_requests: 3 } }]',
      '  keys:',
      `    - { id: k1, name: one, key: ${K1}, team_id: t, rate_limits: { max_parallel_requests: 2 } }`,
      `    - { id: k2, name: two, key: ${K2}, team_id: t }`,
      `    - { id: k3, name: other, key: ${K3} }`,
    ]));
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('past its own bound a key gets a 429 naming it; past the team\'s, its teammates do; other keys are not held back', async () => {
    const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const ask = (key: string) => client(key).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      .then(() => 'ok', (err: unknown) => err);
    const one = [ask(K1), ask(K1)];
    await new Promise((r) => setTimeout(r, 300)); // both in flight, held 2 s upstream
    const third = await ask(K1);
    assert.ok(third instanceof APIError, String(third));
    assert.equal(third.status, 429);
    assert.equal((third.error as { code?: string }).code, 'parallel_requests_exceeded');
    assert.match(third.message, /virtual key 'one': limit 2/);
    assert.equal(third.headers?.get('retry-after'), '1');
    // The team (limit 3) has two in flight: one more of its keys gets in, the next is refused with the team named.
    const two = ask(K2);
    await new Promise((r) => setTimeout(r, 300));
    const fourth = await ask(K2);
    assert.ok(fourth instanceof APIError, String(fourth));
    assert.equal(fourth.status, 429);
    assert.match(fourth.message, /team 'research': limit 3/);
    // A key outside the team is not held back.
    assert.equal(await ask(K3), 'ok');
    assert.deepEqual(await Promise.all([...one, two]), ['ok', 'ok', 'ok']);
    // Their places are given back.
    assert.equal(await ask(K1), 'ok');
  });
});
