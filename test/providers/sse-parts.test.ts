import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamPart } from '../../src/llm/parts.js';
import { EVENT_TOO_LARGE, upstreamPolicy } from '../../src/providers/failure.js';
import { OpenAIEventReader } from '../../src/providers/openai/openai-stream.js';
import { startStream } from '../../src/providers/openai/start-stream.js';
import { ssePartSource } from '../../src/providers/sse-parts.js';
import { MAX_SSE_LINE, SseParser, type SseEvent } from '../../src/providers/sse.js';

const WIRE = [
  ': a comment\r\n',
  'event: note\r\ndata: {"a":1}\r\n\r\n',
  'data: first line\ndata: second line\n\n',
  'data:no space\n',
  'retry: 10\n\n',
  'data: héllo wörld ✓\n\n',
  'data\n\n',
  'data: [DONE]\n\n',
].join('');

const EXPECTED: SseEvent[] = [
  { event: 'note', data: '{"a":1}' },
  { data: 'first line\nsecond line' },
  { data: 'no space' },
  { data: 'héllo wörld ✓' },
  { data: '' },
  { data: '[DONE]' },
];

function parseIn(pieces: Uint8Array[]): SseEvent[] {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  for (const p of pieces) parser.push(p, out);
  parser.end(out);
  return out;
}

const chunk = (content: string): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

async function* body(pieces: string[], onClose: () => void): AsyncGenerator<Uint8Array> {
  try {
    for (const p of pieces) yield Buffer.from(p);
  } finally {
    onClose();
  }
}

describe('SseParser', () => {
  it('gives the same events however the bytes are split (inside lines, CRLF pairs and UTF-8 sequences)', () => {
    const bytes = Buffer.from(WIRE);
    assert.deepEqual(parseIn([bytes]), EXPECTED);
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(parseIn([bytes.subarray(0, cut), bytes.subarray(cut)]), EXPECTED, `split at byte ${cut}`);
    }
    assert.deepEqual(parseIn([...bytes].map((b) => Uint8Array.of(b))), EXPECTED, 'one byte at a time');
  });

  it('reads lone CR line ends as the format allows, however the bytes are split (a CR LF pair is one line end)', () => {
    const crOnly = WIRE.replaceAll('\r\n', '\n').replaceAll('\n', '\r');
    // Every line end written each of the three ways in turn.
    let k = 0;
    const mixed = WIRE.replaceAll('\r\n', '\n').replaceAll('\n', () => ['\r', '\r\n', '\n'][k++ % 3]!);
    for (const wire of [crOnly, mixed]) {
      const bytes = Buffer.from(wire);
      assert.deepEqual(parseIn([bytes]), EXPECTED);
      for (let cut = 1; cut < bytes.length; cut++) {
        assert.deepEqual(parseIn([bytes.subarray(0, cut), bytes.subarray(cut)]), EXPECTED, `split at byte ${cut}`);
      }
      assert.deepEqual(parseIn([...bytes].map((b) => Uint8Array.of(b))), EXPECTED, 'one byte at a time');
    }
    // A '\r' alone then an empty piece then the '\n': still one line end.
    assert.deepEqual(parseIn([Buffer.from('data: a\r'), new Uint8Array(0), Buffer.from('\n\r\ndata: b\r\r')]), [{ data: 'a' }, { data: 'b' }]);
  });

  it('keeps a last event that has no blank line after it', () => {
    assert.deepEqual(parseIn([Buffer.from('data: a\n\ndata: tail')]), [{ data: 'a' }, { data: 'tail' }]);
  });

  it('refuses an event whose data lines never end (no blank line) once they pass the line limit, not only one long line', () => {
    const parser = new SseParser();
    const out: SseEvent[] = [];
    const piece = Buffer.from(`data: ${'x'.repeat(64 * 1024 - 8)}\n`);
    const reads = Math.ceil(MAX_SSE_LINE / piece.length) + 1;
    assert.throws(() => {
      for (let i = 0; i < reads; i++) parser.push(piece, out);
    }, (err: Error & { code?: string }) => err.code === EVENT_TOO_LARGE);
    assert.equal(out.length, 0);
  });

  it('reads a long line arriving in many pieces once, not again at every piece', () => {
    // The work of reading a line is the text searched for its end: counted through String.prototype.indexOf, which the
    // parser's line search goes through. A line kept as one growing string and searched from its start at every piece
    // cost (4 MB / 16 KB) / 2 = 128 times its length here (seconds of event loop for a line near the cap).
    const line = `data: ${'y'.repeat(4 << 20)}`;
    const pieces: Buffer[] = [];
    const wire = Buffer.from(`${line}\n\n`);
    for (let i = 0; i < wire.length; i += 16 << 10) pieces.push(wire.subarray(i, i + (16 << 10)));
    const parser = new SseParser();
    const out: SseEvent[] = [];
    const original = String.prototype.indexOf;
    let searched = 0;
    String.prototype.indexOf = function indexOf(this: string, search: string, from?: number): number {
      if (search === '\n') searched += this.length - Math.max(0, from ?? 0);
      return original.call(this, search, from);
    };
    try {
      for (const piece of pieces) parser.push(piece, out);
    } finally {
      String.prototype.indexOf = original;
    }
    assert.deepEqual(out.map((e) => e.data.length), [line.length - 6]);
    assert.ok(searched <= 2 * wire.length, `searched ${searched} characters for line ends in ${wire.length} bytes`);
  });

  it('reads a read of many lines without a colon once, not to the end of the read at every line', () => {
    // The work is the text every String.prototype.indexOf call looked at (up to its match, or to the end). A line searched for
    // its colon is searched past its end when it has none, to the end of the read: (32 K lines × 64 KB) / 2 here.
    const piece = Buffer.from(`${'x\n'.repeat(32 * 1024 - 8)}data: ok\n\n`);
    const parser = new SseParser();
    const out: SseEvent[] = [];
    const original = String.prototype.indexOf;
    let searched = 0;
    String.prototype.indexOf = function indexOf(this: string, search: string, from?: number): number {
      const start = Math.max(0, from ?? 0);
      const at = original.call(this, search, start);
      searched += (at < 0 ? this.length : at + search.length) - start;
      return at;
    };
    try {
      parser.push(piece, out);
    } finally {
      String.prototype.indexOf = original;
    }
    assert.deepEqual(out, [{ data: 'ok' }]);
    assert.ok(searched <= 2 * piece.length, `searched ${searched} characters in a read of ${piece.length} bytes`);
  });

  it('counts an event\'s data afresh after each blank line', () => {
    const parser = new SseParser();
    const out: SseEvent[] = [];
    const piece = Buffer.from(`data: ${'x'.repeat(64 * 1024 - 8)}\n\n`);
    const reads = Math.ceil(MAX_SSE_LINE / piece.length) + 1;
    for (let i = 0; i < reads; i++) parser.push(piece, out);
    assert.equal(out.length, reads);
  });
});

