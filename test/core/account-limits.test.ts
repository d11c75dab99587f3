/**
 * Rate-limit headers describe the account a request was billed to. When the caller's own OpenAI-Organization /
 * OpenAI-Project header chose that account, they say nothing about the key's own account: no key rests, and its headroom
 * (read by the balancer and by rules) is not changed, for the tenants that did not choose it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { post } from '../helpers/gateway.js';
import { scriptedUpstreamSuite, type ScriptedReply } from '../helpers/scripted-upstream.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const chat = { model: 'p/m', messages: [{ role: 'user', content: 'hello' }] };
const ok = JSON.stringify({
  id: 'c', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const streamed = [
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'fine' }, finish_reason: 'stop' }] })}\n\n`,
  'data: [DONE]\n\n',
];
const limited = JSON.stringify({ error: { message: 'Rate limit reached for gpt-4o in organization org-b on requests per min (RPM): Limit 3, Used 3, Requested 1.', type: 'requests', param: null, code: 'rate_limit_exceeded' } });
/** What OpenAI sends with a reply from an account whose request limit is used up. */
const exhausted = { 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '0', 'retry-after': '120' };

describe('rate-limit headers of an account the caller chose', () => {
  const suite = scriptedUpstreamSuite();
  let gw: Gateway | undefined;

  const start = async () => {
    // Callers may choose the key's account here (forward_headers), as the requests below do.
    gw = await suite.start({ providers: { p: { kind: 'openai', base_url: suite.up.url, models: ['*'], keys: [{ id: 'k1', value: 'key-k1' }], forward_headers: ['openai-organization', 'openai-project'] } } });
    return gw;
  };
  const key = (g: Gateway) => g.registry.provider('p')!.keys[0]!;

  const replies: Array<[string, ScriptedReply]> = [
    ['a 429', { status: 429, headers: { ...JSON_TYPE, ...exhausted }, chunks: [limited] }],
    ['a 200', { status: 200, headers: { ...JSON_TYPE, ...exhausted }, chunks: [ok] }],
    ['a stream', { status: 200, headers: { 'content-type': 'text/event-stream', ...exhausted }, chunks: streamed }],
  ];
  for (const [name, reply] of replies) {
    it(`${name} from the caller-chosen account, with its exhausted-limit headers, neither rests the key nor changes its headroom`, async () => {
      const g = await start();
      const rid = `chosen-${name.replace(' ', '-')}`;
      suite.up.script(rid, reply);
      const body = name === 'a stream' ? { ...chat, stream: true } : chat;
      await post(g, '/v1/chat/completions', body, { 'x-request-id': rid, 'openai-organization': 'org-chosen-by-the-caller' });
      const k = key(g);
      assert.deepEqual([k.state, k.remaining_requests, k.headroom], ['healthy', null, 1], JSON.stringify(k));
      assert.equal((await post(g, '/v1/chat/completions', chat)).status, 200, 'another tenant is still served');
    });
  }

  it('without the caller\'s header the headers are the key\'s: it rests, at most 300 s whatever retry-after says', async () => {
    const g = await start();
    suite.up.script('key-own', { status: 200, headers: { ...JSON_TYPE, ...exhausted, 'retry-after': '86400' }, chunks: [ok] });
    assert.equal((await post(g, '/v1/chat/completions', chat, { 'x-request-id': 'key-own' })).status, 200);
    const k = key(g);
    assert.deepEqual([k.state, k.remaining_requests, k.headroom], ['degraded', 0, 0]);
    const health = g.registry.key('p', 'k1').lane('m');
    assert.ok(health.coolUntil <= Date.now() + 300_000, `rests ${Math.round((health.coolUntil - Date.now()) / 1000)} s`);
  });
});
