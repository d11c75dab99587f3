/**
 * POST /v1/classify embeds on behalf of the virtual key that called it: its texts queue in that key's rounds of the
 * embedder's fair line (src/semantic/embedder/fair-line.ts), not in the rounds of callers with no key (anonymous requests,
 * start-up and catalogue reloads). Against a gateway process whose every model call is held 2 s, one text a call: while one
 * key's classify texts wait, an anonymous chat request still gets its embedding within its budget.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Simulator } from '../../src/simulator/types.js';
import { sims } from '../helpers/sims.js';
import { REPO, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { tinySafetyExamples, type TinySafetyExamples } from '../helpers/safety-examples.js';

const CLASSIFY_KEY = 'sk-sy-classify-fairness-key-01';

describe('classify requests queue under their own key (gateway process, held-back embedder)', () => {
  let upstream: Simulator;
  let gw: GatewayProcess;
  let safety: TinySafetyExamples;

  before(async () => {
    safety = await tinySafetyExamples();
    [upstream] = await sims({ protocol: 'openai', name: 'up' });
    gw = await startGatewayProcess([
      'semantic:',
      '  max_wait_ms: 8000',
      '  embedder: { max_queue: 64, max_batch: 1, concurrency: 1, threads: 1 }',
      `  reference_prompts: { dir: "${path.join(REPO, 'reference-prompts')}", watch: false }`,
      safety.configLine,
      'governance:',
      '  allow_anonymous: true',
      `  keys: [{ id: classifier, name: classifier, key: ${CLASSIFY_KEY} }]`,
      'providers:',
      `  up: { kind: openai, base_url: "${upstream.url}", keys: [{ id: k, value: upstream-secret-0001 }], models: [m] }`,
      'aliases: { auto: up/m }',
      'rules:',
      '  - { name: code, cel_expression: \'intent == "code"\', targets: [{ provider: up, model: m }] }',
      '',
    ].join('\n'), { SWITCHYARD_TEST_EMBED_DELAY_MS: '2000' });
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
    await safety?.remove();
  });

  it('an anonymous request goes ahead of a key\'s classify backlog', async () => {
    const classify = (i: number) => fetch(`${gw.url}/v1/classify`, {
      method: 'POST', headers: { authorization: `Bearer ${CLASSIFY_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: `Write a Go function number ${i} that merges two sorted slices` }),
    });
    const first = classify(0);
    await new Promise((r) => setTimeout(r, 300)); // its text is in the model call now, for 2 s
    const backlog = [first, ...Array.from({ length: 5 }, (_, i) => classify(i + 1))];
    await new Promise((r) => setTimeout(r, 300)); // five texts queued: ten seconds of model calls, past the 8 s budget
    const anonymous = new OpenAI({ apiKey: 'unused', baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const { response } = await anonymous.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'How do I reverse a list in Python?' }] }).withResponse();
    assert.equal(response.headers.get('x-switchyard-semantic'), 'ready', 'the anonymous request was embedded');
    // Each classify call is answered, or refused at once when its text could not have its vector within the classify wait.
    const done = await Promise.all(backlog);
    assert.equal(done[0].status, 200);
    for (const r of done) {
      assert.ok(r.status === 200 || r.status === 503, `status ${r.status}`);
      if (r.status === 503) assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'embedder_busy');
    }
  });
});
