/**
 * The standing adversarial suite: property-based requests, upstream replies and config files thrown at a gateway running in
 * its own process, with fault-injecting upstreams. Invariants, checked after every case:
 *  - the process never exits, and /health stays 200;
 *  - every reply is a valid success (an OpenAI JSON body, or SSE ending in [DONE] or an error event) or a well-formed error
 *    envelope; a caller's input never produces a 500;
 *  - a caller-caused failure never changes any provider's health;
 *  - nothing secret (provider keys, the admin key, the virtual keys) appears in a reply or in the process's logs;
 *  - under a low server.max_in_flight, with three tenants and clients leaving mid-reply, a request is answered or refused
 *    as overloaded (never below the bound, never a key's only request while the total is under twice the bound), and
 *    every request gives its place back.
 * Seeded and bounded for `npm test`; `npm run fuzz` runs the same properties longer. FUZZ_SCALE multiplies the case
 * counts, FUZZ_SEED fixes the seed (a failure prints the seed and path that replay it). FUZZ_REDIS (a redis:// URL) runs
 * the gateway on Redis instead of memory — governance, the cache and stored responses, under a key prefix of the run's own.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Simulator } from '../../src/simulator/types.js';
import { sims } from '../helpers/sims.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { admissionCase, anthropicUpstreamReply, callerCase, slowHeadersReply, configText, messagesCase, rawCase, responsesCase, responsesUpstreamReply, upstreamReply, type CallerCase, type RawCase } from './arbitraries.js';
import { malformed, type Reply } from './envelopes.js';

const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20_240_611;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
/** Shared state on Redis (opt-in): the config lines that put governance, the cache and stored responses there. */
const REDIS = process.env.FUZZ_REDIS;
const redisLines = (): string[] => (REDIS === undefined ? [] : [
  `redis: { url: "${REDIS}", key_prefix: "switchyard-fuzz-${process.pid}-${SEED}:" }`,
  // Short-lived: nothing of a run outlives it by long.
  'responses: { store: redis, ttl_s: 600 }',
]);
/** Requests in flight at once (a batch is 1 to BATCH cases, BATCH / 2 on average). */
const BATCH = 8;

const ADMIN = 'fuzz-admin-key-5e1f0c27a9';
const VK = 'sk-sy-fuzz-virtual-key-71c3d9e2';
/** Two more tenants: admission (server.max_in_flight) is shared between keys, so the admission property sends from all three. */
const VKS = [VK, 'sk-sy-fuzz-virtual-key-2-8a05e4b6', 'sk-sy-fuzz-virtual-key-3-c1f93d70'];
const PA_SECRET = 'pa-upstream-secret-9f3c2';
const PB_SECRET = 'pb-upstream-secret-44d1a';
const PC_SECRET = 'pc-upstream-secret-0b7e6';
const SECRETS = [ADMIN, ...VKS, PA_SECRET, PB_SECRET, PC_SECRET];

function configFor(pa: string, pb: string, pc: string, models: string[], pd: string, maxInFlight = 4096): string {
  return [
    'semantic: { enabled: false }',
    `server: { admin_key: ${ADMIN}, max_in_flight: ${maxInFlight}, limits: { max_string_chars: 65536 } }`,
    'logging: { level: info }',
    REDIS === undefined ? 'cache: { enabled: true }' : `cache: { enabled: true, store: redis, redis_prefix: "switchyard-fuzz-${process.pid}-${SEED}:cache:" }`,
    ...redisLines(),
    'governance:',
    `  keys: [${VKS.map((key, i) => `{ id: fuzz${i || ''}, name: fuzz${i || ''}, key: ${key}, rate_limits: { requests_per_minute: 1000000 } }`).join(', ')}]`,
    'routing: { max_attempts: 3, fallbacks: { "pa/m": ["pb/m"] } }',
    'circuit: { consecutive_failures: 1000, cooldown_ms: 1000 }',
    'aliases: { alias: pa/m }',
    'providers:',
    `  pa: { kind: openai, base_url: "${pa}", timeout_ms: 2000, first_byte_timeout_ms: 500, keys: [{ id: ka, value: ${PA_SECRET} }], models: [${models.join(', ')}] }`,
    `  pb: { kind: openai, base_url: "${pb}", keys: [{ id: kb, value: ${PB_SECRET} }], models: [m] }`,
    `  pc: { kind: anthropic, base_url: "${pc}", keys: [{ id: kc, value: ${PC_SECRET} }], models: [m] }`,
    // A scripted Anthropic upstream: only the upstream property routes to it (its model is listed by no other), with a script for every request.
    `  pd: { kind: anthropic, base_url: "${pd}", timeout_ms: 600, first_byte_timeout_ms: 300, keys: [{ id: kd, value: ${PC_SECRET} }], models: [md] }`,
    // A scripted Responses API upstream (pa's server, at /responses): likewise only the upstream property routes to it.
    `  pe: { kind: openai, responses: true, base_url: "${pa}", timeout_ms: 2000, first_byte_timeout_ms: 500, keys: [{ id: ke, value: ${PA_SECRET} }], models: [me] }`,
    '',
  ].join('\n');
}

