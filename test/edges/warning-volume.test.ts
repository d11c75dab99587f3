/**
 * Warnings made from the caller's own body — one per block or field an edge cannot carry — are bounded per request: a body
 * of many such blocks is answered (it used to overflow the stack while its warnings were copied onto the context, a 500
 * after the upstream had answered and been paid), and what the gateway keeps of the request afterwards (the activity
 * feed's explain trace) does not grow with the body (it used to keep every warning of the last 200 requests: gigabytes).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import { MAX_WARNINGS, MORE, WarningList } from '../../src/llm/warnings.js';
import { gateway, post } from '../helpers/gateway.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

describe('a request\'s warnings are bounded', () => {
  let up: ScriptedUpstream;
  let gw: Gateway;

  before(async () => {
    up = await startScriptedUpstream();
    // Bodies of hundreds of thousands of members: past the default server.limits.max_members, which an operator may raise.
    gw = await gateway({
      server: { limits: { max_members: 2_000_000, max_containers: 2_000_000 } },
      providers: { o: { kind: 'openai', base_url: up.url, models: ['m'], keys: [{ id: 'k1', value: 'key-k1' }] } },
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  it('a list keeps the first warnings and says in one more entry that there were more', () => {
    const list = new WarningList();
    for (let i = 0; i < MAX_WARNINGS + 500; i++) list.push(`w${i}`);
    assert.equal(list.length, MAX_WARNINGS + 1);
    assert.equal(list[0], 'w0');
    assert.equal(list[MAX_WARNINGS - 1], `w${MAX_WARNINGS - 1}`);
    assert.equal(list[MAX_WARNINGS], MORE);
    assert.ok(Array.isArray(list) && list.map((w) => w).constructor === Array);
  });

  /**
   * The warnings the activity feed keeps of the last request: its raw explain trace (what stays in memory; the dashboard's
   * sanitised view shortens lists only when it reads them).
   */
  const keptWarnings = (): unknown[] => {
    const feed = gw.observability.activity as unknown as { recent: Array<{ t: number; raw: { warnings?: unknown[] } } | undefined> };
    const last = feed.recent.filter((s) => s !== undefined).sort((x, y) => y!.t - x!.t)[0];
    return last?.raw.warnings ?? [];
  };

  it('a Messages request with 180,000 earlier thinking blocks is answered; its warnings are bounded', async () => {
    const thinking = Array.from({ length: 180_000 }, () => ({ type: 'thinking' }));
    const r = await post(gw, '/v1/messages', {
      model: 'o/m', max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: thinking }, { role: 'user', content: 'y' }],
    });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal(r.json.content[0].text, 'fine');
    assert.match(r.headers.get('x-switchyard-warnings') ?? '', /^messages\.1\.content\.0: thinking blocks/);
    const kept = keptWarnings();
    assert.ok(kept.length <= MAX_WARNINGS + 1, `kept ${kept.length} warnings`);
    assert.equal(kept.at(-1), MORE);
  });

  it('a Messages request with 300,000 fields only an Anthropic upstream reads is answered on a translated route', async () => {
    const body: Record<string, unknown> = { model: 'o/m', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };
    for (let i = 0; i < 300_000; i++) body[`k${i}`] = 0;
    const r = await post(gw, '/v1/messages', body);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.ok(keptWarnings().length <= MAX_WARNINGS + 1);
  });
});