describe('OpenAI stream parts per upstream read', () => {
  const policy = upstreamPolicy('p');

  it('makes the parts of every event of a read, ends at [DONE] and releases the connection as clean', async () => {
    const released: boolean[] = [];
    const reader = new OpenAIEventReader(false, (s) => s);
    // Two events in the first read, an event split across the next two reads, then the terminator.
    const second = chunk(' world');
    const source = ssePartSource(body([chunk('Hello') + second.slice(0, 20), second.slice(20), 'data: [DONE]\n\n'], () => undefined), (ev, out) => reader.read(ev, out));
    const reply = await startStream(policy, 200, source, new AbortController().signal, (clean) => released.push(clean), {});
    const parts: StreamPart[] = [];
    for await (const p of reply.parts) parts.push(p);
    assert.deepEqual(parts.map((p) => p.type), ['metadata', 'text-delta', 'text-delta', 'done']);
    assert.deepEqual(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { text: string }).text), ['Hello', ' world']);
    assert.deepEqual(released, [true]);
  });

  it('ends with an error part and an unclean release when the upstream stops without its terminator', async () => {
    const released: boolean[] = [];
    const reader = new OpenAIEventReader(false, (s) => s);
    const source = ssePartSource(body([chunk('Hi')], () => undefined), (ev, out) => reader.read(ev, out));
    const reply = await startStream(policy, 200, source, new AbortController().signal, (clean) => released.push(clean), {});
    const parts: StreamPart[] = [];
    for await (const p of reply.parts) parts.push(p);
    const last = parts.at(-1)!;
    assert.equal(last.type, 'error');
    assert.equal((last as Extract<StreamPart, { type: 'error' }>).failure.code, 'upstream_stream_interrupted');
    assert.deepEqual(released, [false]);
  });

  it('releases once, unclean, and closes the body when the consumer stops early', async () => {
    const released: boolean[] = [];
    let closed = 0;
    const reader = new OpenAIEventReader(false, (s) => s);
    const source = ssePartSource(body([chunk('a'), chunk('b'), 'data: [DONE]\n\n'], () => closed++), (ev, out) => reader.read(ev, out));
    const reply = await startStream(policy, 200, source, new AbortController().signal, (clean) => released.push(clean), {});
    const it = reply.parts[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();
    await it.return?.();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(released, [false]);
    assert.equal(closed, 1);
  });
});
