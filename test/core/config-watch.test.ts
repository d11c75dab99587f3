/**
 * The config watcher reloads when the file it was given changes, however the change is made: written in place, or — as in
 * a Kubernetes ConfigMap volume, where the file is a link through `..data` — by swapping a link elsewhere in the folder.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { watchConfig } from '../../src/config/watch.js';
import type { Config } from '../../src/config/schema.js';
import { quietLogger } from '../helpers/config.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** Resolves with the next applied config, or undefined after `ms` (a generous bound: a reload settles in under a second). */
function nextApply(applied: Config[], ms = 10_000): Promise<Config | undefined> {
  const start = applied.length;
  return new Promise((resolve) => {
    const deadline = Date.now() + ms;
    const poll = setInterval(() => {
      if (applied.length > start || Date.now() > deadline) {
        clearInterval(poll);
        resolve(applied[start]);
      }
    }, 25);
  });
}

it('a ConfigMap-style swap of the ..data link reloads the config', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-watch-'));
  dirs.push(dir);
  const version = async (n: number): Promise<string> => {
    const d = `..2026_${n}`;
    await mkdir(path.join(dir, d));
    await writeFile(path.join(dir, d, 'config.yaml'), `server: { port: ${8000 + n} }\n`);
    return d;
  };
  await symlink(await version(1), path.join(dir, '..data'));
  await symlink(path.join('..data', 'config.yaml'), path.join(dir, 'config.yaml'));
  const applied: Config[] = [];
  const w = watchConfig(path.join(dir, 'config.yaml'), (c) => void applied.push(c), quietLogger, 20);
  try {
    await new Promise((r) => setTimeout(r, 100)); // the watcher has noted what the file resolves to
    const next = nextApply(applied);
    // What the kubelet does: a new timestamped folder, a new link to it, renamed over ..data, the old folder removed.
    await symlink(await version(2), path.join(dir, '..data_tmp'));
    await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    await rm(path.join(dir, '..2026_1'), { recursive: true });
    assert.equal((await next)?.server.port, 8002);

    // An unrelated file changing beside the config reloads nothing.
    const none = nextApply(applied, 1_000);
    await writeFile(path.join(dir, 'notes.txt'), 'x');
    assert.equal(await none, undefined);
  } finally {
    w.close();
  }
});

it('after its folder is replaced, the config in the new folder is applied and its edits are watched', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'switchyard-watch-'));
  dirs.push(root);
  const conf = path.join(root, 'conf');
  await mkdir(conf);
  await writeFile(path.join(conf, 'config.yaml'), 'server: { port: 8001 }\n');
  await mkdir(path.join(root, 'conf.new'));
  await writeFile(path.join(root, 'conf.new', 'config.yaml'), 'server: { port: 8002 }\n');
  const applied: Config[] = [];
  const w = watchConfig(path.join(conf, 'config.yaml'), (c) => void applied.push(c), quietLogger, 20);
  try {
    await new Promise((r) => setTimeout(r, 100));
    const swapped = nextApply(applied);
    await rename(conf, path.join(root, 'conf.old'));
    await rename(path.join(root, 'conf.new'), conf);
    assert.equal((await swapped)?.server.port, 8002);
    const edited = nextApply(applied);
    await writeFile(path.join(conf, 'config.yaml'), 'server: { port: 8003 }\n');
    assert.equal((await edited)?.server.port, 8003);
  } finally {
    w.close();
  }
});
