/**
 * OpenTelemetry traces end to end: a gateway process with `observability.otel` on exports to a local OTLP/HTTP receiver the
 * test starts; requests come from the official openai client, with and without a W3C traceparent; the mock upstreams record
 * the trace context they were sent. With otel off, the SDK is never imported and nothing is exported; with the exporter
 * down, requests still answer and the lost spans are counted.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, provider, sims } from '../helpers/gateway.js';
import { cliArgs, spawnGateway, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A gateway config file: alpha (OpenAI protocol) is the rule's target, beta (Anthropic protocol) its fallback. */
const configText = (alpha: Simulator, beta: Simulator, otel: string): string => [
  'semantic: { enabled: false }',
  'governance: { allow_anonymous: true }',
  'cache: { enabled: true, max_entries: 50 }',
  'circuit: { consecutive_failures: 100 }',
  'providers:',
  `  alpha: { kind: openai, base_url: "${alpha.url}", keys: [{ id: alpha-key-1, value: alpha-secret-value-0001 }], models: [m] }`,
  `  beta: { kind: anthropic, base_url: "${beta.url}", keys: [{ id: beta-key-1, value: beta-secret-value-0001 }], models: [m] }`,
  'rules:',
  '  - { name: to-alpha, priority: 10, cel_expression: "true", targets: [{ provider: alpha, model: m }], fallbacks: [beta/m] }',
  'observability:',
  `  otel: ${otel}`,
  '',
].join('\n');

/** The parts of a W3C traceparent header. */
function parseTraceparent(v: unknown): { traceId: string; spanId: string; flags: string } {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(v));
  assert.ok(m, `not a traceparent: ${String(v)}`);
  return { traceId: m[1], spanId: m[2], flags: m[3] };
}

/** The spans of the request with this id, once its root span and `minSpans` spans of its trace have arrived. */
function traceOf(otlp: OtlpReceiver, requestId: string, minSpans: number): Promise<{ root: ReceivedSpan; spans: ReceivedSpan[] }> {
  return otlp.waitFor((all) => {
    const root = all.find((s) => s.attributes['switchyard.request_id'] === requestId);
    if (!root) return undefined;
    const spans = all.filter((s) => s.traceId === root.traceId);
    return spans.length >= minSpans ? { root, spans } : undefined;
  });
}

