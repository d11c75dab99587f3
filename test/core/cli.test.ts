/** The `switchyard` command line: help at the top level, and numbers that are checked before anything runs. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseFlags, parseNumber } from '../../src/commands/flags.js';
import { cliArgs, REPO } from '../helpers/gateway-process.js';

function switchyard(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, cliArgs(...args), { cwd: REPO, env: { PATH: process.env.PATH, ...env }, timeout: 60_000 }, (error, out, err) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err });
    });
  });
}

describe('switchyard command line', () => {
  it('-h prints the usage and exits 0', async () => {
    const r = await switchyard(['-h']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Usage: switchyard \[options\]/);
    assert.match(r.out, /cache-eval/);
  });

  it('a flag or PORT that is not a number is a usage error, before anything starts', async () => {
    const env = await switchyard([], { PORT: '80x' });
    assert.equal(env.code, 2);
    assert.match(env.err, /PORT must be an integer 0-65535, got '80x'/);
    const limit = await switchyard(['cache-eval', '--data', 'pairs.jsonl', '--limit', 'abc']);
    assert.equal(limit.code, 2);
    assert.match(limit.err, /--limit must be an integer >= 0, got 'abc'/);
    assert.match(limit.err, /Usage: switchyard cache-eval/);
  });

  it('parseFlags converts declared numbers and rejects what does not fit, naming the flag', () => {
    const opts = { n: { type: 'number', integer: true, min: 1 }, t: { type: 'number', min: 0, max: 1, default: 0.5 }, help: { type: 'boolean' } } as const;
    const quiet = process.stderr.write;
    let err = '';
    process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
    try {
      assert.deepEqual({ ...(parseFlags(['--n', '3'], opts, 'usage') as object) }, { n: 3, t: 0.5 });
      assert.deepEqual({ ...(parseFlags(['--n', '2', '--t', '0.25'], opts, 'usage') as object) }, { n: 2, t: 0.25 });
      for (const bad of [['--n', '0'], ['--n', '1.5'], ['--n', ''], ['--t', '2'], ['--t', 'NaN'], ['--t', 'Infinity']]) {
        assert.equal(parseFlags(bad, opts, 'usage'), 2, bad.join(' '));
      }
      assert.equal(parseFlags(['--port', 'abc'], { port: { type: 'number', integer: true, min: 0, max: 65535 }, help: { type: 'boolean' } }, 'usage'), 2);
    } finally {
      process.stderr.write = quiet;
    }
    assert.match(err, /--n must be an integer >= 1, got '0'/);
    assert.match(err, /--port must be an integer 0-65535, got 'abc'/);
    assert.match(err, /--t must be a number 0-1, got '2'/);
    assert.throws(() => parseNumber(' ', { integer: true }, 'PORT'), /PORT must be an integer, got ' '/);
  });
});
