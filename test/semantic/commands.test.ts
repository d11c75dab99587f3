import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { run as buildRefs } from '../../src/commands/build-refs.js';
import { run as evalCmd } from '../../src/commands/eval.js';
import { run as fit } from '../../src/commands/fit.js';
import { categoryOf } from '../../src/semantic/labelled.js';
import { userCacheDir } from '../../src/semantic/offline.js';

let dir: string;
const rows = [
  ...['what is the weather tomorrow', 'will it rain today', 'how hot will it be this afternoon', 'is it going to snow tonight', 'weather forecast for the weekend', 'do I need an umbrella today', 'how windy is it outside', 'will it be sunny on Saturday'].map((text) => ({ text, label: 'weather' })),
  ...['play some jazz', 'put on my workout playlist', 'play the latest album by Adele', 'start playing relaxing music', 'skip to the next song', 'play rock music from the nineties', 'shuffle my favourite songs', 'turn on some classical music'].map((text) => ({ text, label: 'play_music' })),
  ...['set an alarm for 7 am', 'wake me up at six tomorrow', 'set an alarm in 20 minutes', 'cancel my morning alarm', 'create an alarm for 5:30', 'change my alarm to 8 am', 'set a wake-up alarm for Monday', 'turn off all alarms'].map((text) => ({ text, label: 'alarm' })),
];
const oos = ['what is the boiling point of tungsten', 'who wrote the declaration of independence', 'how many legs does a spider have', 'translate good morning into german'].map((text) => ({ text, label: 'none' }));
const jsonl = (xs: object[]) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  // Only the command's text is captured: under \`node --test\` the runner's own events reach the parent as binary chunks
  // on this process's stdout, and swallowing them would drop this test from the report.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (write as (c: Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await fn(), out };
  } finally {
    process.stdout.write = write;
  }
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cmds-'));
  const byLabel = (i: number) => rows.filter((_, j) => j % 8 === i || j % 8 === i + 1);
  await writeFile(path.join(dir, 'train.jsonl'), jsonl(rows));
  await writeFile(path.join(dir, 'heldout.jsonl'), jsonl([...byLabel(6), ...oos]));
});
after(() => rm(dir, { recursive: true, force: true }));

test('build-refs, fit and eval work end to end on labelled data', async () => {
  const refs = path.join(dir, 'refs');
  const cacheDir = path.join(dir, 'cache');
  const built = await capture(() => buildRefs(['--data', path.join(dir, 'train.jsonl'), '--per-label', '5', '--out', refs]));
  assert.equal(built.code, 0);
  assert.deepEqual((await readdir(refs)).sort(), ['alarm.yaml', 'play_music.yaml', 'weather.yaml']);

  const fitted = await capture(() => fit(['--refs', refs, '--data', path.join(dir, 'heldout.jsonl'), '--cache-dir', cacheDir]));
  assert.equal(fitted.code, 0, fitted.out);
  assert.match(await readFile(path.join(refs, '_settings.yaml'), 'utf8'), /threshold: [\d.-]+\nmin_margin: [\d.]+/);
  // Four out-of-scope rows are too few for five folds: the plain fit, no out-of-fold line. Two folds cross-fit.
  assert.doesNotMatch(fitted.out, /out of fold/);
  const crossFitted = await capture(() => fit(['--refs', refs, '--data', path.join(dir, 'heldout.jsonl'), '--cache-dir', cacheDir, '--folds', '2', '--dry-run']));
  assert.equal(crossFitted.code, 0, crossFitted.out);
  assert.match(crossFitted.out, /on the fitting data: in-scope accuracy [\d.]+%, out-of-scope recall [\d.]+%\nout of fold \(2 folds, [^)]*\): in-scope accuracy [\d.]+%, out-of-scope recall [\d.]+%; fitted for \d+% out-of-scope recall; fold thresholds [\d.-]+, [\d.-]+/);

  const evaluated = await capture(() => evalCmd(['--refs', refs, '--data', path.join(dir, 'heldout.jsonl'), '--cache-dir', cacheDir, '--json']));
  assert.equal(evaluated.code, 0);
  const report = JSON.parse(evaluated.out);
  assert.equal(report.inScope, 6);
  assert.equal(report.outOfScope, 4);
  assert.ok(report.topAccuracy >= 5 / 6, `ranking accuracy ${report.topAccuracy}`);
  assert.equal(report.topCorrect, Math.round(report.topAccuracy * 6), 'the --json counts pool folds exactly');
  assert.equal(report.inScopeCorrect, Math.round(report.inScopeAccuracy * 6));
  assert.ok(report.oosRecall >= 0.5, `oos recall ${report.oosRecall}`);
});