const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] => spans.filter((s) => s.parentSpanId === parent.spanId);
const one = (spans: ReceivedSpan[], name: string): ReceivedSpan => {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one ${name} span among ${spans.map((s) => s.name).join(', ')}`);
  return found[0];
};

describe('OpenTelemetry traces (gateway process, otel on)', () => {
  let alpha: Simulator;
  let beta: Simulator;
  let otlp: OtlpReceiver;
  let gw: GatewayProcess;
  let ai: OpenAI;

  before(async () => {
    [alpha, beta] = await sims({ protocol: 'openai', name: 'alpha' }, { protocol: 'anthropic', name: 'beta' });
    otlp = await startOtlpReceiver();
    gw = await startGatewayProcess(configText(alpha, beta,
      `{ enabled: true, endpoint: "${otlp.url}", headers: { x-collector-token: t0ken }, service_name: switchyard-under-test, export_timeout_ms: 5000 }`));
    ai = new OpenAI({ apiKey: 'sk-anything', baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 20_000 });
  });
  after(async () => {
    await gw?.close();
    await Promise.all([alpha?.close(), beta?.close(), otlp?.close()]);
  });

  it('one trace per request: stage spans under the root, one attempt span per upstream call of a fallback', async () => {
    alpha.inject({ status: 500 });
    const { data, response } = await ai.chat.completions
      .create({ model: 'm', temperature: 0.2, messages: [{ role: 'user', content: 'fallback trace question' }] })
      .withResponse();
    assert.match(data.choices[0].message.content ?? '', /^\[beta\]/);
    const { root, spans } = await traceOf(otlp, response.headers.get('x-request-id')!, 11);

    // The root: a server span named for the GenAI operation, with no parent (the client sent no traceparent).
    assert.equal(root.parentSpanId, '');
    assert.equal(root.kind, SERVER);
    assert.equal(root.name, 'chat m');
    assert.equal(root.serviceName, 'switchyard-under-test');
    assert.equal(root.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(root.attributes['gen_ai.request.model'], 'm');
    assert.equal(root.attributes['gen_ai.request.temperature'], 0.2);
    assert.equal(root.attributes['http.response.status_code'], 200);
    assert.equal(root.attributes['switchyard.route.rule'], 'to-alpha');
    assert.equal(root.attributes['switchyard.attempts'], 2);
    assert.equal(root.attributes['gen_ai.usage.input_tokens'], data.usage?.prompt_tokens);
    assert.equal(root.attributes['gen_ai.usage.output_tokens'], data.usage?.completion_tokens);

    // Every pipeline step is a child of the root, in the pipeline's order.
    const steps = childrenOf(spans, root);
    assert.deepEqual(steps.map((s) => s.name).sort(),
      ['switchyard.access', 'switchyard.cache', 'switchyard.execute', 'switchyard.governance', 'switchyard.ledger', 'switchyard.route',
        'switchyard.safety', 'switchyard.session']);
    const route = one(steps, 'switchyard.route');
    assert.equal(route.attributes['switchyard.route.rule'], 'to-alpha');
    assert.deepEqual(route.attributes['switchyard.route.targets'], ['alpha/m', 'beta/m']);
    assert.equal(one(steps, 'switchyard.cache').attributes['switchyard.cache.outcome'], 'miss');

    // Attempts are children of the execute step: the failed one on alpha, then the answer from beta.
    const execute = one(steps, 'switchyard.execute');
    const attempts = childrenOf(spans, execute).sort((a, b) => Number(a.attributes['switchyard.attempt']) - Number(b.attributes['switchyard.attempt']));
    assert.equal(attempts.length, 2);
    const [failed, answered] = attempts;
    for (const a of attempts) {
      assert.equal(a.kind, CLIENT);
      assert.equal(a.name, 'chat m');
      assert.equal(a.attributes['gen_ai.request.model'], 'm');
    }
    assert.equal(failed.attributes['gen_ai.system'], 'openai');
    assert.equal(failed.attributes['switchyard.provider'], 'alpha');
    assert.equal(failed.attributes['switchyard.key_id'], 'alpha-key-1');
    assert.equal(failed.attributes['http.response.status_code'], 500);
    assert.equal(failed.attributes['error.type'], 'upstream');
    assert.equal(failed.attributes['switchyard.failure_class'], 'upstream');
    assert.equal(failed.statusCode, ERROR);
    assert.equal(answered.attributes['gen_ai.system'], 'anthropic');
    assert.equal(answered.attributes['switchyard.provider'], 'beta');
    assert.equal(answered.attributes['switchyard.key_id'], 'beta-key-1');
    assert.equal(answered.attributes['http.response.status_code'], 200);
    assert.deepEqual(answered.attributes['gen_ai.response.finish_reasons'], ['stop']);
    assert.equal(answered.attributes['gen_ai.usage.input_tokens'], data.usage?.prompt_tokens);
    assert.equal(answered.attributes['gen_ai.usage.output_tokens'], data.usage?.completion_tokens);
    assert.equal(answered.attributes['error.type'], undefined);

    // No span carries a key's value.
    const text = JSON.stringify(spans);
    assert.doesNotMatch(text, /secret-value/);

    // Each upstream call carried the trace context of its own attempt span.
    const sentAlpha = parseTraceparent(alpha.requests.at(-1)!.headers.traceparent);
    const sentBeta = parseTraceparent(beta.requests.at(-1)!.headers.traceparent);
    assert.deepEqual([sentAlpha.traceId, sentAlpha.spanId, sentAlpha.flags], [root.traceId, failed.spanId, '01']);
    assert.deepEqual([sentBeta.traceId, sentBeta.spanId, sentBeta.flags], [root.traceId, answered.spanId, '01']);

    // Exports went to the configured endpoint with the configured headers.
    assert.equal(otlp.exports.at(-1)!['x-collector-token'], 't0ken');
  });

  it("continues the caller's trace: traceparent and tracestate in, the same trace id out to the upstream (stream)", async () => {
    const traceId = hex(16);
    const parentId = hex(8);
    const stream = await ai.chat.completions.create(
      { model: 'm', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'continued trace question' }] },
      { headers: { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=opaque' } },
    );
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    assert.match(text, /^\[alpha\]/);

    const { root, spans } = await otlp.waitFor((all) => {
      const r = all.find((s) => s.traceId === traceId && s.parentSpanId === parentId);
      const attempt = r && all.find((s) => s.traceId === traceId && s.kind === CLIENT);
      return r && attempt ? { root: r, spans: all.filter((s) => s.traceId === traceId) } : undefined;
    });
    assert.equal(root.kind, SERVER);
    assert.equal(root.attributes['gen_ai.request.stream'], true);
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    assert.equal(attempt.parentSpanId, one(spans, 'switchyard.execute').spanId);
    assert.deepEqual(attempt.attributes['gen_ai.response.finish_reasons'], ['stop']);
    assert.equal(typeof attempt.attributes['gen_ai.usage.output_tokens'], 'number');

    const sent = alpha.requests.at(-1)!.headers;
    assert.deepEqual(parseTraceparent(sent.traceparent), { traceId, spanId: attempt.spanId, flags: '01' });
    assert.equal(sent.tracestate, 'vendor=opaque');
  });

  it('a cache hit: the cache span says so and no attempt span is made', async () => {
    const ask = () => ai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'cached trace question' }] }).withResponse();
    await ask();
    const before = alpha.requestCount();
    const { response } = await ask();
    assert.equal(response.headers.get('x-switchyard-cache'), 'hit-exact');
    assert.equal(alpha.requestCount(), before);
    const { root, spans } = await traceOf(otlp, response.headers.get('x-request-id')!, 5);
    const cache = one(spans, 'switchyard.cache');
    assert.equal(cache.parentSpanId, root.spanId);
    assert.equal(cache.attributes['switchyard.cache.outcome'], 'hit-exact');
    assert.equal(cache.attributes['switchyard.cache.similarity'], 1);
    assert.equal(root.attributes['switchyard.cache.outcome'], 'hit-exact');
    assert.equal(spans.filter((s) => s.kind === CLIENT).length, 0);
    assert.equal(spans.filter((s) => s.name === 'switchyard.execute').length, 0);
  });

  it('a refused request still gets its trace, in error', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: 'not a list' }),
    });
    assert.equal(res.status, 400);
    const { root } = await traceOf(otlp, res.headers.get('x-request-id')!, 1);
    assert.equal(root.attributes['http.response.status_code'], 400);
    assert.equal(root.attributes['error.type'], 'caller');
  });
});

/**
 * A module hook that makes importing the OpenTelemetry SDK or exporter fail, loaded into the gateway process before it
 * starts: with otel off the gateway must start and serve under it.
 */
const FORBID_SDK = `export async function resolve(specifier, context, next) {
  if (/^@opentelemetry\\/(sdk-trace|exporter-trace)/.test(specifier)) throw new Error('the OpenTelemetry SDK was imported: ' + specifier);
  return next(specifier, context);
}`;
const forbidSdkImport = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(FORBID_SDK)}`)});`)}`;

