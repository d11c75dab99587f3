import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { SemanticConfigSchema } from '../../src/semantic/config.js';
import { createSemanticService, type SemanticService } from '../../src/semantic/service.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let root: string;
let service: SemanticService;
const logs: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _enc, done) {
      logs.push(JSON.parse(String(chunk)));
      done();
    },
  }),
);

const config = SemanticConfigSchema.parse({ reference_prompts: { debounce_ms: 50 } });

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'semantic-'));
  // The five shipped intent categories (the folder may hold other files, e.g. signal sets owned elsewhere).
  await mkdir(path.join(root, 'reference-prompts'));
  for (const f of ['code.yaml', 'math.yaml', 'creative_writing.yaml', 'customer_support.yaml', 'chit_chat.md']) {
    await cp(path.join(repo, 'reference-prompts', f), path.join(root, 'reference-prompts', f));
  }
  service = await createSemanticService(config, { rootDir: root, logger });
});
after(async () => {
  await service?.close();
  await rm(root, { recursive: true, force: true });
});

const intentOf = async (s: SemanticService, text: string) => s.classify(await s.embed(text));

test('classifies requests against the shipped reference prompts', async () => {
  assert.equal(service.ready, true);
  // Before the head is trained classification already works (prototype ranking); check the trained state.
  assert.equal((await intentOf(service, 'Write a JavaScript function that removes duplicates from an array')).intent, 'code');
  await service.settled();
  assert.ok(logs.some((l) => l.msg === 'intent classifier head trained'));
  assert.equal(service.dim, 512);
  assert.deepEqual(service.categories().map((c) => c.name).sort(), ['chit_chat', 'code', 'creative_writing', 'customer_support', 'math']);
  const code = await intentOf(service, 'Write a JavaScript function that removes duplicates from an array');
  assert.equal(code.intent, 'code');
  assert.equal(code.metadata.tier, 'complex');
  assert.equal((await intentOf(service, 'What is the integral of x squared?')).intent, 'math');
  assert.equal((await intentOf(service, 'My order arrived broken and I want my money back')).intent, 'customer_support');
  assert.equal((await intentOf(service, 'Write a poem about autumn leaves')).intent, 'creative_writing');
  const off = await intentOf(service, 'Quarterly sediment transport in alpine glacial rivers');
  assert.equal(off.intent, 'none', JSON.stringify(off.top));
});

test('concurrent embeds are batched and repeats come from the LRU', async () => {
  const texts = Array.from({ length: 20 }, (_, i) => `question number ${i} about invoices`);
  const vecs = await Promise.all(texts.map((t) => service.embed(t)));
  assert.equal(vecs.length, 20);
  assert.equal(await service.embed(texts[3]), vecs[3]);
});

test('the reference embeddings are cached on disk and reused on restart', async () => {
  const files = await readdir(path.join(root, '.cache/embeddings'));
  assert.equal(files.length, 1);
  const before = logs.length;
  const again = await createSemanticService({ ...config, reference_prompts: { ...config.reference_prompts, watch: false } }, { rootDir: root, logger });
  try {
    const loaded = logs.slice(before).find((l) => l.msg === 'reference prompts loaded');
    assert.ok(loaded);
    assert.equal(loaded.fromDiskCache, loaded.examples);
  } finally {
    await again.close();
  }
});

test('hot reload: a new file is picked up; an invalid set is rejected with file:line and the old set keeps serving', async () => {
  const dir = path.join(root, 'reference-prompts');
  const reloaded = () =>
    new Promise<Record<string, unknown>>((resolve) => {
      const start = logs.length;
      const timer = setInterval(() => {
        const hit = logs.slice(start).find((l) => String(l.msg).startsWith('reference prompts reload'));
        if (hit) {
          clearInterval(timer);
          resolve(hit);
        }
      }, 20);
    });
  let next = reloaded();
  await writeFile(path.join(dir, 'cooking.yaml'), 'name: cooking\nexamples:\n  - how long should I boil an egg\n  - a recipe for banana bread\n  - how do I make pizza dough\n');
  assert.equal((await next).msg, 'reference prompts reloaded');
  assert.ok(service.categories().some((c) => c.name === 'cooking'));
  await service.settled();
  assert.equal((await intentOf(service, 'give me a recipe for chocolate chip cookies')).intent, 'cooking');

  next = reloaded();
  await writeFile(path.join(dir, 'broken.yaml'), 'name: broken\nexamples:\n  - ok\nthreshold: nope\n');
  const failed = await next;
  assert.equal(failed.msg, 'reference prompts reload failed; the previous set keeps serving');
  assert.match(String((failed.problems as string[])[0]), /broken\.yaml:4: threshold/);
  assert.ok(service.categories().some((c) => c.name === 'cooking'));
  assert.equal((await intentOf(service, 'Write a Python class for a bank account')).intent, 'code');
});

test('classify reads the wording of the text a vector was embedded from, or the text it is given', async () => {
  await service.settled();
  const text = 'Write a JavaScript function that removes duplicates from an array';
  const vec = await service.embed(text);
  const remembered = service.classify(vec);
  assert.deepEqual(remembered, service.classify(vec, text));
  // Other wording with the same vector moves the head's margin; a vector the service never returned is meaning only.
  assert.notEqual(service.classify(vec, 'poem autumn leaves verse').margin, remembered.margin);
  assert.notEqual(service.classify(Float32Array.from(vec)).margin, remembered.margin);
  assert.equal(remembered.intent, 'code');
});
