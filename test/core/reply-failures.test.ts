/**
 * Failures after the upstream answered: an edge that cannot present a streamed reply, an `after` hook that throws on one, and
 * a request log that throws once the reply is written. Real stages (governance, ledger) run on a real pipeline and the real
 * HTTP request path (serveProxy on loopback); the upstream is a started stream whose release says whether it was freed.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { ProtocolEdge } from '../../src/edges/types.js';
import { createGovernanceStage } from '../../src/governance/stage.js';
import type { Governance } from '../../src/governance/governance.js';
import { estimatePromptTokens } from '../../src/governance/tokens.js';
import { createLedgerStage } from '../../src/ledger/stage.js';
import type { LedgerEntry } from '../../src/ledger/entry.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import { runPipeline } from '../../src/pipeline/run.js';
import type { Stage } from '../../src/pipeline/stage.js';
import { upstreamPolicy } from '../../src/providers/failure.js';
import { startStream } from '../../src/providers/openai/start-stream.js';
import type { Operation, ProviderReply, StreamPart } from '../../src/providers/types.js';
import { serveProxy, type GatewayHandle, type RequestOutcome } from '../../src/server/app.js';
import { InFlight } from '../../src/server/in-flight.js';
import { safetyConfigSchema } from '../../src/safety/config.js';
import { createSafetySignals } from '../../src/safety/signals.js';
import { createSafetyStage } from '../../src/safety/stage.js';
import { PiiScanner } from '../../src/safety/pii-scan.js';
import { makeCtx, makeGov } from '../governance/helpers.js';

const KEY = 'sk-sy-k-secret-000000000000000000';
const TARGET = { provider: 'test', model: 'm' };
const MAX_TOKENS = 100;
const body = { model: 'm', stream: true, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'Hello there, how are you today?' }] };
// One token costs $0.00001.
const usd = (tokens: number): number => Math.round(tokens * 10) / 1e6;

const withGov = async (fn: (gov: Governance) => Promise<void>): Promise<void> => {
  const gov = await makeGov({
    pricing: { 'test/m': { input: 10, output: 10 } },
    keys: [{ id: 'k', name: 'k', key: KEY, budget: { limit_usd: 10, period: 'total' } }],
  });
  try {
    await fn(gov);
  } finally {
    await gov.close();
  }
};

const used = async (gov: Governance): Promise<number | undefined> => {
  await gov.enforcement.drain();
  return (await gov.usage('keys', 'k')).budget?.used_usd;
};

/** An upstream stream that started (its first part arrived); `released` records the upstream being freed. */
async function upstream(ctx: RequestContext, released: boolean[]): Promise<ProviderReply> {
  const parts: StreamPart[] = [{ type: 'text-delta', choice: 0, text: 'Hi' }, { type: 'text-delta', choice: 0, text: ' there' }, { type: 'done' }];
  let i = 0;
  const source: AsyncIterator<StreamPart> = {
    next: () => Promise.resolve(i < parts.length ? { done: false, value: parts[i++] } : { done: true, value: undefined }),
  };
  const reply = await startStream(upstreamPolicy('test'), 200, source, new AbortController().signal, (clean) => released.push(clean), {});
  ctx.attempts.push({ provider: 'test', model: 'm', keyId: 'a', status: 200, latencyMs: 1 });
  return reply;
}

const routeStage: Stage = { name: 'route', before(ctx) { ctx.route = { chain: [TARGET], rule: 'r' }; } };

interface Served {
  status: number;
  text: string;
  /** What serveProxy's promise settled with ('resolved', or what it rejected with). */
  settled: unknown;
}

