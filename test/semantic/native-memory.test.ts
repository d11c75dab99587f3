/**
 * Native memory the model frees is returned to the system: on glibc Linux the gateway fixes glibc's mmap threshold before
 * the model loads (its effect on RSS is measured by `npm run bench`, section cache: the model + 100k entries figure). Each
 * case runs in a fresh process, as the setting is process-wide and applied once.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { operatorTuned } from '../../src/semantic/embedder/native-memory.js';

const run = promisify(execFile);
const glibc = process.platform === 'linux'
  && typeof (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime === 'string';

async function applyInFreshProcess(env: NodeJS.ProcessEnv): Promise<string> {
  const code = `import(${JSON.stringify(new URL('../../src/semantic/embedder/native-memory.ts', import.meta.url).href)})`
    + '.then((m) => console.log(JSON.stringify([m.keepLargeBlocksMapped(), m.keepLargeBlocksMapped()])))';
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !operatorTuned({ [k]: process.env[k] })));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...clean, ...env } });
  return stdout.trim();
}

test('the operator\'s own allocator settings are recognised', () => {
  assert.equal(operatorTuned({ MALLOC_ARENA_MAX: '2' }), true);
  assert.equal(operatorTuned({ MALLOC_MMAP_THRESHOLD_: '65536' }), true);
  assert.equal(operatorTuned({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=131072' }), true);
  assert.equal(operatorTuned({ GLIBC_TUNABLES: 'glibc.pthread.rseq=0', PATH: '/usr/bin', NODE_ENV: 'production' }), false);
});

test('on glibc Linux the threshold is fixed once per process', { skip: !glibc && 'glibc Linux only' }, async () => {
  assert.equal(await applyInFreshProcess({}), '[true,true]');
});

test('the threshold is left to the operator who tunes the allocator', { skip: !glibc && 'glibc Linux only' }, async () => {
  assert.equal(await applyInFreshProcess({ MALLOC_ARENA_MAX: '2' }), '[false,false]');
  assert.equal(await applyInFreshProcess({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=1048576' }), '[false,false]');
});

test('elsewhere nothing is changed', { skip: glibc && 'not glibc Linux: covered where it applies' }, async () => {
  assert.equal(await applyInFreshProcess({}), '[false,false]');
});
