/**
 * The semantic latency budget, against a gateway process whose embedder is held back (the SWITCHYARD_TEST_EMBED_DELAY_MS
 * hook makes every model call take 400 ms) while `semantic.max_wait_ms` is 10: no request can have its embedding in time,
 * deterministically. Requests still succeed — degraded: intent "unavailable", semantic_ready false, the cache skipped for
 * overload — and the decision shows in headers, explain, the request log, metrics and the dashboard. After a reload that
 * gives the budget room, the same process classifies and caches as usual.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Simulator } from '../../src/simulator/types.js';
import { sims } from '../helpers/sims.js';
import { codeRouting, REPO, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const VK = 'sk-sy-semantic-budget-key-0001';
const ADMIN = 'admin-key-for-semantic-budget-tests';

const configText = (coder: Simulator, general: Simulator, maxWaitMs: number): string => [
  'server: { admin_key: ' + ADMIN + ' }',
  'semantic:',
  `  max_wait_ms: ${maxWaitMs}`,
  '  embedder: { max_queue: 8 }',
  `  reference_prompts: { dir: "${path.join(REPO, 'reference-prompts')}", watch: false }`,
  'cache: { enabled: true, semantic: true }',
  'governance:',
  '  keys: [{ id: app, name: app, key: ' + VK + ' }]',
  ...codeRouting(coder, general),
  '  - { name: degraded-to-general, cel_expression: \'!semantic_ready && intent == "unavailable"\', targets: [{ provider: general, model: g }] }',
  '',
].join('\n');

/** Polls until `find` returns something (the request log is written asynchronously). */
async function eventually<T>(find: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = await find();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not appear`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sample = (text: string, name: string, labels: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('semantic latency budget (gateway process, held-back embedder)', () => {
  let coder: Simulator;
  let general: Simulator;
  let gw: GatewayProcess;
  let ai: OpenAI;
  let n = 0;
  /** A coding question never asked before in this process (so no embedding of it is at hand). */
  const codeQuestion = (): string => `Write a Go function number ${++n} that merges two sorted slices of ints`;
  const admin = (p: string, init: RequestInit = {}) => fetch(`${gw.url}${p}`, { ...init, headers: { 'x-admin-key': ADMIN, 'content-type': 'application/json' } });

  before(async () => {
    [coder, general] = await sims({ protocol: 'openai', name: 'coder' }, { protocol: 'openai', name: 'general' });
    gw = await startGatewayProcess(configText(coder, general, 10), { SWITCHYARD_TEST_EMBED_DELAY_MS: '400' });
    ai = new OpenAI({ apiKey: VK, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  after(async () => {
    await gw?.close();
    await Promise.all([coder?.close(), general?.close()]);
  });

  it('a request whose embedding is not had in time is served, degraded: intent unavailable, cache skipped', async () => {
    const { data, response } = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: codeQuestion() }] }).withResponse();
    assert.match(data.choices[0].message.content ?? '', /^\[general\]/);
    assert.equal(response.headers.get('x-switchyard-semantic'), 'degraded');
    assert.equal(response.headers.get('x-switchyard-intent'), 'unavailable');
    assert.equal(response.headers.get('x-switchyard-rule'), 'degraded-to-general');
    assert.equal(response.headers.get('x-switchyard-cache'), 'skip');
  });

  it('a burst past the embedder queue is served in full, every request degraded and none an error', async () => {
    const replies = await Promise.all(Array.from({ length: 40 }, () =>
      ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: codeQuestion() }] }).withResponse()));
    for (const { response } of replies) {
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-switchyard-semantic'), 'degraded');
      assert.equal(response.headers.get('x-switchyard-intent'), 'unavailable');
    }
  });

  it('explain shows semantic_ready false, intent unavailable and why', async () => {
    const res = await admin('/admin/route/explain', { method: 'POST', body: JSON.stringify({ request: { model: 'auto', messages: [{ role: 'user', content: codeQuestion() }] } }) });
    assert.equal(res.status, 200);
    const json = (await res.json()) as { variables: Record<string, unknown>; route: { rule: string }; semantic: { state: string; reason: string; stage: string; budget_ms: number } };
    assert.equal(json.variables.semantic_ready, false);
    assert.equal(json.variables.intent, 'unavailable');
    assert.equal(json.route.rule, 'degraded-to-general');
    // timeout: the held-back embedder; busy once a finished model call has shown a text takes longer than the budget;
    // lagging when this busy machine had the gateway's event loop more than 10 ms late.
    assert.deepEqual({ ...json.semantic, reason: undefined }, { state: 'degraded', reason: undefined, stage: 'embed', budget_ms: 10 });
    assert.match(json.semantic.reason, /^(timeout|busy|lagging)$/);
  });

  it('the request log, metrics and dashboard count the degraded requests and their share', async () => {
    const logged = await eventually(() => gw.output().split('\n').find((l) => l.includes('"msg":"request"') && l.includes('"semantic":{"state":"degraded"')), 'a degraded request log line');
    assert.match(logged, /"intent":"unavailable"/);
    const metrics = await (await admin('/metrics')).text();
    const degraded = ['timeout', 'busy', 'lagging']
      .reduce((n, reason) => n + (sample(metrics, 'switchyard_semantic_requests_total', `state="degraded",reason="${reason}"`) ?? 0), 0);
    assert.ok(degraded >= 41, `degraded requests counted: ${degraded}`);
    assert.equal(sample(metrics, 'switchyard_semantic_requests_total', 'state="ready",reason="none"'), undefined, 'no request was ready');
    assert.equal(sample(metrics, 'switchyard_semantic_degraded_share', ''), 1);
    assert.ok((sample(metrics, 'switchyard_cache_events_total', 'kind="skip",reason="overload"') ?? 0) >= 41);
    const errors = metrics.split('\n').filter((l) => l.startsWith('switchyard_request_errors_total{'));
    assert.deepEqual(errors, [], 'no request ended in an error');
    const dash = (await (await admin('/dashboard/data')).json()) as { activity: { last_minute: { semantic: number; semantic_degraded: number; degraded_share: number } } };
    assert.equal(dash.activity.last_minute.degraded_share, 1);
    assert.equal(dash.activity.last_minute.semantic, dash.activity.last_minute.semantic_degraded);
  });

  it('once a model call has shown a text takes longer than the budget, a request is refused before it queues: no model work', async () => {
    const embedded = async (): Promise<number> => sample(await (await admin('/metrics')).text(), 'switchyard_embedding_batch_size_sum', '') ?? 0;
    // Let the model calls still running from the burst finish (each is held 400 ms): the embedder is idle once the count
    // of embedded texts stops moving.
    let last = await eventually(async () => ((await embedded()) > 0 ? embedded() : undefined), 'a finished model call');
    for (;;) {
      await new Promise((r) => setTimeout(r, 900));
      const now = await embedded();
      if (now === last) break;
      last = now;
    }
    // Five at once: the idle embedder takes the first (its call keeps the measurement fresh; it times out), and the others
    // would wait for that 400 ms call, so they are refused before they queue (busy; lagging if this machine had the event
    // loop late). A timeout among them would mean the text had queued.
    const reasons = await Promise.all(Array.from({ length: 5 }, async () => {
      const res = await admin('/admin/route/explain', { method: 'POST', body: JSON.stringify({ request: { model: 'auto', messages: [{ role: 'user', content: codeQuestion() }] } }) });
      return ((await res.json()) as { semantic: { reason: string } }).semantic.reason;
    }));
    assert.ok(reasons.filter((r) => r === 'timeout').length <= 1, `reasons: ${reasons.join(', ')}`);
    for (const r of reasons.filter((x) => x !== 'timeout')) assert.match(r, /^(busy|lagging)$/, `reasons: ${reasons.join(', ')}`);
    await new Promise((r) => setTimeout(r, 900)); // a text that had reached the model would be counted by now
    assert.ok((await embedded()) <= last + 1, 'no text of the refused requests was embedded');
  });

  it('with room in the budget (reloaded) the same process classifies and caches again', async () => {
    await gw.writeConfig(configText(coder, general, 30_000));
    assert.match(await gw.reload(), /config reloaded/);
    const question = codeQuestion();
    const first = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: question }] }).withResponse();
    assert.match(first.data.choices[0].message.content ?? '', /^\[coder\]/);
    assert.equal(first.response.headers.get('x-switchyard-semantic'), 'ready');
    assert.equal(first.response.headers.get('x-switchyard-intent'), 'code');
    assert.equal(first.response.headers.get('x-switchyard-cache'), 'miss');
    const again = await eventually(async () => {
      const r = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: question }] }).withResponse();
      return r.response.headers.get('x-switchyard-cache')?.startsWith('hit') ? r : undefined;
    }, 'a cache hit for the repeated question');
    assert.equal(again.response.headers.get('x-switchyard-semantic'), 'ready');
  });
});
