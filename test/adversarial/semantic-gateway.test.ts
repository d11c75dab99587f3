/**
 * The semantic path under hostile traffic, against a gateway process with semantic features on (the shipped reference
 * prompts, an intent rule, the semantic cache) and a small embedder queue: one key sends generated hostile chat requests
 * — any text, huge and many messages, odd content parts — in concurrent batches, while another key sends ordinary ones.
 * The process must stay up, every hostile reply be a valid reply or a well-formed error envelope (never a 500), and every
 * ordinary request be served, its semantic outcome reported (ready or degraded, never an error). Seeded and bounded for
 * `npm test`; FUZZ_SCALE multiplies the case counts, FUZZ_SEED fixes the seed.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import OpenAI from 'openai';
import type { Simulator } from '../../src/simulator/types.js';
import { sims } from '../helpers/sims.js';
import { codeRouting, REPO, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { callerText } from './texts.js';
import { malformed } from './envelopes.js';

const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20_241_205;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const BATCH = 8;

const HOSTILE = 'sk-sy-semantic-fuzz-hostile-01';
const QUIET = 'sk-sy-semantic-fuzz-quiet-0001';

const configText = (coder: Simulator, general: Simulator): string => [
  'semantic:',
  '  embedder: { max_queue: 8 }',
  `  reference_prompts: { dir: "${path.join(REPO, 'reference-prompts')}", watch: false }`,
  'cache: { enabled: true }',
  'governance:',
  `  keys: [{ id: hostile, name: hostile, key: ${HOSTILE} }, { id: quiet, name: quiet, key: ${QUIET} }]`,
  ...codeRouting(coder, general),
  '',
].join('\n');

/** One message's content: text, or parts of any type (text parts carry the hostile text). */
const content = fc.oneof(
  callerText,
  fc.array(fc.oneof(
    callerText.map((text) => ({ type: 'text', text })),
    fc.record({ type: fc.constantFrom('image_url', 'input_audio', 'file', 'refusal', 'x-unknown', ''), text: fc.option(callerText, { nil: undefined }) }),
    fc.jsonValue({ maxDepth: 2 }),
  ), { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A chat request the semantic path reads: its messages' text is embedded, classified and looked up in the cache. */
const hostileChat = fc.record({
  model: fc.constantFrom('auto', 'general/g', 'coder/c'),
  messages: fc.array(fc.record({ role: fc.constantFrom('user', 'user', 'system', 'assistant', 'tool', 'developer'), content }), { minLength: 0, maxLength: 40 }),
  stream: fc.boolean(),
  temperature: fc.constantFrom(undefined, 0, 0.5),
}, { requiredKeys: ['model', 'messages'] });

describe('semantic path under hostile traffic (gateway process, semantic features and cache on)', () => {
  let coder: Simulator;
  let general: Simulator;
  let gw: GatewayProcess;

  before(async () => {
    [coder, general] = await sims({ protocol: 'openai', name: 'coder' }, { protocol: 'openai', name: 'general' });
    gw = await startGatewayProcess(configText(coder, general));
  });
  after(async () => {
    await gw?.close();
    await Promise.all([coder?.close(), general?.close()]);
  });

  it('one key\'s hostile text never crashes the process, never breaks an envelope, and never fails another key\'s request', async () => {
    const quiet = new OpenAI({ apiKey: QUIET, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    let n = 0;
    await fc.assert(fc.asyncProperty(fc.array(hostileChat, { minLength: 1, maxLength: BATCH }), async (batch) => {
      const ordinary = quiet.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: `Write a Python function that sorts a list, variant ${n++}` }] }).withResponse();
      const replies = await Promise.all(batch.map(async (body) => {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${HOSTILE}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
        return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
      }));
      for (const r of replies) {
        assert.equal(malformed(r), undefined);
        assert.notEqual(r.status, 500, `a caller's text produced a 500: ${r.text.slice(0, 300)}`);
      }
      const { data, response } = await ordinary;
      assert.equal(response.status, 200);
      assert.ok(['ready', 'degraded'].includes(response.headers.get('x-switchyard-semantic') ?? ''), `semantic outcome ${response.headers.get('x-switchyard-semantic')}`);
      assert.equal(typeof data.choices[0].message.content, 'string');
    }), { numRuns: runs(30), seed: SEED, endOnFailure: true, includeErrorInReport: true });
    assert.ok(gw.alive(), `the gateway process exited:\n${gw.output().slice(-3000)}`);
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
  });
});
