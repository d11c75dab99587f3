import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { startGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
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
