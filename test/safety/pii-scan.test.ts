/**
 * PII scans of large texts run in a worker thread (src/safety/pii-scan.ts): the same findings as detectPii in place, a
 * bounded queue that refuses with a 503 rather than growing, and nothing lost when the worker goes away. The stage and
 * the rules read the scan whether it came back at once or later.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { afterReply, drainAfterReply } from '../../src/pipeline/after-reply.js';
import { buildContext } from '../../src/pipeline/build-context.js';
import { ClientAbort } from '../../src/pipeline/client-abort.js';
import { ANONYMOUS, type RequestContext } from '../../src/pipeline/context.js';
import { GatewayError } from '../../src/errors.js';
import { safetyConfigSchema } from '../../src/safety/config.js';
import { detectPii } from '../../src/safety/detectors/pii.js';
import { PiiScanBusy, PiiScanner } from '../../src/safety/pii-scan.js';
import { pack, unpack, type PackedFindings } from '../../src/safety/pii-findings.js';
import { redactTexts } from '../../src/safety/redact.js';
import { createSafetySignals } from '../../src/safety/signals.js';
import { createSafetyStage } from '../../src/safety/stage.js';

const PIECES = [
  'jane.roe@example.org', '4111 1111 1111 1111', '(212) 555-0142', '+44 20 7946 0958', 'DE89 3704 0044 0532 0130 00', '192.168.10.20',
  '2001:db8::8a2e:370:7334', '078-05-1120', 'ssn 078051120', '350 Fifth Avenue, New York, NY 10118', 'sk-proj-abcdefghijklmnopqrstuvwx0123',
  'password=hunter2hunter2', ' ', '\n', '.', ':', '@', '-', 'a', 'Call me', '12', 'x%y@z',
];
const text = fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 6 })), { maxLength: 40 }).map((xs) => xs.join(''));

describe('PII scan off the event loop', () => {
  const scanners: PiiScanner[] = [];
  const scanner = (offload: number, pending?: number): PiiScanner => {
    const s = new PiiScanner(offload, pending);
    scanners.push(s);
    return s;
  };
  after(async () => { await Promise.all(scanners.map((s) => s.close())); });

  it('a worker finds what detectPii finds in place, text by text', async () => {
    const s = scanner(1);
    await fc.assert(fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 4 }), async (texts) => {
      fc.pre(texts.join('').length > 0);
      const found = s.scan(texts);
      assert.ok(found instanceof Promise, 'a text at the offload size goes to the worker');
      assert.deepEqual(unpack(await found), texts.map(detectPii));
    }), { numRuns: 300, seed: 7 });
  });

  it('packing keeps each finding\'s type, even were one detector to report two', () => {
    const found = [[{ type: 'email', detector: 'x', start: 0, end: 1 }, { type: 'phone', detector: 'x', start: 2, end: 3 }], [{ type: 'phone', detector: 'x', start: 0, end: 4 }, { type: 'email', detector: 'x', start: 5, end: 6 }]] as const;
    assert.deepEqual(unpack(pack(found.map((f) => [...f]))), found.map((f) => [...f]));
  });

  it('small texts are scanned at once; the queue is bounded by the characters waiting, past it a 503 to retry', async () => {
    const s = scanner(100, 250);
    const small = s.scan(['mail jane.roe@example.org']);
    assert.deepEqual(unpack(small as PackedFindings), [detectPii('mail jane.roe@example.org')]);
    const big = `${'word '.repeat(30)}jane.roe@example.org`;
    const first = s.scan([big, big]);
    assert.ok(first instanceof Promise);
    assert.ok(s.waiting > 0);
    const refused = s.scan([big]);
    assert.ok(refused instanceof Promise);
    await assert.rejects(refused, (err: unknown) => err instanceof PiiScanBusy && err instanceof GatewayError && err.status === 503 && err.headers['retry-after'] === '1');
    assert.deepEqual(unpack(await first), [detectPii(big), detectPii(big)]);
    assert.equal(s.waiting, 0);
    // Once the worker has caught up, the next is taken.
    assert.deepEqual(unpack(await s.scan([big])), [detectPii(big)]);
  });

  it('the queue is shared between owners: one owner\'s flood fills its own share, another\'s body is still taken', async () => {
    const s = scanner(100, 300);
    const body = 'word '.repeat(30); // 150 characters
    const flood = [s.scan([body], 'a'), s.scan([body], 'a')]; // 300: the bound
    const refusedA = s.scan([body], 'a');
    const tookB = s.scan([body], 'b'); // b waits nothing: its share is 300 / 2 = 150
    const refusedB = s.scan([body], 'b'); // past its share now
    await assert.rejects(Promise.resolve(refusedA), PiiScanBusy);
    await assert.rejects(Promise.resolve(refusedB), PiiScanBusy);
    assert.deepEqual(unpack(await tookB), [detectPii(body)]);
    for (const f of flood) assert.deepEqual(unpack(await f), [detectPii(body)]);
    assert.equal(s.waiting, 0);
  });

  it('a worker redacts as redaction in place does, placeholders the body already holds skipped', async () => {
    const s = scanner(1);
    const kinds = ['email', 'phone', 'card', 'ssn'] as const;
    await fc.assert(fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 4 }), fc.subarray([...kinds], { minLength: 1 }), fc.array(fc.constantFrom('[EMAIL_1]', '[PHONE_2]', '[CARD_1]'), { maxLength: 2 }), async (texts, types, outside) => {
      fc.pre(texts.join('').length > 0);
      const found = pack(texts.map(detectPii));
      const there = s.redact(texts, found, [...types], () => outside);
      assert.ok(there instanceof Promise, 'texts at the offload size go to the worker');
      assert.deepEqual(await there, redactTexts(texts, found, new Set(types), () => outside));
    }), { numRuns: 200, seed: 5 });
  });

  it('a job past its deadline is refused as busy and the worker let go, never left to wait or done on the event loop', async () => {
    const s = new PiiScanner(1, undefined, 20);
    scanners.push(s);
    const texts = ['mail jane.roe@example.org '.repeat(100_000)];
    const late = s.scan(texts);
    const redacting = s.redact(texts, pack([[]]), ['email'], () => []);
    await assert.rejects(Promise.resolve(late), PiiScanBusy);
    await assert.rejects(Promise.resolve(redacting), PiiScanBusy);
    assert.equal(s.waiting, 0);
  });

  it('what waits when the scanner closes is done in place, not lost', async () => {
    const s = scanner(1);
    const texts = ['call (212) 555-0142', 'card 4111 1111 1111 1111'];
    const pending = s.scan(texts);
    const found = pack(texts.map(detectPii));
    const redacting = s.redact(texts, found, ['card'], () => []);
    await s.close();
    assert.deepEqual(unpack(await pending), texts.map(detectPii));
    assert.deepEqual((await redacting).texts, [undefined, 'card [CARD_1]']);
    assert.deepEqual(unpack(s.scan(texts) as PackedFindings), texts.map(detectPii), 'a closed scanner scans in place');
  });

  describe('the safety stage with a large body', () => {
    const big = (extra = ''): string => `Write to jane.roe@example.org ${'lorem ipsum '.repeat(20)}${extra}`;
    const ctxOf = (content: string): RequestContext =>
      buildContext('chat', { model: 'm', messages: [{ role: 'user', content }] }, {}, ANONYMOUS, new ClientAbort(), { afterReply: true });
    const stageWith = (s: PiiScanner, cfg: unknown) => {
      const config = safetyConfigSchema.parse(cfg);
      const signals = createSafetySignals({ config: () => config, examples: () => undefined, scanner: s });
      return { signals, stage: createSafetyStage({ signals, config: () => config, scanner: s }) };
    };

    it('redacts from the worker\'s findings; a scan refused for overload refuses the request with the 503', async () => {
      const s = scanner(64, 300);
      const { stage } = stageWith(s, { pii: { action: 'redact' } });
      const a = ctxOf(big());
      const b = ctxOf(big('and (212) 555-0142'));
      const pa = stage.before!(a);
      assert.ok(pa instanceof Promise);
      await assert.rejects(Promise.resolve(stage.before!(b)), PiiScanBusy);
      await pa;
      const sent = (a.upstreamBody as { messages: Array<{ content: string }> }).messages[0]!.content;
      assert.match(sent, /^Write to \[EMAIL_1\] lorem/);
      assert.equal(a.replyHeaders['x-switchyard-redacted'], '1');
      assert.equal(a.facts.cache_no_store, true);
    });

    it('PII only in the native body\'s own fields makes no redaction job: the internal request goes instead', async () => {
      const s = scanner(64);
      let jobs = 0;
      const redact = s.redact.bind(s);
      s.redact = (...args: Parameters<PiiScanner['redact']>) => (jobs++, redact(...args));
      const { stage } = stageWith(s, { pii: { action: 'redact' } });
      const ctx = buildContext('chat', { model: 'm', messages: [{ role: 'user', content: 'lorem ipsum '.repeat(20) }] }, {}, ANONYMOUS, new ClientAbort(),
        { afterReply: true, native: { protocol: 'anthropic.messages', body: {}, extras: { system: 'reply to jane.roe@example.org' } } as never });
      await stage.before!(ctx);
      assert.equal(jobs, 0);
      assert.equal(ctx.upstreamBody, ctx.body);
      assert.equal((ctx.facts.safety as { action?: unknown }).action, 'translate:pii');
      assert.equal(ctx.replyHeaders['x-switchyard-redacted'], undefined);
    });

    it('a redaction refused for overload after its scan refuses the request, and nothing half-redacted goes on', async () => {
      const s = scanner(64);
      s.redact = () => Promise.reject(new PiiScanBusy());
      const { stage } = stageWith(s, { pii: { action: 'redact' } });
      const a = ctxOf(big());
      await assert.rejects(Promise.resolve(stage.before!(a)), PiiScanBusy);
      assert.equal(a.upstreamBody, undefined);
      assert.equal(a.replyHeaders['x-switchyard-redacted'], undefined);
      assert.equal(a.facts.cache_no_store, true);
    });

    it('a scan only the log wanted waits with the log, and is left out of it when refused', async () => {
      const s = scanner(64, 300);
      const { stage } = stageWith(s, {});
      const a = ctxOf(big());
      const b = ctxOf(big());
      assert.equal(stage.before!(a), undefined);
      assert.equal(stage.before!(b), undefined);
      const da = drainAfterReply(a, (e) => assert.fail(String(e)));
      const db = drainAfterReply(b, (e) => assert.fail(String(e)));
      assert.ok(da instanceof Promise && db instanceof Promise);
      await Promise.all([da, db]);
      assert.deepEqual((a.facts.safety as { pii: unknown }).pii, [{ type: 'email', detector: 'email', at: 'messages[0].content', start: 9, end: 29 }]);
      assert.equal((b.facts.safety as { pii_scan?: unknown }).pii_scan, 'busy');
      assert.equal(b.facts.cache_no_store, undefined);
    });

    it('the request log lists the first 100 findings and counts the rest', async () => {
      const { signals } = stageWith(scanner(64), {});
      const ctx = ctxOf('mail a@b.co '.repeat(150));
      const r = await signals.pii(ctx);
      assert.equal(r.count, 150);
      assert.equal(r.found.counts[0], 150, 'redaction still sees every finding');
      const facts = ctx.facts.safety as { pii: unknown[]; pii_more: number };
      assert.equal(facts.pii.length, 100);
      assert.equal(facts.pii_more, 50);
    });

    it('rules read pii_types from a scan that came back later, and concurrent readers share one scan', async () => {
      const s = scanner(64);
      const { signals } = stageWith(s, {});
      const ctx = ctxOf(big());
      const one = signals.pii(ctx);
      const two = signals.pii(ctx);
      assert.ok(one instanceof Promise);
      assert.equal(one, two);
      assert.deepEqual((await one).types, ['email']);
      assert.ok(!(signals.pii(ctx) instanceof Promise), 'kept once scanned');
      // An after-reply item that is synchronous keeps the drain synchronous.
      const c = ctxOf('hi');
      afterReply(c, () => undefined);
      assert.equal(drainAfterReply(c, (e) => assert.fail(String(e))), undefined);
    });
  });
});
