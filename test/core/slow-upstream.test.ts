/**
 * An upstream that sends its reply slowly enough never to trip an idle timeout (a byte now and then) still gets a bounded
 * wait: a JSON reply must arrive whole within `timeout_ms`, and the request is answered either way.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { gateway } from '../helpers/gateway.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

/** JSON allows whitespace before the value: an upstream that trickles it sends a reply that never completes in time. */
const TRICKLE = { headers: { 'content-type': 'application/json' }, chunks: Array.from({ length: 2_000 }, () => ' '), gapMs: 50 };

describe('an upstream that trickles its reply', () => {
  let up: ScriptedUpstream;
  let gw: Gateway | undefined;
  let n = 0;
  const id = () => `slow-${++n}`;

  before(async () => { up = await startScriptedUpstream(); });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });
  after(async () => { await up.close(); });

  /** POSTs within a generous client bound; undefined when the gateway had not answered by then. */
  const ask = async (g: Gateway, path: string, body: unknown, rid: string) => {
    try {
      const res = await fetch(`${g.url}${path}`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': rid }, body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      return { status: res.status, json: await res.json() as { error?: { code?: string } } };
    } catch {
      return undefined;
    }
  };

  for (const [what, path, body] of [
    ['a chat completion', '/v1/chat/completions', { model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }],
    ['an embedding', '/v1/embeddings', { model: 'p/m', input: 'hi' }],
  ] as const) {
    it(`${what} whose JSON body never completes within timeout_ms is a 504 upstream timeout, not an endless wait`, async () => {
      gw = await gateway({
        providers: { p: { kind: 'openai', base_url: up.url, models: ['*'], keys: [{ id: 'k1', value: 'key-k1' }], timeout_ms: 500 } },
      });
      const rid = id();
      up.script(rid, TRICKLE);
      const r = await ask(gw, path, body, rid);
      assert.ok(r !== undefined, 'the gateway answered');
      assert.equal(r.status, 504);
      assert.equal(r.json.error?.code, 'upstream_timeout');
      const k = gw.registry.provider('p')!.keys[0];
      assert.equal(k.in_flight, 0);
    });
  }
});