/** One request through serveProxy on a loopback server. */
async function serve(gw: GatewayHandle, route: Operation | ProtocolEdge, payload: unknown): Promise<Served> {
  let settled: Promise<unknown> = Promise.resolve('not called');
  const server = createServer((req, res) => {
    const raw = new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
    settled = serveProxy(gw, route, req, res, raw).then(() => 'resolved', (err: unknown) => err);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify(payload),
    });
    return { status: res.status, text: await res.text(), settled: await settled };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A gateway handle over real stages; `finished` and `unexpected` record what they were told. */
function handleOf(gov: Governance, stages: Stage[], terminal: (ctx: RequestContext) => Promise<ProviderReply>, finished: (o: RequestOutcome) => void) {
  const unexpected: Array<{ err: unknown; where: string }> = [];
  const gw: GatewayHandle = {
    bodyLimit: () => '1mb',
    limits: () => ({ max_depth: 32, max_string_chars: 100_000, max_messages: 100, max_members: 10_000, max_containers: 10_000, max_values: 100_000 }),
    writeTimeoutMs: () => 60_000,
    inFlight: new InFlight(() => 100),
    parallelLimits: () => [],
    adminKey: () => undefined,
    authenticate: (authorization) => gov.authenticate(authorization),
    handle: (ctx) => runPipeline(ctx, stages, terminal),
    models: () => [],
    ready: () => ({ ready: true, checks: {} }),
    finished,
    unexpected: (err, where) => unexpected.push({ err, where }),
  };
  return { gw, unexpected };
}

const ledgerStage = (gov: Governance): Stage => createLedgerStage({ ledger: gov.ledger, pricing: () => gov.pricing, baseline: () => TARGET });

describe('failures after the upstream answered', () => {
  it('an edge that cannot present a streamed reply closes it: the upstream is freed, and what it was paid is settled and recorded', async () => {
    await withGov(async (gov) => {
      const released: boolean[] = [];
      const entries: LedgerEntry[] = [];
      gov.ledger.onEntry((e) => entries.push(e));
      const outcomes: RequestOutcome[] = [];
      const { gw, unexpected } = handleOf(gov, [routeStage, ledgerStage(gov), createGovernanceStage({ governance: gov })], (ctx) => upstream(ctx, released), (o) => outcomes.push(o));
      const edge: ProtocolEdge = {
        protocol: 'openai.responses',
        op: 'chat',
        accept: async (b) => ({ body: b as Record<string, unknown>, warnings: [], present: () => Promise.reject(new Error('cannot present')) }),
      };
      const served = await serve(gw, edge, body);
      assert.equal(served.status, 500);
      assert.equal(served.settled, 'resolved');
      assert.deepEqual(released, [false], 'the upstream stream was closed before its end');
      // Settled on what the upstream was paid for (the prompt; no completion reached the caller), not held at the reservation.
      const prompt = estimatePromptTokens(body);
      assert.equal(await used(gov), usd(prompt));
      assert.equal(entries.length, 1, 'the ledger recorded the request once');
      assert.equal(outcomes.length, 1);
      assert.equal(outcomes[0].status, 500);
      assert.equal((outcomes[0].ctx.facts.governance as { cost_usd?: number }).cost_usd, usd(prompt), 'settled before the request log read the request');
      assert.equal(unexpected.length, 1, 'the edge failure is the gateway\'s own, reported once');
    });
  });

  it('a streamed reply whose PII the safety stage restores is closed through the restorer: the upstream is freed, settled and recorded', async () => {
    await withGov(async (gov) => {
      const released: boolean[] = [];
      const entries: LedgerEntry[] = [];
      gov.ledger.onEntry((e) => entries.push(e));
      const config = safetyConfigSchema.parse({ pii: { action: 'redact', restore: true } });
      const scanner = new PiiScanner();
      const safety = createSafetyStage({ signals: createSafetySignals({ config: () => config, examples: () => undefined, scanner }), config: () => config, scanner });
      const { gw } = handleOf(gov, [routeStage, safety, ledgerStage(gov), createGovernanceStage({ governance: gov })], (ctx) => upstream(ctx, released), () => undefined);
      const edge: ProtocolEdge = {
        protocol: 'openai.responses',
        op: 'chat',
        accept: async (b) => ({ body: b as Record<string, unknown>, warnings: [], present: () => Promise.reject(new Error('cannot present')) }),
      };
      const pii = { ...body, messages: [{ role: 'user', content: 'Please mail ann@example.com about the meeting' }] };
      const served = await serve(gw, edge, pii);
      assert.equal(served.status, 500);
      assert.deepEqual(released, [false], 'the upstream stream was closed before its end');
      assert.equal(await used(gov), usd(estimatePromptTokens(pii)), 'settled, not held at the reservation');
      assert.equal(entries.length, 1, 'the ledger recorded the request once');
    });
  });

  for (const order of ['after governance', 'before governance'] as const) {
    it(`an after hook that throws on a streamed reply (${order}'s) closes the stream; accounting matches a JSON reply's`, async () => {
      await withGov(async (gov) => {
        const released: boolean[] = [];
        const failing: Stage = { name: 'failing', before() {}, after() { throw new Error('after-hook failed'); } };
        const governance = createGovernanceStage({ governance: gov });
        // `after` hooks run in reverse: a stage listed before governance fails after governance observed the reply.
        const stages = order === 'after governance' ? [failing, governance] : [governance, failing];
        const caller = await gov.authenticate(`Bearer ${KEY}`);
        const ctx: RequestContext = { ...makeCtx(caller, { model: 'm', body: structuredClone(body), route: { chain: [TARGET], rule: 'r' }, stream: true }), afterReply: [] };
        await assert.rejects(runPipeline(ctx, stages, (c) => upstream(c, released)), /after-hook failed/);
        assert.deepEqual(released, [false], 'the upstream stream was closed');
        // Governance saw the reply: settled on what was paid (as a JSON reply is). It did not: nothing to settle, released.
        assert.equal(await used(gov), order === 'after governance' ? usd(estimatePromptTokens(body)) : 0);
      });
    });
  }

  it('a request log that throws after the reply was written runs once, is reported, and leaves the reply alone', async () => {
    await withGov(async (gov) => {
      let calls = 0;
      const terminal = async (ctx: RequestContext): Promise<ProviderReply> => {
        ctx.attempts.push({ provider: 'test', model: 'm', keyId: 'a', status: 200, latencyMs: 1 });
        return { kind: 'json', status: 200, body: { id: 'c1', choices: [] }, usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 } };
      };
      const { gw, unexpected } = handleOf(gov, [routeStage, createGovernanceStage({ governance: gov })], terminal, () => {
        calls++;
        throw new Error('log failed');
      });
      const served = await serve(gw, 'chat', { ...body, stream: false });
      assert.equal(served.settled, 'resolved');
      assert.equal(served.status, 200);
      assert.deepEqual(JSON.parse(served.text), { id: 'c1', choices: [] });
      assert.equal(calls, 1, 'finished ran once');
      assert.deepEqual(unexpected.map((u) => [u.where, (u.err as Error).message]), [['finished', 'log failed']]);
      assert.equal(await used(gov), usd(10), 'the reply was settled once');
    });
  });
});
