import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '../../src/simulator/types.js';
import { gateway, provider, sims } from '../helpers/gateway.js';
import { cliArgs, REPO } from '../helpers/gateway-process.js';

describe('graceful shutdown', () => {
  let up: Simulator;
  let dir: string;
  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up', tokensPerChunkDelayMs: 80 });
    dir = await mkdtemp(join(tmpdir(), 'switchyard-shutdown-'));
  });
  after(async () => {
    await up.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('on SIGTERM stops accepting, lets an in-flight stream finish, then exits 0', async () => {
    const file = join(dir, 'gw.yaml');
    await writeFile(file, `semantic: { enabled: false }\ngovernance: { allow_anonymous: true }\nproviders:\n  up: { kind: openai, base_url: "${up.url}", keys: [{ id: k, value: x }], models: [m] }\n`);
    const child = spawn(process.execPath, cliArgs('--config', file, '--port', '0'), { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(out)), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
    });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'up/m', stream: true, messages: [{ role: 'user', content: 'one two three four five six seven eight' }] }),
    });
    const reader = res.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(fetch(`${url}/health`), 'no new connections once draining');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(text, /data: \[DONE\]/, 'the in-flight stream finished cleanly');
    assert.equal(await exited, 0);
  });

  it('a stream still running when the grace period ends ends with an error event, never a bare close', async () => {
    const [slow] = await sims({ protocol: 'openai', name: 'slow', tokensPerChunkDelayMs: 400 });
    const gw = await gateway({ server: { shutdown_grace_s: 0.3 }, providers: { slow: provider(slow, ['m']) } });
    try {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'slow/m', stream: true, messages: [{ role: 'user', content: 'a long story with many many words in it' }] }),
      });
      const reader = res.body!.getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      const closing = gw.close();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      await closing;
      const frames = text.trim().split('\n\n');
      assert.match(frames[frames.length - 1], /^data: \{"error":\{"message":"The gateway is shutting down[^"]*","type":"server_error","code":"shutting_down"\}\}$/);
      assert.doesNotMatch(text, /\[DONE\]/);
    } finally {
      await slow.close();
    }
  });
});
