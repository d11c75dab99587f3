/**
 * A gateway out of file descriptors cannot open a connection to its upstream (EMFILE). That is the gateway's own failure,
 * not the upstream's: it must never count against the upstream's keys and open their circuits for every tenant (the
 * upstream connection pool has no per-origin bound, so many requests in flight can need as many sockets). Checked on a
 * gateway process whose open-file limit is lowered (prlimit) after its client connection is open, then raised again.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import type { Simulator } from '../../src/simulator/types.js';
import { simGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const KEY = 'sk-sy-fd-exhaustion-key-000001';

/** Whether prlimit can change another process's limits here (Linux with util-linux). */
function hasPrlimit(): boolean {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return readdirSync(`/proc/${process.pid}/fd`).length > 0;
  } catch {
    return false;
  }
}

describe('a gateway out of file descriptors (gateway process)', { skip: !hasPrlimit() && 'needs prlimit and /proc' }, () => {
  let upstream: Simulator;
  let gw: GatewayProcess;
  // One connection to the gateway, opened before the limit is lowered and reused by every request.
  const client = new Agent({ connections: 1, pipelining: 1 });

  before(async () => {
    ({ upstream, gw } = await simGatewayProcess({ name: 'up' }, [
      'governance:',
      `  keys: [{ id: k, name: k, key: ${KEY} }]`,
      'circuit: { consecutive_failures: 2, cooldown_ms: 60000 }',
    ]));
  });
  after(async () => {
    await client.close();
    await gw?.close();
    await upstream?.close();
  });

  const ask = async (i: number) => {
    const r = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST', dispatcher: client,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'up/m', messages: [{ role: 'user', content: `question ${i}` }] }),
    });
    return { status: r.statusCode, body: (await r.body.json()) as { error?: { code?: string } } };
  };

  /** Sets the gateway's soft open-file limit to its lowest free descriptor: no new descriptor can be opened. */
  const exhaust = (): void => {
    const pid = gw.child.pid!;
    const open = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
    let lowest = 0;
    while (open.has(lowest)) lowest++;
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${lowest}:`]);
  };
  const restore = (): void => {
    execFileSync('prlimit', ['--pid', String(gw.child.pid!), '--nofile=4096:']);
  };

  it('answers 503 as its own failure, and the upstream\'s key is still in service once descriptors are free again', async () => {
    // The client's connection is opened first (a route that calls no upstream); every request below reuses it.
    const r = await request(`${gw.url}/health`, { dispatcher: client });
    await r.body.dump();
    exhaust();
    try {
      for (let i = 0; i < 3; i++) {
        const failed = await ask(i);
        assert.equal(failed.status, 503, JSON.stringify(failed.body));
        assert.equal(failed.body.error?.code, 'gateway_resources_exhausted');
      }
    } finally {
      restore();
    }
    const answered = await ask(100);
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.ok(gw.alive());
  });
});