/** The Messages door's version: Anthropic's error envelope, a Message, or an event stream ending in message_stop or an error. */
function malformedMessages(r: Reply): string | undefined {
  if (r.status >= 400) {
    let j: any;
    try { j = JSON.parse(r.text); } catch { return `error ${r.status} body is not JSON: ${r.text.slice(0, 200)}`; }
    if (j?.type !== 'error' || typeof j?.error?.type !== 'string' || typeof j?.error?.message !== 'string') return `error ${r.status} is not Anthropic's envelope: ${r.text.slice(0, 200)}`;
    return undefined;
  }
  if (r.status !== 200) return `unexpected status ${r.status}`;
  if (r.type.startsWith('text/event-stream')) {
    const frames = r.text.split('\n\n').filter((f) => f.trim() !== '');
    if (frames.length === 0) return 'empty stream';
    const names = frames.map((f) => /^event: (\w+)\ndata: \{/.exec(f)?.[1]);
    if (names.some((n) => n === undefined)) return `bad frame in ${r.text.slice(0, 200)}`;
    if (names.slice(0, -1).some((n) => n === 'error' || n === 'message_stop')) return 'an error or message_stop before the end of the stream';
    return ['message_stop', 'error'].includes(names.at(-1)!) ? undefined : `stream ends with ${names.at(-1)}`;
  }
  try {
    const j = JSON.parse(r.text);
    return j?.type === 'message' && Array.isArray(j.content) ? undefined : typeof j?.input_tokens === 'number' ? undefined : `200 body is not a Message: ${r.text.slice(0, 120)}`;
  } catch {
    return `200 body is not JSON: ${r.text.slice(0, 120)}`;
  }
}

/**
 * The Responses door's version: OpenAI's error envelope, a Response (or a stored one read or deleted, or a model), or an event
 * stream whose events are named, numbered from 0 in order, and end in one terminal event (completed, incomplete, failed or error).
 */
function malformedResponses(r: Reply): string | undefined {
  if (r.status >= 400 || r.status !== 200 || !r.type.startsWith('text/event-stream')) {
    if (r.status >= 400) return malformed(r);
    if (r.status !== 200) return `unexpected status ${r.status}`;
    try {
      const j = JSON.parse(r.text);
      return ['response', 'response.deleted', 'model', 'list'].includes(j?.object) ? undefined : `200 body is not a Response: ${r.text.slice(0, 120)}`;
    } catch {
      return `200 body is not JSON: ${r.text.slice(0, 120)}`;
    }
  }
  const frames = r.text.split('\n\n').filter((f) => f.trim() !== '');
  if (frames.length === 0) return 'empty stream';
  const terminal = ['response.completed', 'response.incomplete', 'response.failed', 'error'];
  for (const [i, f] of frames.entries()) {
    const m = /^event: ([\w.]+)\ndata: (\{.*\})$/s.exec(f);
    if (m === null) return `bad frame ${f.slice(0, 120)}`;
    let j: any;
    try { j = JSON.parse(m[2]); } catch { return `frame data is not JSON: ${f.slice(0, 120)}`; }
    if (j.type !== m[1]) return `event ${m[1]} carries type ${j.type}`;
    if (j.sequence_number !== i) return `event ${i} is numbered ${j.sequence_number}`;
    if (terminal.includes(m[1]) !== (i === frames.length - 1)) return `terminal event ${m[1]} at ${i} of ${frames.length}`;
  }
  return undefined;
}

/** A reply read off the socket until the gateway closed it: status, content type and (de-chunked) body; undefined if none. */
function parseRaw(bytes: Buffer): Reply | undefined {
  let text = bytes.toString('utf8');
  // Interim replies (100 Continue to an Expect) come before the reply itself.
  while (/^HTTP\/1\.1 1\d\d /.test(text)) text = text.slice(text.indexOf('\r\n\r\n') + 4);
  const end = text.indexOf('\r\n\r\n');
  if (text === '') return undefined;
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? NaN);
  const head = text.slice(0, end < 0 ? text.length : end).toLowerCase();
  let body = end < 0 ? '' : text.slice(end + 4);
  if (/\r\ntransfer-encoding: chunked/.test(head)) {
    let out = '';
    for (let i = 0; ;) {
      const eol = body.indexOf('\r\n', i);
      const size = parseInt(body.slice(i, eol), 16);
      if (eol < 0 || !(size > 0)) break;
      out += Buffer.from(body.slice(eol + 2)).subarray(0, size).toString('utf8');
      i = eol + 2 + Buffer.from(body.slice(eol + 2)).subarray(0, size).toString('utf8').length + 2;
    }
    body = out;
  }
  return { status, type: /\r\ncontent-type: ([^\r]*)/.exec(head)?.[1] ?? '', text: body };
}

