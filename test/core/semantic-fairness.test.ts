/**
 * The embedder's queue is fair between virtual keys, against a gateway process whose every model call is held 2 s
 * (SWITCHYARD_TEST_EMBED_DELAY_MS) with one model call at a time and room for four texts in the queue: while one key's
 * text is in the model call, that key's burst fills the queue and has its overflow degraded, and another key's request arriving then still gets its embedding — it goes
 * ahead of the burst's backlog, whose last text is refused in its place — instead of being degraded by the other's flood.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Simulator } from '../../src/simulator/types.js';
import { sims } from '../helpers/sims.js';
import { codeRouting, REPO, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { tinySafetyExamples, type TinySafetyExamples } from '../helpers/safety-examples.js';

const FLOOD_KEY = 'sk-sy-fairness-flooding-key-01';
const QUIET_KEY = 'sk-sy-fairness-quiet-key-0001';
const ADMIN = 'admin-key-for-semantic-fairness';

const configText = (coder: Simulator, general: Simulator, safety: TinySafetyExamples): string => [
  'server: { admin_key: ' + ADMIN + ' }',
  'semantic:',
  '  max_wait_ms: 8000',
  '  embedder: { max_queue: 4, concurrency: 1, threads: 1 }',
  `  reference_prompts: { dir: "${path.join(REPO, 'reference-prompts')}", watch: false }`,
  safety.configLine,
  'governance:',
  `  keys: [{ id: flood, name: flood, key: ${FLOOD_KEY} }, { id: quiet, name: quiet, key: ${QUIET_KEY} }]`,
  ...codeRouting(coder, general),
  '',
].join('\n');

const busyCount = (metrics: string): number => {
  const line = metrics.split('\n').find((l) => l.startsWith('switchyard_semantic_requests_total{state="degraded",reason="busy"}'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('semantic fairness between virtual keys (gateway process, held-back embedder)', () => {
  let coder: Simulator;
  let general: Simulator;
  let gw: GatewayProcess;
  let safety: TinySafetyExamples;

  before(async () => {
    safety = await tinySafetyExamples();
    [coder, general] = await sims({ protocol: 'openai', name: 'coder' }, { protocol: 'openai', name: 'general' });
    gw = await startGatewayProcess(configText(coder, general, safety), { SWITCHYARD_TEST_EMBED_DELAY_MS: '2000' });
  });
  after(async () => {
    await gw?.close();
    await Promise.all([coder?.close(), general?.close()]);
    await safety?.remove();
  });

  it('one key\'s burst past the queue does not cost another key\'s request its embedding', async () => {
    const flood = new OpenAI({ apiKey: FLOOD_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const quiet = new OpenAI({ apiKey: QUIET_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const ask = (ai: OpenAI, text: string) => ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: text }] }).withResponse();
    const first = ask(flood, 'Write a Rust function that parses a CSV line into fields');
    await new Promise((r) => setTimeout(r, 300)); // its text is in the model call now, for 2 s
    // Four queued behind it, five refused: the burst has reached the embedder once five are counted busy.
    const burst = [first, ...Array.from({ length: 9 }, (_, i) => ask(flood, `Write a Rust function number ${i} that parses a CSV line into fields`))];
    const deadline = Date.now() + 5_000;
    for (;;) {
      const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { 'x-admin-key': ADMIN } })).text();
      if (busyCount(metrics) >= 5) break;
      assert.ok(Date.now() < deadline, 'the burst did not reach the embedder');
      await new Promise((r) => setTimeout(r, 20));
    }
    const { data, response } = await ask(quiet, 'Write a Python function that reverses a linked list in place');
    assert.equal(response.headers.get('x-switchyard-semantic'), 'ready', 'the quiet key\'s request was embedded');
    assert.equal(response.headers.get('x-switchyard-intent'), 'code');
    assert.match(data.choices[0].message.content ?? '', /^\[coder\]/);
    const replies = await Promise.all(burst);
    assert.ok(replies.every(({ response: r }) => r.status === 200), 'every request of the burst is served');
    const states = replies.map(({ response: r }) => r.headers.get('x-switchyard-semantic'));
    assert.equal(states.filter((s) => s === 'ready').length, 4, `the burst's ready requests: ${states.join(', ')}`);
    assert.equal(states.filter((s) => s === 'degraded').length, 6, 'the burst gave up one more text to the quiet key');
  });

  it('a flood of /v1/classify calls is refused past the queue instead of queueing without bound; another key\'s call is answered', async () => {
    const classify = (key: string, input: string) => fetch(`${gw.url}/v1/classify`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ input }),
    });
    const first = classify(FLOOD_KEY, 'Write a Haskell function that folds a tree');
    await new Promise((r) => setTimeout(r, 300)); // its text is in the model call now, alone, for 2 s
    const flood = [first, ...Array.from({ length: 9 }, (_, i) => classify(FLOOD_KEY, `Write a Haskell function number ${i} that folds a tree`))];
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const quiet = await classify(QUIET_KEY, 'Write a C function that copies a string safely');
    assert.equal(quiet.status, 200, await quiet.clone().text());
    assert.equal(((await quiet.json()) as { intent: string }).intent, 'code');
    assert.ok(Date.now() - started < 5_000, 'answered within the classify wait');
    const replies = await Promise.all(flood);
    const refused = replies.filter((r) => r.status === 503);
    assert.ok(refused.length >= 5, `refused: ${refused.length} of 10 (one in the model call and four queued at most)`);
    for (const r of refused) {
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'embedder_busy');
      assert.equal(r.headers.get('retry-after'), '1');
    }
    assert.ok(replies.every((r) => r.status === 200 || r.status === 503));
  });
});