test('build-refs --seed draws repeatably and --rest writes the other rows, disjoint from the folder', async () => {
  const draw = async (out: string, rest: string) => {
    const r = await capture(() => buildRefs(['--data', path.join(dir, 'train.jsonl'), '--per-label', '3', '--seed', '5', '--out', out, '--rest', rest, '--rest-per-label', '4']));
    assert.equal(r.code, 0);
    const examples = (await readFile(path.join(out, 'weather.yaml'), 'utf8')).split('\n').filter((l) => l.startsWith('  - ')).map((l) => l.slice(4));
    const restRows = (await readFile(rest, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { text: string; label: string });
    return { examples, restRows };
  };
  const a = await draw(path.join(dir, 'seeded-a'), path.join(dir, 'rest-a.jsonl'));
  const b = await draw(path.join(dir, 'seeded-b'), path.join(dir, 'rest-b.jsonl'));
  assert.deepEqual(a, b);
  assert.equal(a.examples.length, 3);
  assert.equal(a.restRows.length, 12);
  const weatherRest = a.restRows.filter((r) => r.label === 'weather').map((r) => r.text);
  assert.equal(weatherRest.length, 4);
  assert.ok(weatherRest.every((t) => !a.examples.includes(t)));
  const firstThree = rows.filter((r) => r.label === 'weather').slice(0, 3).map((r) => r.text);
  assert.notDeepEqual(a.examples, firstThree, 'seed 5 shuffles this label');
});

test('labels that are not category names: build-refs and eval agree on the category', async () => {
  const rename: Record<string, string> = { weather: 'weather forecast?', play_music: 'play music', alarm: 'alarm' };
  const renamed = rows.map((r) => ({ ...r, label: rename[r.label] }));
  await writeFile(path.join(dir, 'renamed-train.jsonl'), jsonl(renamed));
  await writeFile(path.join(dir, 'renamed-heldout.jsonl'), jsonl(renamed.filter((_, j) => j % 8 === 6 || j % 8 === 7)));
  const refs = path.join(dir, 'renamed-refs');
  const built = await capture(() => buildRefs(['--data', path.join(dir, 'renamed-train.jsonl'), '--per-label', '5', '--out', refs]));
  assert.equal(built.code, 0);
  assert.deepEqual((await readdir(refs)).sort(), ['alarm.yaml', 'play_music.yaml', 'weather_forecast_.yaml']);
  const evaluated = await capture(() => evalCmd(['--refs', refs, '--data', path.join(dir, 'renamed-heldout.jsonl'), '--cache-dir', path.join(dir, 'cache'), '--json']));
  assert.equal(evaluated.code, 0);
  const report = JSON.parse(evaluated.out) as { topAccuracy: number; perCategory: Array<{ intent: string; support: number }> };
  assert.ok(report.topAccuracy >= 5 / 6, `ranking accuracy ${report.topAccuracy}`);
  assert.deepEqual(report.perCategory.filter((c) => c.support > 0).map((c) => c.intent), ['alarm', 'play_music', 'weather_forecast_']);
});

test('categoryOf keeps none, maps everything else to a valid category name', () => {
  assert.equal(categoryOf('none'), 'none');
  assert.equal(categoryOf('computer science'), 'computer_science');
  assert.equal(categoryOf('reverted_card_payment?'), 'reverted_card_payment_');
  assert.equal(categoryOf('_none'), 'none_', 'never the reserved name');
  assert.equal(categoryOf('??'), 'label');
});

test('build-refs --none writes rows labelled none as the none category; a request it wins is rejected at any threshold', async () => {
  const plain = path.join(dir, 'plain-refs');
  const withNone = path.join(dir, 'none-refs');
  const data = [path.join(dir, 'train.jsonl'), path.join(dir, 'heldout.jsonl')].join(',');
  assert.equal((await capture(() => buildRefs(['--data', data, '--per-label', 'all', '--out', plain]))).code, 0);
  assert.equal((await capture(() => buildRefs(['--data', data, '--per-label', 'all', '--none', '--out', withNone]))).code, 0);
  assert.ok(!(await readdir(plain)).includes('none.yaml'));
  const none = (await readFile(path.join(withNone, 'none.yaml'), 'utf8')).split('\n').filter((l) => l.startsWith('  - '));
  assert.equal(none.length, oos.length);
  await writeFile(path.join(dir, 'oos.jsonl'), jsonl(oos));
  const cache = ['--cache-dir', path.join(dir, 'cache')];
  const recall = async (refs: string) => {
    const r = await capture(() => evalCmd(['--refs', refs, '--data', path.join(dir, 'oos.jsonl'), '--threshold=-1', '--json', ...cache]));
    assert.equal(r.code, 0);
    return (JSON.parse(r.out) as { oosRecall: number }).oosRecall;
  };
  assert.equal(await recall(plain), 0);
  assert.equal(await recall(withNone), 1);
});

test('build-refs --per-label all writes every distinct text of each label', async () => {
  const refs = path.join(dir, 'all-refs');
  const built = await capture(() => buildRefs(['--data', path.join(dir, 'train.jsonl'), '--per-label', 'all', '--out', refs]));
  assert.equal(built.code, 0);
  const weather = (await readFile(path.join(refs, 'weather.yaml'), 'utf8')).split('\n').filter((l) => l.startsWith('  - '));
  assert.equal(weather.length, 8);
  const err = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((c: string) => { stderr += c; return true; }) as typeof process.stderr.write;
  try {
    assert.equal(await buildRefs(['--data', path.join(dir, 'train.jsonl'), '--per-label', 'some', '--out', refs]), 2);
  } finally {
    process.stderr.write = err;
  }
  assert.match(stderr, /--per-label must be an integer >= 1, got 'some' \(or 'all'\)/);
});

test('eval --threshold and --min-margin replace the folder\'s; with no in-scope rows accuracy is n/a', async () => {
  const refs = path.join(dir, 'threshold-refs');
  const cacheDir = path.join(dir, 'cache');
  await capture(() => buildRefs(['--data', path.join(dir, 'train.jsonl'), '--per-label', '5', '--out', refs]));
  const heldout = path.join(dir, 'heldout.jsonl');
  const at = async (...flags: string[]) => {
    const r = await capture(() => evalCmd(['--refs', refs, '--data', heldout, '--cache-dir', cacheDir, '--json', ...flags]));
    assert.equal(r.code, 0);
    return JSON.parse(r.out) as { inScopeAccuracy: number; topAccuracy: number; oosRecall: number; threshold: number; minMargin: number };
  };
  const open = await at('--threshold=-1', '--min-margin', '0');
  assert.equal(open.threshold, -1);
  assert.equal(open.inScopeAccuracy, open.topAccuracy, 'nothing rejected');
  assert.equal(open.oosRecall, 0);
  const shut = await at('--threshold', '1', '--min-margin', '0.5');
  assert.equal(shut.minMargin, 0.5);
  assert.equal(shut.inScopeAccuracy, 0, 'everything rejected');
  assert.equal(shut.oosRecall, 1);

  const oosOnly = path.join(dir, 'oos-only.jsonl');
  await writeFile(oosOnly, jsonl(oos));
  const text = await capture(() => evalCmd(['--refs', refs, '--data', oosOnly, '--cache-dir', cacheDir]));
  assert.match(text.out, /in-scope accuracy {3}n\/a/);
  const fitted = await capture(() => fit(['--refs', refs, '--data', oosOnly, '--cache-dir', cacheDir, '--dry-run']));
  assert.equal(fitted.code, 0);
  assert.match(fitted.out, /in-scope accuracy n\/a, out-of-scope recall \d/);
});

test('the offline commands cache embeddings in the user cache folder, not the current one', async () => {
  assert.equal(userCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/u'), path.join('/x/cache', 'switchyard', 'embeddings'));
  assert.equal(userCacheDir({ XDG_CACHE_HOME: 'relative' }, 'linux', '/home/u'), path.join('/home/u', '.cache', 'switchyard', 'embeddings'));
  assert.equal(userCacheDir({}, 'darwin', '/Users/u'), path.join('/Users/u', 'Library', 'Caches', 'switchyard', 'embeddings'));
  const xdg = path.join(dir, 'xdg');
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = xdg;
  try {
    const refs = path.join(dir, 'xdg-refs');
    await capture(() => buildRefs(['--data', path.join(dir, 'train.jsonl'), '--per-label', '2', '--out', refs]));
    const r = await capture(() => evalCmd(['--refs', refs, '--data', path.join(dir, 'heldout.jsonl'), '--json']));
    assert.equal(r.code, 0);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
  const files = await readdir(path.join(xdg, 'switchyard', 'embeddings'));
  assert.equal(files.filter((f) => f.endsWith('.bin')).length, 1);
});

test('eval runs with either embedder variant; each keeps its own embedding-cache file', async () => {
  const refs = path.join(dir, 'variant-refs');
  const cacheDir = path.join(dir, 'variant-cache');
  await capture(() => buildRefs(['--data', path.join(dir, 'train.jsonl'), '--per-label', '5', '--out', refs]));
  const reports: Record<string, { embedder: string; topAccuracy: number }> = {};
  for (const quantized of ['true', 'false']) {
    const r = await capture(() => evalCmd(['--refs', refs, '--data', path.join(dir, 'heldout.jsonl'), '--cache-dir', cacheDir, '--quantized', quantized, '--json']));
    assert.equal(r.code, 0, r.out);
    reports[quantized] = JSON.parse(r.out);
  }
  assert.equal(reports.true.embedder, 'use-lite-512-int8u@0.2.0');
  assert.equal(reports.false.embedder, 'use-lite-512@0.2.0');
  for (const q of ['true', 'false']) assert.ok(reports[q].topAccuracy >= 5 / 6, `${q}: ranking accuracy ${reports[q].topAccuracy}`);
  const files = (await readdir(cacheDir)).filter((f) => f.endsWith('.bin')).sort();
  assert.equal(files.length, 2);
  assert.deepEqual(files.map((f) => f.replace(/-\w+\.bin$/, '')), ['use-lite-512-int8u_0.2.0', 'use-lite-512_0.2.0']);
  await assert.rejects(evalCmd(['--refs', refs, '--data', path.join(dir, 'heldout.jsonl'), '--quantized', 'maybe']), /--quantized must be true or false/);
});

test('missing arguments exit 2; --help exits 0', async () => {
  const err = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(await evalCmd([]), 2);
    assert.equal(await fit(['--refs', dir]), 2);
    assert.equal(await buildRefs(['--data', 'x']), 2);
  } finally {
    process.stderr.write = err;
  }
  assert.equal((await capture(() => evalCmd(['--help']))).code, 0);
});
