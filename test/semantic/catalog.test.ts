import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CatalogError, loadCatalog } from '../../src/semantic/catalog/load.js';
import { writeThresholds } from '../../src/semantic/catalog/write.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'refs-'));
  dirs.push(dir);
  await Promise.all(Object.entries(files).map(([n, t]) => writeFile(path.join(dir, n), t)));
  return dir;
}

const codeYaml = `# coding prompts
name: code
description: Code things.
metadata:
  tier: complex
examples:
  - write a function
  - fix this bug
`;

test('loads yaml and line files; README and _ files are not categories', async () => {
  const dir = await folder({
    'code.yaml': codeYaml,
    'chat.md': '# description: Small talk\n# a comment\n\nhello there\nhow are you\n',
    'README.md': '# not a category\n',
    '_settings.yaml': 'threshold: 0.4\nmin_margin: 0.05\n',
  });
  const c = await loadCatalog(dir);
  assert.deepEqual(c.categories.map((x) => x.name), ['chat', 'code']);
  const chat = c.categories[0];
  assert.equal(chat.description, 'Small talk');
  assert.deepEqual(chat.examples, ['hello there', 'how are you']);
  assert.deepEqual(c.categories[1].metadata, { tier: 'complex' });
  assert.deepEqual(c.settings, { threshold: 0.4, min_margin: 0.05 });
});

test('validation errors name file and line', async () => {
  const dir = await folder({
    'bad.yaml': 'name: bad\nexamples:\n  - fine\n  - 42\nthreshold: 3\n',
    'broken.yaml': 'name: x\nexamples: [unclosed\n',
  });
  const err = await loadCatalog(dir).then(
    () => assert.fail('expected a CatalogError'),
    (e: unknown) => e as CatalogError,
  );
  assert.ok(err instanceof CatalogError);
  const text = err.problems.join('\n');
  assert.match(text, /bad\.yaml:4: examples\.1:/);
  assert.match(text, /bad\.yaml:5: threshold:/);
  assert.match(text, /broken\.yaml:\d+: /);
});

test('an alias without its anchor is a problem with file and line, in a category or the settings file', async () => {
  const dir = await folder({
    'code.yaml': 'name: code\nexamples:\n  - write a function\n  - *nope\n',
    '_settings.yaml': 'threshold: *t\n',
  });
  await assert.rejects(loadCatalog(dir), (e: unknown) => {
    assert.ok(e instanceof CatalogError, String(e));
    const text = e.problems.join('\n');
    assert.match(text, /code\.yaml:4: alias \*nope has no anchor/);
    assert.match(text, /_settings\.yaml:1: alias \*t has no anchor/);
    return true;
  });
});

test('an unknown tier is refused with file and line; the shipped reference prompts load', async () => {
  const dir = await folder({ 'math.yaml': 'name: math\nmetadata:\n  model: x/y\n  tier: reasoning\nexamples: [a]\n' });
  await assert.rejects(loadCatalog(dir), (e: CatalogError) => /math\.yaml:4: metadata\.tier: /.test(e.problems.join('\n')));
  const shipped = await loadCatalog(new URL('../../reference-prompts', import.meta.url).pathname);
  assert.ok(shipped.categories.length >= 5);
});

test('the shipped example folders load: small sets of reference prompts, not copies of datasets', async () => {
  for (const [dir, names] of [
    ['task-types', ['chit_chat', 'code', 'creative_writing', 'customer_support', 'knowledge_qa', 'math']],
    ['academic-domains', ['biology', 'business', 'chemistry', 'computer_science', 'economics', 'engineering', 'health', 'history', 'law', 'math', 'other', 'philosophy', 'physics', 'psychology']],
  ] as const) {
    const c = await loadCatalog(new URL(`../../reference-prompts/examples/${dir}`, import.meta.url).pathname);
    assert.deepEqual(c.categories.map((x) => x.name).sort(), names, dir);
    for (const x of c.categories) assert.ok(x.examples.length >= 15 && x.examples.length <= 30, `${dir}/${x.name}: ${x.examples.length}`);
  }
});

test('a category defined twice is an error naming both files', async () => {
  const dir = await folder({ 'code.yaml': codeYaml, 'other.txt': '', 'code.txt': 'write code\n' });
  await assert.rejects(loadCatalog(dir), (e: CatalogError) => {
    const text = e.problems.join('\n');
    return /code\.yaml:1: category 'code' is already defined in .*code\.txt/.test(text) && /other\.txt:1: no examples/.test(text);
  });
});

test('"none" holds out-of-scope examples and takes no threshold; "unavailable" is reserved', async () => {
  const ok = await loadCatalog(await folder({ 'none.txt': 'what is the weather\n', 'code.yaml': codeYaml }));
  assert.deepEqual(ok.categories.map((c) => c.name).sort(), ['code', 'none']);
  await assert.rejects(loadCatalog(await folder({ 'x.yaml': 'name: none\nthreshold: 0.5\nexamples: [a]\n' })), /x\.yaml:1: 'none' .*no threshold/);
  await assert.rejects(loadCatalog(await folder({ 'none.md': '# threshold: 0.5\nhello\n' })), /none\.md:1: 'none' .*no threshold/);
  await assert.rejects(loadCatalog(await folder({ 'x.yaml': 'name: unavailable\nexamples: [a]\n' })), /reserved/);
});

test('writing thresholds keeps comments and other content', async () => {
  const dir = await folder({ 'code.yaml': codeYaml, 'chat.txt': '# threshold: 0.3\nhello\n', 'misc.md': 'hey\n' });
  const c = await loadCatalog(dir);
  const written = await writeThresholds(c, new Map([['code', 0.61], ['misc', 0.52]]), { threshold: 0.5, min_margin: 0.1 });
  assert.equal(written.length, 4);
  const code = await readFile(path.join(dir, 'code.yaml'), 'utf8');
  assert.match(code, /^# coding prompts/);
  assert.match(code, /threshold: 0.61/);
  assert.match(code, /tier: complex/);
  assert.equal(await readFile(path.join(dir, 'chat.txt'), 'utf8'), 'hello\n');
  assert.equal(await readFile(path.join(dir, 'misc.md'), 'utf8'), '# threshold: 0.52\nhey\n');
  const again = await loadCatalog(dir);
  assert.deepEqual(again.settings, { threshold: 0.5, min_margin: 0.1 });
  assert.equal(again.categories.find((x) => x.name === 'code')?.threshold, 0.61);
  assert.equal(again.categories.find((x) => x.name === 'chat')?.threshold, undefined);
});

test('category files that are symbolic links load like files (a Kubernetes ConfigMap volume holds only links)', async () => {
  const dir = await folder({ 'math.txt': 'solve for x\n' });
  await mkdir(path.join(dir, '..data'));
  await writeFile(path.join(dir, '..data', 'code.yaml'), codeYaml);
  await symlink(path.join('..data', 'code.yaml'), path.join(dir, 'code.yaml'));
  await symlink(path.join(dir, '..data'), path.join(dir, 'linked-dir.yaml'));
  const c = await loadCatalog(dir);
  assert.deepEqual(c.categories.map((x) => x.name), ['code', 'math']);
});