async function spawnWithoutSdk(text: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-otel-'));
  const file = path.join(dir, 'gateway.yaml');
  await writeFile(file, text);
  const argv = cliArgs('--config', file, '--port', '0', '--host', '127.0.0.1');
  // Before the script (src/cli.ts under tsx, or the built dist/src/cli.js): a node option.
  argv.splice(argv.findIndex((a) => /[/\\]cli\.[jt]s$/.test(a)), 0, '--import', forbidSdkImport);
  return { dir, start: () => spawnGateway(argv, { env: { ...process.env } }) };
}

describe('OpenTelemetry off (gateway process)', () => {
  let alpha: Simulator;
  let beta: Simulator;
  let otlp: OtlpReceiver;

  before(async () => {
    [alpha, beta] = await sims({ protocol: 'openai', name: 'alpha' }, { protocol: 'anthropic', name: 'beta' });
    otlp = await startOtlpReceiver();
  });
  after(async () => {
    await Promise.all([alpha?.close(), beta?.close(), otlp?.close()]);
  });

  it('never imports the SDK, exports nothing and sends no trace context upstream', async () => {
    const { dir, start } = await spawnWithoutSdk(configText(alpha, beta, `{ enabled: false, endpoint: "${otlp.url}" }`));
    try {
      const gw = await start();
      try {
        const ai = new OpenAI({ apiKey: 'sk-anything', baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 20_000 });
        const reply = await ai.chat.completions.create(
          { model: 'm', messages: [{ role: 'user', content: 'untraced question' }] },
          { headers: { traceparent: `00-${hex(16)}-${hex(8)}-01` } },
        );
        assert.match(reply.choices[0].message.content ?? '', /^\[alpha\]/);
        assert.equal(alpha.requests.at(-1)!.headers.traceparent, undefined);
      } finally {
        // A graceful stop, which with tracing on would flush the export queue.
        assert.equal(await gw.stop(), 0);
      }
      assert.equal(otlp.exports.length, 0);
      assert.doesNotMatch(gw.output(), /OpenTelemetry SDK was imported/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('(control) the same hook stops a gateway that has otel on', async () => {
    const { dir, start } = await spawnWithoutSdk(configText(alpha, beta, `{ enabled: true, endpoint: "${otlp.url}" }`));
    try {
      await assert.rejects(start(), /OpenTelemetry SDK was imported/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('OpenTelemetry with the exporter down', () => {
  it('requests still answer; the spans are dropped and counted', async () => {
    // A port nothing listens on.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const [up] = await sims({ protocol: 'openai', name: 'up' });
    const gw = await gateway({
      server: { admin_key: 'admin-key-for-otel-test' },
      providers: { up: provider(up, ['m']) },
      observability: { otel: { enabled: true, endpoint: `http://127.0.0.1:${port}/v1/traces`, export_timeout_ms: 300 } },
    });
    try {
      const reply = await client(gw).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      assert.match(reply.choices[0].message.content ?? '', /^\[up\]/);
      const deadline = Date.now() + 20_000;
      while (gw.observability.tracing.stats().dropped === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const stats = gw.observability.tracing.stats();
      assert.ok(stats.dropped > 0, 'the spans of the request are counted as dropped');
      assert.equal(stats.exported, 0);
      const metrics = await fetch(`${gw.url}/metrics`, { headers: { authorization: 'Bearer admin-key-for-otel-test' } }).then((r) => r.text());
      assert.match(metrics, new RegExp(`switchyard_trace_spans_total\\{outcome="dropped"\\} ${gw.observability.tracing.stats().dropped}\\b`));
    } finally {
      await closeAll(gw, [up]);
    }
  });
});
