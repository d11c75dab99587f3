import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { wordCount } from '../../src/simulator/text.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, config, provider, quietLogger, sims } from '../helpers/gateway.js';
import { lastUser, startShapingUpstream, type ShapingUpstream } from './shaping-upstream.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const KEY = 'sk-sy-cascade-main-00000000001';
const BILLED = 'sk-sy-cascade-billed-000000002';
const NARROW = 'sk-sy-cascade-narrow-000000003';
const PRICE = { input: 1000, output: 1000 }; // $0.001 a token, the same for every model: the bill counts tokens
const REFUSAL = "I'm sorry, but I can't help with that.";

const who = (text: string | null | undefined): string => /^\[([\w-]+)\]/.exec(text ?? '')?.[1] ?? '?';

describe('cascading routing end to end', () => {
  let cheapSim: Simulator, midSim: Simulator, strongSim: Simulator, judgeSim: Simulator;
  let cheap: ShapingUpstream, mid: ShapingUpstream, judge: ShapingUpstream;
  let gw: Gateway;
  let ai: OpenAI;
  const escalations: Array<[string, number, string]> = [];

  before(async () => {
    [cheapSim, midSim, strongSim, judgeSim] = await sims(
      { protocol: 'openai', name: 'cheap' }, { protocol: 'openai', name: 'mid' }, { protocol: 'openai', name: 'strong' }, { protocol: 'openai', name: 'judge' },
    );
    cheap = await startShapingUpstream(cheapSim, (b) => (lastUser(b).includes('REFUSE') ? REFUSAL : lastUser(b).includes('TERSE') ? 'ok' : undefined));
    mid = await startShapingUpstream(midSim, (b) => (lastUser(b).includes('REFUSE-ALL') ? REFUSAL : undefined));
    // the judge grades 3 when the answer it is shown is vague, else 9
    judge = await startShapingUpstream(judgeSim, (b) => (lastUser(b).split('ANSWER:')[1]?.includes('vague') ? '3' : '9'));
    const via = (sim: Simulator, up: ShapingUpstream, models: string[]) => ({ ...provider(sim, models), base_url: up.url });
    const cfg = config({
      server: { admin_key: ADMIN },
      providers: {
        cheap: via(cheapSim, cheap, ['small']),
        mid: via(midSim, mid, ['m']),
        strong: provider(strongSim, ['big']),
        judge: via(judgeSim, judge, ['grader']),
      },
      governance: {
        pricing: { 'cheap/small': PRICE, 'mid/m': PRICE, 'strong/big': PRICE, 'judge/grader': PRICE },
        keys: [
          { id: 'main', name: 'Main', key: KEY },
          { id: 'billed', name: 'Billed', key: BILLED, budget: { limit_usd: 100, period: 'total' } },
          { id: 'narrow', name: 'Narrow', key: NARROW, allowed_models: ['cheap/*', 'mid/*'] },
        ],
      },
      rules: [
        { name: 'easy-to-cheap', priority: 5, cel_expression: 'model == "smart" && complexity == "simple"', targets: [{ provider: 'cheap', model: 'small' }] },
        { name: 'hard-to-strong', priority: 6, cel_expression: 'model == "smart"', targets: [{ provider: 'strong', model: 'big' }] },
        {
          name: 'three-tiers', priority: 10, cel_expression: 'model == "auto"',
          cascade: [
            { provider: 'cheap', model: 'small', checks: { refusal: true, min_length: 5, finish_length: true } },
            { provider: 'mid', model: 'm', checks: { refusal: true } },
            { provider: 'strong', model: 'big' },
          ],
        },
        {
          name: 'judged', priority: 20, cel_expression: 'model == "judged"',
          cascade: [
            { provider: 'cheap', model: 'small', checks: { judge: { provider: 'judge', model: 'grader', threshold: 7 } } },
            { provider: 'strong', model: 'big' },
          ],
        },
        {
          name: 'structured', priority: 30, cel_expression: 'model == "structured"',
          cascade: [{ provider: 'cheap', model: 'small', checks: { json: true } }, { provider: 'strong', model: 'big' }],
        },
        {
          name: 'stream-first-tier', priority: 40, cel_expression: 'model == "fast-stream"', cascade_streaming: 'first_tier',
          cascade: [{ provider: 'cheap', model: 'small', checks: { refusal: true } }, { provider: 'strong', model: 'big' }],
        },
      ],
    });
    gw = await startGateway({ config: cfg, logger: quietLogger, host: '127.0.0.1', port: 0, onCascadeEscalation: (r, t, why) => escalations.push([r, t, why]) });
    ai = client(gw, KEY);
  });
  after(async () => {
    await closeAll(gw, [cheapSim, midSim, strongSim, judgeSim]);
    await Promise.all([cheap, mid, judge].map((u) => u.close()));
  });

  const counts = () => [cheapSim, midSim, strongSim, judgeSim].map((s) => s.requestCount());
  const delta = (before: number[]) => counts().map((n, i) => n - before[i]!);

  it('a passing first tier answers alone', async () => {
    const c0 = counts();
    const { data, response } = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
    assert.equal(who(data.choices[0].message.content), 'cheap');
    assert.equal(response.headers.get('x-switchyard-cascade-tier'), '0 cheap/small');
    assert.equal(response.headers.get('x-switchyard-cascade-escalations'), '0');
    assert.equal(response.headers.get('x-switchyard-rule'), 'three-tiers');
    assert.deepEqual(delta(c0), [1, 0, 0, 0]);
  });

  it('escalates in order and the first passing tier answers', async () => {
    const c0 = counts();
    escalations.length = 0;
    const { data, response } = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'REFUSE this please' }] }).withResponse();
    assert.equal(who(data.choices[0].message.content), 'mid');
    assert.equal(response.headers.get('x-switchyard-cascade-tier'), '1 mid/m');
    assert.equal(response.headers.get('x-switchyard-cascade-escalations'), '1');
    assert.equal(response.headers.get('x-switchyard-provider'), 'mid');
    assert.deepEqual(delta(c0), [1, 1, 0, 0]);
    assert.deepEqual(escalations, [['three-tiers', 0, 'refusal']]);
    // the cheap tier was asked first
    assert.ok(cheapSim.requests.at(-1)!.body && midSim.requests.at(-1)!.body);
  });

  it('when every checked tier fails, the last tier answers', async () => {
    const c0 = counts();
    escalations.length = 0;
    const { data, response } = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'REFUSE-ALL of it' }] }).withResponse();
    assert.equal(who(data.choices[0].message.content), 'strong');
    assert.equal(response.headers.get('x-switchyard-cascade-tier'), '2 strong/big');
    assert.equal(response.headers.get('x-switchyard-cascade-escalations'), '2');
    assert.equal(response.headers.get('x-switchyard-attempts'), '3');
    assert.deepEqual(delta(c0), [1, 1, 1, 0]);
    assert.deepEqual(escalations.map((e) => e[1]), [0, 1]);
  });

  it('an upstream failure escalates like a failed check; a truncated answer too', async () => {
    cheapSim.inject({ status: 500 }, 3);
    const { data, response } = await ai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Name three rivers in Europe.' }] }).withResponse();
    assert.equal(who(data.choices[0].message.content), 'mid');
    assert.equal(response.headers.get('x-switchyard-cascade-escalations'), '1');
    cheapSim.reset();
    escalations.length = 0;
    const cut = await ai.chat.completions.create({ model: 'auto', max_tokens: 3, messages: [{ role: 'user', content: 'Describe the water cycle in detail for a school class.' }] });
    assert.equal(cut.choices[0].finish_reason, 'length');
    assert.equal(who(cut.choices[0].message.content), 'mid', 'mid has no token-limit check, so its cut answer passes');
    assert.deepEqual(escalations, [['three-tiers', 0, 'truncated']]);
  });

  it('streaming: the cheap tier is buffered and checked, the passing tier is replayed', async () => {
    const c0 = counts();
    const { data: stream, response } = await ai.chat.completions.create({ model: 'auto', stream: true, messages: [{ role: 'user', content: 'REFUSE to stream' }] }).withResponse();
    assert.equal(response.headers.get('x-switchyard-cascade-tier'), '1 mid/m');
    let text = '';
    let usageChunks = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.usage) usageChunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(who(text), 'mid');
    assert.equal(text, '[mid] REFUSE to stream');
    assert.equal(finish, 'stop');
    assert.equal(usageChunks, 0, 'no usage chunk for a client that did not ask for one');
    assert.deepEqual(delta(c0), [1, 1, 0, 0]);
    assert.equal((cheapSim.requests.at(-1)!.body!.stream_options as { include_usage?: boolean }).include_usage, true, 'the gateway asks each tier for usage');

    const withUsage = await ai.chat.completions.create({ model: 'auto', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'REFUSE again' }] });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of withUsage) usage = chunk.usage ?? usage;
    assert.ok(usage && usage.completion_tokens === wordCount('[mid] REFUSE again'));
  });

  it('streaming with cascade_streaming first_tier skips the cascade', async () => {
    const c0 = counts();
    const { data: stream, response } = await ai.chat.completions.create({ model: 'fast-stream', stream: true, messages: [{ role: 'user', content: 'REFUSE but stream now' }] }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, `[cheap] ${REFUSAL}`);
    assert.equal(response.headers.get('x-switchyard-cascade-tier'), '0 cheap/small');
    assert.deepEqual(delta(c0), [1, 0, 0, 0]);
  });

  it('the JSON check validates the response_format json_schema', async () => {
    const response_format = {
      type: 'json_schema' as const,
      json_schema: { name: 'reply', schema: { type: 'object', properties: { reply: { type: 'string', minLength: 20 } }, required: ['reply'] } },
    };
    const short = await ai.chat.completions.create({ model: 'structured', response_format, messages: [{ role: 'user', content: 'TERSE' }] }).withResponse();
    assert.equal(short.response.headers.get('x-switchyard-cascade-tier'), '1 strong/big', 'cheap\'s {"reply":"[cheap] ok"} is too short for the schema');
    const long = await ai.chat.completions.create({ model: 'structured', response_format, messages: [{ role: 'user', content: 'Give me a long enough answer please' }] }).withResponse();
    assert.equal(long.response.headers.get('x-switchyard-cascade-tier'), '0 cheap/small');
    assert.deepEqual(JSON.parse(long.data.choices[0].message.content!), { reply: '[cheap] Give me a long enough answer please' });
  });

  it('a caller\'s schema pattern runs in linear time on the model\'s answer', async () => {
    const schema = { type: 'object', properties: { reply: { type: 'string', pattern: '^\\[cheap\\] (a+)+$' } }, required: ['reply'] };
    const response_format = { type: 'json_schema' as const, json_schema: { name: 'reply', schema } };
    // Asked first: a pattern only the linear engine cannot run (a backreference) is reported, not held against the answer,
    // as an uncompilable schema is. On the backtracking engine, the requests after it would never be answered.
    const backref = { ...response_format, json_schema: { name: 'reply', schema: { ...schema, properties: { reply: { type: 'string', pattern: '^(a)\\1$' } } } } };
    const warned = await ai.chat.completions.create({ model: 'structured', response_format: backref, messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    assert.equal(warned.response.headers.get('x-switchyard-cascade-tier'), '0 cheap/small');
    assert.match(warned.response.headers.get('x-switchyard-warnings') ?? '', /cannot be compiled: pattern \/\^\(a\)\\1\$\/ cannot be checked in linear time/);
    // ^…(a+)+$ against "[cheap] aaa…ab": 2^4000 backtracking steps, a few thousand on the linear engine
    const near = await ai.chat.completions.create({ model: 'structured', response_format, messages: [{ role: 'user', content: `${'a'.repeat(4000)}b` }] }).withResponse();
    assert.equal(near.response.headers.get('x-switchyard-cascade-tier'), '1 strong/big', 'schema_mismatch escalates');
    const match = await ai.chat.completions.create({ model: 'structured', response_format, messages: [{ role: 'user', content: 'a'.repeat(4000) }] }).withResponse();
    assert.equal(match.response.headers.get('x-switchyard-cascade-tier'), '0 cheap/small');
  });

  it('the LLM judge grades through the provider path; a low grade escalates', async () => {
    const c0 = counts();
    const good = await ai.chat.completions.create({ model: 'judged', messages: [{ role: 'user', content: 'Explain photosynthesis briefly.' }] }).withResponse();
    assert.equal(good.response.headers.get('x-switchyard-cascade-tier'), '0 cheap/small');
    assert.equal(good.response.headers.get('x-switchyard-provider'), 'cheap', 'the judge call does not take over the reply headers');
    const bad = await ai.chat.completions.create({ model: 'judged', messages: [{ role: 'user', content: 'something vague' }] }).withResponse();
    assert.equal(bad.response.headers.get('x-switchyard-cascade-tier'), '1 strong/big');
    assert.deepEqual(delta(c0), [2, 0, 1, 2]);
    const judged = judgeSim.requests.at(-1)!.body!;
    assert.equal(judged.model, 'grader');
    assert.match(String((judged.messages as Array<{ content: string }>)[0]!.content), /grader/);
  });

  it('governance bills every tier and every judge call', async () => {
    const billed = client(gw, BILLED);
    const spent = async () => ((await (await fetch(`${gw.url}/admin/keys/billed/usage`, { headers: { 'x-admin-key': ADMIN } })).json()) as any).budget.used_usd as number;
    const tokensOf = (sim: Simulator, from: number) => sim.requests.slice(from).reduce((sum, r) => {
      const messages = r.body!.messages as Array<{ content: string }>;
      const prompt = messages.reduce((n, m) => n + wordCount(m.content), 0);
      return sum + prompt + wordCount(`[${sim.name}] ${lastUser(r.body!)}`);
    }, 0);
    const from = counts();
    const before = await spent();
    const r1 = await billed.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'REFUSE-ALL of these words' }] });
    const r2 = await billed.chat.completions.create({ model: 'judged', messages: [{ role: 'user', content: 'a vague request' }] });
    const expectedTokens = tokensOf(cheapSim, from[0]!) + tokensOf(midSim, from[1]!) + tokensOf(strongSim, from[2]!) + tokensOf(judgeSim, from[3]!);
    const answeringOnly = r1.usage!.total_tokens + r2.usage!.total_tokens;
    const used = (await spent()) - before;
    assert.ok(expectedTokens > answeringOnly);
    assert.equal(Math.round(used * 1e6), Math.round(expectedTokens * 0.001 * 1e6), `billed ${used} for ${expectedTokens} tokens`);
  });

  it('a tier the caller may not use is skipped', async () => {
    const narrow = client(gw, NARROW);
    const { data, response } = await narrow.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'REFUSE-ALL here' }] }).withResponse();
    assert.equal(who(data.choices[0].message.content), 'mid', 'strong/big is not allowed: mid is the last tier');
    assert.equal(response.headers.get('x-switchyard-cascade-tier'), '1 mid/m');
  });

  it('complexity routes easy queries to the cheap model', async () => {
    const easy = await ai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'Who wrote Hamlet?' }] });
    assert.equal(who(easy.choices[0].message.content), 'cheap');
    const hard = await ai.chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: 'Implement a lock-free queue in Rust, prove it is linearizable, and compare its trade-offs with a mutex-based design. Why does the ABA problem matter? How do you test it?' }],
    });
    assert.equal(who(hard.choices[0].message.content), 'strong');
  });

  it('explain shows the cascade plan and the complexity variables', async () => {
    const res = await fetch(`${gw.url}/admin/route/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ request: { model: 'auto', messages: [{ role: 'user', content: 'hello' }] } }),
    });
    const json = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.equal(json.route.rule, 'three-tiers');
    assert.deepEqual(json.route.chain.map((t: any) => `${t.provider}/${t.model}`), ['cheap/small', 'mid/m', 'strong/big']);
    assert.deepEqual(json.route.cascade.tiers.map((t: any) => [t.tier, `${t.provider}/${t.model}`, t.checked]), [[0, 'cheap/small', true], [1, 'mid/m', true], [2, 'strong/big', false]]);
    assert.deepEqual(json.route.cascade.tiers[0].checks, { refusal: true, min_length: 5, finish_length: true });
    assert.equal(json.variables.complexity, 'simple');
    assert.equal(typeof json.variables.complexity_score, 'number');
  });
});
