import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { startGateway } from '../../src/gateway.js';
import { pino } from 'pino';
import { createLogger, createRequestLog, requestLoggerOptions } from '../../src/observability/logger.js';
import { client, config, provider, sims } from '../helpers/gateway.js';

async function logsOf(logPrompts: boolean): Promise<any[]> {
  const [up] = await sims({ protocol: 'openai', name: 'up' });
  let out = '';
  const sink = new Writable({ write(chunk, _e, done) { out += chunk; done(); } });
  const gw = await startGateway({
    config: config({ logging: { log_prompts: logPrompts }, providers: { up: provider(up, ['m']) } }),
    logger: createLogger('info', sink), host: '127.0.0.1', port: 0,
  });
  try {
    await client(gw, 'sk-secret-caller-key').chat.completions.create({ model: 'up/m', messages: [{ role: 'user', content: 'my private question' }] });
  } finally {
    await gw.close();
    await up.close();
  }
  return out.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
}

describe('request log', () => {
  it('one line per request with ids, route decision, attempts and tokens; no prompt text, no keys', async () => {
    const [line] = await logsOf(false);
    assert.ok(line.request_id && line.rule === 'default' && line.status === 200);
    assert.equal(line.attempts[0].provider, 'up');
    assert.ok(line.usage.total_tokens > 0);
    assert.equal(line.prompt, undefined);
    assert.doesNotMatch(JSON.stringify(line), /private question|sk-secret-caller-key|key-k1/);
  });

  it('logs the prompt only when logging.log_prompts is on', async () => {
    const [line] = await logsOf(true);
    assert.match(line.prompt, /my private question/);
  });
});

describe('the gateway\'s request log', () => {
  const sink = (): { stream: Writable; text: () => string } => {
    let out = '';
    return { stream: new Writable({ write(chunk, _e, done) { out += chunk; done(); } }), text: () => out };
  };
  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  const records: Array<Record<string, unknown>> = [
    {
      request_id: 'f05be6c5', route: 'chat_completion', protocol: 'openai.chat', model: 'gpt-4o-mini', status: 200, duration_ms: 15.4,
      caller: undefined, rule: 'default', attempts: [{ provider: 'sim', model: 'm', keyId: 'k', status: 200, latencyMs: 14.07 }],
      usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11, details: { x: undefined, y: [1, undefined] } },
      error: undefined, prompt: undefined, safety: { pii: [{ type: 'email', at: 'messages[0].content', start: 18, end: 25 }] }, cache_no_store: true,
    },
    { short: 'é☃😀"\\', model: 'quote " back \\ nl \n tab \t ctl \u0001 é ☃ 😀', n: Number.NaN, inf: Number.POSITIVE_INFINITY, neg: -0, big: 1e21, f: () => 1, d: new Date(0) },
    { long: 'x'.repeat(50) + '"' + 'y'.repeat(10), nested: { when: new Date(1000), list: [null, true, 'a'] } },
    {},
    { model: 'm', key: 'sk-should-not-appear', api_key: undefined },
    { model: 'm', loop: circular },
  ];

  it('writes, for every record, the line pino writes for info(record, "request")', () => {
    const now = () => 1_700_000_000_123;
    const ours = sink();
    const theirs = sink();
    const log = createRequestLog('info', ours.stream, now);
    const reference = pino(requestLoggerOptions('info', now), theirs.stream);
    for (const r of records) {
      log.write(r);
      reference.info(r, 'request');
    }
    assert.equal(ours.text(), theirs.text());
    assert.equal(ours.text().split('\n').length, records.length + 1);
    assert.doesNotMatch(ours.text(), /sk-should-not-appear/);
  });

  it('writes nothing below its level', () => {
    const out = sink();
    createRequestLog('warn', out.stream).write(records[0]);
    assert.equal(out.text(), '');
  });
});
