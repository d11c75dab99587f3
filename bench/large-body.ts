/**
 * How long one large request holds the gateway's event loop: a client polls `/health` every 2 ms while one request of a
 * few megabytes goes through, and the longest gap between two answers to the poller is the hold (every other request in
 * flight waits as long). Bodies: prose, a body packed with e-mail addresses, many messages, many text parts, and text
 * beyond Latin-1; configs: the defaults (PII found for the log only), `safety.pii.action: redact`, and the semantic cache
 * with an intent rule. The mock upstream answers at once; everything runs on loopback.
 *   node dist/bench/large-body.js [--rounds 3] [--configs default,redact,semantic] [--bodies prose,emails,...]
 * Prints JSON: per config and body, the body's size, the status, and each round's time and longest gap.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { baseConfig, EXTRA_MODES, MODEL } from './load/modes.js';
import { spawnUpstreamAndBareProxy, startSwitchyard, type Child } from './load/processes.js';

const CONFIGS: Record<string, Record<string, unknown>> = {
  default: {},
  redact: { safety: { pii: { action: 'redact' } } },
  semantic: { cache: { enabled: true, store: 'memory' }, ...EXTRA_MODES.find((m) => m.id === 'intent_rule')!.sections },
};

/** A seeded generator, so every run sends the same bodies. */
function words(seed: number): (chars: number) => string {
  const list = 'the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches near old town'.split(' ');
  let s = seed;
  const next = (): number => (s = (s * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32;
  return (chars) => {
    let out = '';
    while (out.length < chars) out += `${list[Math.floor(next() * list.length)]}${next() < 0.1 ? '. ' : ' '}`;
    return out.slice(0, chars);
  };
}

const BODIES: Record<string, () => unknown> = {
  prose: () => {
    const prose = words(1);
    return { model: MODEL, messages: Array.from({ length: 4 }, () => ({ role: 'user', content: prose(1_000_000) })) };
  },
  emails: () => {
    let s = '';
    for (let i = 0; s.length < 1_000_000; i++) s += `u${i}@ex.com `;
    return { model: MODEL, messages: Array.from({ length: 4 }, () => ({ role: 'user', content: s.slice(0, 1_000_000) })) };
  },
  many_messages: () => {
    const prose = words(2);
    return { model: MODEL, messages: Array.from({ length: 2000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: prose(1900) })) };
  },
  text_parts: () => {
    const prose = words(3);
    return { model: MODEL, messages: Array.from({ length: 20 }, () => ({ role: 'user', content: Array.from({ length: 1000 }, () => ({ type: 'text', text: prose(190) })) })) };
  },
  unicode: () => ({ model: MODEL, messages: Array.from({ length: 4 }, () => ({ role: 'user', content: 'Привет мир — 你好世界 🎉 '.repeat(20_000).slice(0, 500_000) })) }),
};

interface Round { ms: number; max_gap_ms: number }

/** Sends `body` once while polling /health; the request's time and the longest gap between two polls. */
async function once(origin: string, body: string): Promise<Round & { status: number }> {
  let stop = false;
  let maxGap = 0;
  const poll = (async () => {
    let last = performance.now();
    while (!stop) {
      await fetch(`${origin}/health`).then((r) => r.arrayBuffer());
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  const t = performance.now();
  const res = await fetch(`${origin}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  const ms = performance.now() - t;
  // Work left after the reply (the request log's scan) holds the loop too.
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await poll;
  return { status: res.status, ms: Math.round(ms), max_gap_ms: Math.round(maxGap) };
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, configs: { type: 'string' }, bodies: { type: 'string' } } });
const pick = <T>(all: Record<string, T>, list: string | undefined): [string, T][] =>
  Object.entries(all).filter(([k]) => list === undefined || list.split(',').includes(k));
const children: Child[] = [];
const dir = await mkdtemp(join(tmpdir(), 'switchyard-large-body-'));
const out: Record<string, Record<string, { mb: number; status: number; rounds: Round[] }>> = {};
try {
  const { upstream } = await spawnUpstreamAndBareProxy(children);
  const bodies = pick(BODIES, values.bodies).map(([name, make]) => [name, JSON.stringify(make())] as const);
  for (const [name, sections] of pick(CONFIGS, values.configs)) {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, stringify({ ...baseConfig(upstream.info.url), ...sections, server: { body_limit: '5mb' } }));
    const { child, origin } = await startSwitchyard(file);
    try {
      out[name] = {};
      for (const [bodyName, body] of bodies) {
        const rounds: Round[] = [];
        let status = 0;
        for (let r = 0; r < Number(values.rounds); r++) {
          const { status: s, ...round } = await once(origin, body);
          status = s;
          rounds.push(round);
        }
        out[name][bodyName] = { mb: Math.round(Buffer.byteLength(body) / 10_000) / 100, status, rounds };
        process.stderr.write(`${name} ${bodyName}: ${rounds.map((r) => `${r.max_gap_ms} ms`).join(', ')}\n`);
      }
    } finally {
      await child.stop();
    }
  }
} finally {
  for (const c of children.reverse()) await c.stop();
  await rm(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ date: new Date().toISOString(), measure: 'longest gap between /health answers polled every 2 ms, ms', results: out }, null, 2));
