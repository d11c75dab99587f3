import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPairModel } from '../../src/cache/pair-scorer.js';
import { cliArgs, REPO } from '../helpers/gateway-process.js';

/** Runs the command in a child process (the test runner itself reports through stdout). */
function cacheEval(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const args = argv.includes('--cache-dir') ? argv : [...argv, '--cache-dir', ''];
    execFile(process.execPath, cliArgs('cache-eval', ...args), { cwd: REPO, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

/** Made-up pairs: a rewording of the same request is a duplicate, the same request about a different thing is not. */
function pairsFile(dir: string): string {
  const verbs = ['clean', 'repair', 'paint', 'sell', 'insure', 'store', 'move', 'replace'];
  const things = [['a leather sofa', 'a fabric sofa'], ['a wooden fence', 'a metal fence'], ['an old laptop', 'a new laptop'],
    ['a road bicycle', 'an electric bicycle'], ['a kitchen sink', 'a bathroom sink'], ['a garden shed', 'a garden pond']];
  const rows: string[] = [];
  for (const v of verbs) {
    for (const [t, other] of things) {
      const same = JSON.stringify({ a: `How do I ${v} ${t}?`, b: `How can I ${v} ${t}?`, duplicate: true });
      const different = JSON.stringify({ a: `How do I ${v} ${t}?`, b: `How do I ${v} ${other}?`, duplicate: false });
      // Alternate the order so that even and odd lines (the cross-validation halves) both hold both kinds.
      rows.push(...(rows.length % 4 === 0 ? [same, different] : [different, same]));
    }
  }
  const file = join(dir, 'pairs.jsonl');
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

describe('switchyard cache-eval', () => {
  it('--fit writes a model the guard can load, and evaluation uses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cache-eval-'));
    const data = pairsFile(dir);
    const out = join(dir, 'model.json');
    const cacheDir = join(dir, 'embeddings');
    const fit = await cacheEval(['--fit', '--data', data, '--out', out, '--recall', '0.5', '--cache-dir', cacheDir, '--json']);
    assert.equal(fit.code, 0, fit.err);
    assert.equal(readdirSync(cacheDir).length, 1, 'the embeddings are kept in the cache folder');
    const report = JSON.parse(fit.out);
    assert.deepEqual(report.report.folds.map((f: { reported: number; tuned_on: number }) => [f.reported, f.tuned_on]), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0]]);
    assert.equal(report.report.pooled[0].name, 'pairs.jsonl');
    assert.deepEqual(report.files, [{ name: 'pairs.jsonl', pairs: 96, duplicates: 48 }], 'the report says how many pairs each file had');
    const model = loadPairModel(out);
    assert.equal(report.model.threshold, model.threshold);
    assert.ok([0.83, 0.85, 0.87, 0.89].includes(model.threshold));
    assert.equal(model.dim, 512);
    assert.equal(model.embedder, 'use-lite-512@0.2.0');
    assert.equal(model.trees.length, 50);
    assert.doesNotMatch(readFileSync(out, 'utf8'), /bicycle|sofa/, 'the model holds numbers, never the training text');

    const evaluated = await cacheEval(['--data', data, '--model', out, '--cache-dir', cacheDir, '--json']);
    assert.equal(evaluated.code, 0, evaluated.err);
    const r = JSON.parse(evaluated.out);
    assert.equal(r.pairs, 96);
    assert.equal(r.threshold, model.threshold, 'a model file brings its threshold');
    assert.equal(r.scorer_cutoff, model.cutoff);
    assert.equal(r.sweep_min_score.length, 7);
    assert.ok(r.configured.recall >= 0.5, `recall ${r.configured.recall}`);

    const rulesOnly = JSON.parse((await cacheEval(['--data', data, '--no-scorer', '--json', '--limit', '10'])).out);
    assert.equal(rulesOnly.scorer_cutoff, undefined);
    assert.deepEqual(rulesOnly.sweep_min_score, []);
  });

  it('--at-recall reports, per knob, the setting chosen on one half and its precision on the other', async () => {
    const data = pairsFile(mkdtempSync(join(tmpdir(), 'cache-eval-')));
    const r = await cacheEval(['--data', data, '--at-recall', '0.5', '--json']);
    assert.equal(r.code, 0, r.err);
    const at = JSON.parse(r.out).at_recall as Array<{ knob: string; recall_target: number; folds: Array<{ chosen_on: string; chosen?: { recall: number }; held_out?: { precision: number; recall: number } }> }>;
    assert.deepEqual(at.map((k) => k.knob), ['cosine_threshold', 'guard_threshold', 'min_score']);
    const cosine = at[0];
    assert.equal(cosine.recall_target, 0.5);
    assert.deepEqual(cosine.folds.map((f) => f.chosen_on), ['even', 'odd']);
    for (const f of cosine.folds) {
      assert.ok(f.chosen && f.chosen.recall >= 0.5, 'the chosen setting reaches the recall on its own half');
      assert.ok(f.held_out && f.held_out.precision >= 0 && f.held_out.precision <= 1);
    }
    const text = await cacheEval(['--data', data, '--at-recall', '0.5', '--no-guard']);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /precision at recall >= 50\.0%[^\n]*\n {2}cosine_threshold:\n {4}chosen on even lines /);
    assert.doesNotMatch(text.out, /guard_threshold/);
    assert.equal((await cacheEval(['--data', data, '--at-recall', '1.5'])).code, 2);
  });

  it('refuses bad flags', async () => {
    assert.equal((await cacheEval(['--fit', '--data', 'x.jsonl'])).code, 2);
    assert.equal((await cacheEval(['--data', 'x.jsonl', '--min-score', '2'])).code, 2);
    assert.equal((await cacheEval([])).code, 2);
    const missing = await cacheEval(['--data', join(tmpdir(), 'no-such-pairs.jsonl')]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read/);
  });
});