/** A well-formed request at each door, with the check of its reply. */
const DOORS = {
  chat: { check: malformed, path: '/v1/chat/completions', body: (model: string, stream: boolean) => ({ model, stream, messages: [{ role: 'user', content: 'hi' }] }) },
  messages: { check: malformedMessages, path: '/v1/messages', body: (model: string, stream: boolean) => ({ model, stream, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }) },
  responses: { check: malformedResponses, path: '/v1/responses', body: (model: string, stream: boolean) => ({ model, stream, input: 'hi', tools: [{ type: 'function', name: 'lookup' }] }) },
  embeddings: { check: malformed, path: '/v1/embeddings', body: (model: string) => ({ model, input: ['hi', 'there'] }) },
};

const leaked = (text: string): string | undefined => SECRETS.find((s) => text.includes(s)) ?? (/sk-leaked-0123456789abcdef/.test(text) ? 'an upstream-echoed key' : undefined);

describe('adversarial suite (gateway process, fault-injecting upstreams)', () => {
  let pa: ScriptedUpstream;
  let pd: ScriptedUpstream;
  let pb: Simulator;
  let pc: Simulator;
  let gw: GatewayProcess;
  let caseNo = 0;

  const send = async (c: CallerCase, id: string): Promise<Reply> => {
    const headers: Record<string, string> = { ...c.headers, 'x-request-id': id };
    let payload: Buffer = Buffer.from('json' in c.body ? (JSON.stringify(c.body.json) ?? 'null') : c.body.raw);
    if (headers['content-encoding'] === 'gzip') payload = gzipSync(payload);
    const method = c.method ?? 'POST';
    const res = await fetch(`${gw.url}${c.path}`, { method, headers, body: method === 'POST' ? new Uint8Array(payload) : undefined, signal: AbortSignal.timeout(30_000) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  const health = async (): Promise<Record<string, any>> =>
    ((await (await fetch(`${gw.url}/dashboard/data`, { headers: { 'x-admin-key': ADMIN } })).json()) as any).health;
  const alive = async (): Promise<void> => {
    assert.ok(gw.alive(), `the gateway process exited:\n${gw.output().slice(-3000)}`);
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
  };

  /** Every key healthy with no error counted; else the request-log lines of the attempts that counted against a key, to find the case. */
  const unchangedHealth = async (): Promise<void> => {
    const failed = () => gw.output().split('\n').filter((l) => /"failure":"(upstream|timeout|stream|credential|rate_limited)"/.test(l) && /"msg":"request"/.test(l)).slice(-5).join('\n');
    for (const [name, p] of Object.entries(await health())) {
      for (const k of p.keys) assert.deepEqual([name, k.id, k.state, k.error_rate, k.in_flight], [name, k.id, 'healthy', 0, 0], failed());
    }
  };

  before(async () => {
    pa = await startScriptedUpstream();
    [pb, pc] = await sims({ protocol: 'openai', name: 'pb' }, { protocol: 'anthropic', name: 'pc' });
    pd = await startScriptedUpstream();
    gw = await startGatewayProcess(configFor(pa.url, pb.url, pc.url, ['m'], pd.url));
  });
  after(async () => {
    await gw?.close();
    await Promise.all([pa?.close(), pb?.close(), pc?.close(), pd?.close()]);
  });

  it('caller input: never a crash, a 500, a malformed reply, a leaked secret, or a change to provider health', async () => {
    // Cases go in concurrent batches (as traffic does); a failing batch still shrinks to the smallest failing case.
    await fc.assert(fc.asyncProperty(fc.array(callerCase(VKS), { minLength: 1, maxLength: BATCH }), async (batch) => {
      await Promise.all(batch.map(async (c) => {
        const r = await send(c, `caller-${caseNo++}`);
        assert.equal(malformed(r), undefined);
        assert.notEqual(r.status, 500, `a caller's input produced a 500: ${r.text.slice(0, 300)}`);
        assert.equal(leaked(r.text), undefined);
      }));
    }), { numRuns: runs(2500 / (BATCH / 2)), seed: SEED, endOnFailure: true, includeErrorInReport: true });
    await alive();
    await unchangedHealth();
  });

  it('Messages door caller input: never a crash, a 500, a malformed reply, a leaked secret, or a change to provider health', async () => {
    await fc.assert(fc.asyncProperty(fc.array(messagesCase(VKS), { minLength: 1, maxLength: BATCH }), async (batch) => {
      await Promise.all(batch.map(async (c) => {
        const r = await send(c, `messages-${caseNo++}`);
        assert.equal(malformedMessages(r), undefined);
        assert.notEqual(r.status, 500, `a caller's input produced a 500: ${r.text.slice(0, 300)}`);
        assert.equal(leaked(r.text), undefined);
      }));
    }), { numRuns: runs(400 / (BATCH / 2)), seed: SEED, endOnFailure: true, includeErrorInReport: true });
    await alive();
    await unchangedHealth();
  });

  it('Responses door caller input: never a crash, a 500, a malformed reply, a leaked secret, or a change to provider health', async () => {
    await fc.assert(fc.asyncProperty(fc.array(responsesCase(VKS), { minLength: 1, maxLength: BATCH }), async (batch) => {
      await Promise.all(batch.map(async (c) => {
        const r = await send(c, `responses-${caseNo++}`);
        assert.equal(malformedResponses(r), undefined);
        assert.notEqual(r.status, 500, `a caller's input produced a 500: ${r.text.slice(0, 300)}`);
        assert.equal(leaked(r.text), undefined);
      }));
    }), { numRuns: runs(200 / (BATCH / 2)), seed: SEED + 3, endOnFailure: true, includeErrorInReport: true });
    await alive();
    await unchangedHealth();
  });

  it('stored responses (the gateway\'s own and a Responses upstream\'s, in whichever store): another tenant can neither read, continue nor delete one', async () => {
    const as = (key: string, id: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-request-id': id });
    const upstreamResponse = (id: string) => JSON.stringify({ id, object: 'response', status: 'completed', model: 'me', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'secret of tenant 0' }] }] });
    for (const model of ['pb/m', 'pe/me']) {
      const rid = `stored-${caseNo++}`;
      if (model === 'pe/me') pa.script(rid, { status: 200, headers: { 'content-type': 'application/json' }, chunks: [upstreamResponse(`resp_upstream_${rid}`)] });
      const made = await fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: as(VKS[0]!, rid), body: JSON.stringify({ model, input: 'remember this' }) });
      const text = await made.text();
      assert.equal(made.status, 200, text);
      const id = (JSON.parse(text) as { id: string }).id;
      for (const other of VKS.slice(1)) {
        const read = await fetch(`${gw.url}/v1/responses/${id}`, { headers: as(other, `stored-${caseNo++}`) });
        assert.equal(read.status, 404, `another tenant read ${model}'s ${id}: ${await read.text()}`);
        const cont = await fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: as(other, `stored-${caseNo++}`), body: JSON.stringify({ model: 'pb/m', input: 'go on', previous_response_id: id }) });
        const contText = await cont.text();
        assert.equal(cont.status, 400, `another tenant continued ${model}'s ${id}: ${contText.slice(0, 300)}`);
        assert.equal(malformedResponses({ status: cont.status, type: cont.headers.get('content-type') ?? '', text: contText }), undefined);
        const del = await fetch(`${gw.url}/v1/responses/${id}`, { method: 'DELETE', headers: as(other, `stored-${caseNo++}`) });
        assert.equal(del.status, 404, `another tenant deleted ${model}'s ${id}`);
      }
      const own = await fetch(`${gw.url}/v1/responses/${id}`, { headers: as(VKS[0]!, `stored-${caseNo++}`) });
      assert.equal(own.status, 200, `its own tenant cannot read ${model}'s ${id} (store: ${REDIS === undefined ? 'memory' : 'redis'})`);
    }
    await alive();
  });

  it('raw requests (repeated, non-ASCII, huge or folded headers; gzip, gzip bombs, bodies cut short): an envelope or a reply, never a 500', async () => {
    const checks = { chat: malformed, messages: malformedMessages, responses: malformedResponses };
    const sendRaw = (c: RawCase): Promise<Buffer> => new Promise((resolve) => {
      const u = new URL(gw.url);
      const got: Buffer[] = [];
      const s = net.connect(Number(u.port), u.hostname, () => {
        s.write(Buffer.concat([Buffer.from(`${c.lines.join('\r\n')}\r\nx-request-id: raw-${caseNo++}\r\n\r\n`, 'utf8'), c.body]));
        if (c.cut) setTimeout(() => s.destroy(), 50);
      });
      s.on('data', (d: Buffer) => got.push(d));
      s.on('close', () => resolve(Buffer.concat(got)));
      s.on('error', () => resolve(Buffer.concat(got)));
      s.setTimeout(30_000, () => s.destroy());
    });
    await fc.assert(fc.asyncProperty(fc.array(rawCase(VK), { minLength: 1, maxLength: BATCH }), async (batch) => {
      await Promise.all(batch.map(async (c) => {
        const r = parseRaw(await sendRaw(c));
        if (c.cut && r === undefined) return;
        assert.ok(r !== undefined, 'no reply');
        // node's parser refuses some of these before a route knows the door: those get OpenAI's envelope.
        assert.equal((r.status >= 400 && /^\{"error"/.test(r.text) ? malformed : checks[c.door])(r), undefined);
        assert.notEqual(r.status, 500, `a caller's input produced a 500: ${r.text.slice(0, 300)}`);
        assert.equal(leaked(r.text), undefined);
      }));
    }), { numRuns: runs(120 / (BATCH / 2)), seed: SEED + 4, endOnFailure: true, includeErrorInReport: true });
    await alive();
    await unchangedHealth();
  });

  it('admission under a low server.max_in_flight, three keys, clients leaving mid-reply: a reply or an overloaded refusal, a lone key never refused, every place given back', async () => {
    const inFlight = async (): Promise<number> => {
      const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { 'x-admin-key': ADMIN } })).text();
      return Number(/^switchyard_requests_in_flight (\S+)$/m.exec(metrics)?.[1]);
    };
    /** Waits (up to 5 s) until no request holds a place; returns the count then. */
    const drained = async (): Promise<number> => {
      let n = await inFlight();
      for (let i = 0; i < 50 && n !== 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        n = await inFlight();
      }
      return n;
    };
    assert.equal(await drained(), 0, 'requests of the earlier properties still hold places');
    // One bound at a time (a reload each), so a failure replays with its bound's seed.
    for (const [i, max] of [1, 2].entries()) {
      await gw.writeConfig(configFor(pa.url, pb.url, pc.url, ['m'], pd.url, max));
      assert.match(await gw.reload(), /config reloaded/);
      await fc.assert(fc.asyncProperty(fc.array(admissionCase(VKS.length), { minLength: 1, maxLength: BATCH }), async (batch) => {
        const perKey = batch.reduce((m, c) => m.set(c.key, (m.get(c.key) ?? 0) + 1), new Map<number, number>());
        await Promise.all(batch.map(async (c) => {
          const id = `admission-${caseNo++}`;
          pa.script(id, c.reply);
          const door = DOORS[c.door];
          const signal = c.leaveAfterMs === undefined ? AbortSignal.timeout(30_000) : AbortSignal.timeout(c.leaveAfterMs);
          let r: Reply;
          try {
            const res = await fetch(`${gw.url}${door.path}`, {
              method: 'POST', signal, body: JSON.stringify(door.body('pa/m', c.stream)),
              headers: { 'content-type': 'application/json', authorization: `Bearer ${VKS[c.key]}`, 'x-api-key': VKS[c.key], 'x-request-id': id },
            });
            r = { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
          } catch (err) {
            // The client left; what it had read is not a whole reply.
            if (c.leaveAfterMs !== undefined && signal.aborted) return;
            throw err;
          }
          assert.equal(door.check(r), undefined);
          assert.equal(leaked(r.text), undefined);
          if (r.status === 200) return;
          const refusal = c.door === 'messages' ? r.status === 529 && /"overloaded_error"/.test(r.text) : r.status === 503 && /"gateway_overloaded"/.test(r.text);
          assert.ok(refusal, `neither a reply nor an overloaded refusal (a 504 here is a deadline the machine missed): ${r.status} ${r.text.slice(0, 300)}`);
          // Every batch starts with none in flight, so a request finds fewer than the batch ahead of it.
          assert.ok(batch.length > max, `refused below the bound (${batch.length} requests, max_in_flight ${max})`);
          assert.ok(perKey.get(c.key)! > 1 || batch.length > 2 * max, `a key with one request was refused (${batch.length} requests, max_in_flight ${max})`);
        }));
        assert.equal(await drained(), 0, 'a request kept its place under server.max_in_flight after its client was answered or left');
      }), { numRuns: runs(15), seed: SEED + 5 + i, endOnFailure: true, includeErrorInReport: true });
    }
    await gw.writeConfig(configFor(pa.url, pb.url, pc.url, ['m'], pd.url));
    assert.match(await gw.reload(), /config reloaded/);
    await alive();
    await unchangedHealth();
  });

  it('upstream replies: never a crash, a malformed reply or a leaked secret, whatever an upstream sends, at any door', async () => {
    // The same broken upstream seen through each door: OpenAI chat (bytes passed through) and the two that re-encode parts.
    const doors = DOORS;
    // An OpenAI upstream (pa, also behind the alias), an Anthropic one (pd) or a Responses API one (pe: its own bytes passed
    // through to a Responses caller, translated for the rest), each sent its own protocol's broken replies.
    const scripted = fc.oneof(
      { weight: 24, arbitrary: fc.tuple(upstreamReply, fc.constantFrom('pa/m', 'alias')) },
      { weight: 8, arbitrary: fc.tuple(anthropicUpstreamReply, fc.constant('pd/md')) },
      { weight: 8, arbitrary: fc.tuple(responsesUpstreamReply, fc.constant('pe/me')) },
      // Rarely: each holds its batch past the first-byte deadline.
      { weight: 1, arbitrary: fc.tuple(slowHeadersReply, fc.constant('pd/md')) },
    );
    const upstreamCase = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(scripted, fc.boolean(), fc.constantFrom<keyof typeof doors>('chat', 'chat', 'messages', 'responses', 'embeddings')) },
      // The Responses upstream's own events reach a caller only through the Responses door (pass-through): that door mostly.
      { weight: 1, arbitrary: fc.tuple(fc.tuple(responsesUpstreamReply, fc.constant('pe/me')), fc.boolean(), fc.constantFrom<keyof typeof doors>('responses', 'responses', 'responses', 'chat', 'messages')) },
    );
    await fc.assert(fc.asyncProperty(fc.array(upstreamCase, { minLength: 1, maxLength: BATCH }), async (batch) => {
      await Promise.all(batch.map(async ([[reply, model], stream, door]) => {
        const id = `upstream-${caseNo++}`;
        (model === 'pd/md' ? pd : pa).script(id, reply);
        const d = doors[door];
        const r = await send({ path: d.path, headers: { 'content-type': 'application/json', authorization: `Bearer ${VK}` }, body: { json: d.body(model, stream) } }, id);
        assert.equal(d.check(r), undefined);
        assert.equal(leaked(r.text), undefined);
        assert.ok(r.status !== 500 || !/internal_error/.test(r.text), `an upstream reply produced a gateway error: ${r.text.slice(0, 300)}`);
        // The first-byte deadline is a stream's: a JSON call waits for its headers up to timeout_ms.
        if (!stream || door === 'embeddings') assert.doesNotMatch(r.text, /upstream_first_byte_timeout/, `a JSON call met a first-byte deadline: ${r.text.slice(0, 300)}`);
      }));
    }), { numRuns: runs(400 / (BATCH / 2)), seed: SEED + 1, endOnFailure: true, includeErrorInReport: true });
    await alive();
  });

  it('config files: broken ones are refused and the running config keeps serving; valid ones apply', async () => {
    const valid = (models: string[]) => configFor(pa.url, pb.url, pc.url, models, pd.url);
    /**
     * Writes the file and returns the outcome of a SIGHUP reload, once the reload the file watcher starts for the same
     * write has logged its outcome too (waited for at most 3 s): the next write then does not land while that reload is
     * still reading the file, which would have it wait for the file to settle once more and hold the next SIGHUP behind it.
     */
    const writeAndReload = async (text: string): Promise<string> => {
      const from = gw.output().length;
      await gw.writeConfig(text);
      const outcome = await gw.reload();
      for (let i = 0; i < 150 && !/"trigger":"file"/.test(gw.output().slice(from)); i++) await new Promise((r) => setTimeout(r, 20));
      return outcome;
    };
    await fc.assert(fc.asyncProperty(configText(valid), async ({ text, valid: ok }) => {
      const outcome = await writeAndReload(text);
      if (ok === true) assert.match(outcome, /config reloaded/);
      if (ok === false) assert.match(outcome, /config reload refused/);
      if (ok === undefined) {
        // A file cut short may or may not be a config; whatever it was, a valid file applies again.
        assert.match(await writeAndReload(valid(['m'])), /config reloaded/);
      }
      const r = await send({ path: '/v1/chat/completions', headers: { 'content-type': 'application/json', authorization: `Bearer ${VK}` }, body: { json: { model: 'pb/m', messages: [{ role: 'user', content: 'still serving?' }] } } }, `config-${caseNo++}`);
      assert.equal(r.status, 200, r.text.slice(0, 300));
    }), { numRuns: runs(20), seed: SEED + 2, endOnFailure: true, includeErrorInReport: true });
    await alive();
  });

  it('the logs hold no secret, nothing escaped to the last-resort handler, and every request gave its admission back', async () => {
    await alive();
    // Every request of the suite has been answered: none still holds a place under server.max_in_flight.
    let inFlight = Number.NaN;
    for (let i = 0; i < 50 && inFlight !== 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { 'x-admin-key': ADMIN } })).text();
      inFlight = Number(/^switchyard_requests_in_flight (\S+)$/m.exec(metrics)?.[1]);
    }
    assert.equal(inFlight, 0, 'requests still counted in flight after the suite');
    const out = gw.output();
    assert.equal(leaked(out), undefined, 'a secret reached the logs');
    assert.doesNotMatch(out, /unexpected error caught/, 'an error escaped its request');
  });
});
